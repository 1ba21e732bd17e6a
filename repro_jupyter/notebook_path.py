"""Where is the notebook this kernel runs?

The store lives next to the notebook, and the notebook's saved metadata holds
the master seed, so the kernel needs the path.  Jupyter Server tells kernels via
``JPY_SESSION_NAME`` (the notebook path; relative to the server root in older
servers, absolute in newer ones) and starts them in the notebook's directory;
the headless runner passes the path explicitly.  Without either, the current
directory is used and the notebook is unknown.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .schema import METADATA_KEY
from .store import STORE_DIRNAME


@dataclass
class NotebookLocation:
    """Which notebook this kernel runs: its folder (where the store goes) and
    its path, None when unknown (the folder is then the working directory)."""

    directory: Path
    path: Path | None = None
    extra_excludes: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls) -> NotebookLocation:
        """From ``JPY_SESSION_NAME`` (absolute, or its name in the working directory) when
        that is an existing ``.ipynb``; else the working directory, notebook unknown."""
        cwd = Path.cwd()
        name = os.environ.get("JPY_SESSION_NAME")
        if name:
            candidate = Path(name)
            for path in (candidate, cwd / candidate.name):
                if path.is_absolute() and path.suffix == ".ipynb" and path.is_file():
                    return cls(path.parent, path)
        return cls(cwd, None)

    def relative_name(self) -> str | None:
        """The notebook's file name (how the catalog names it), None when unknown."""
        return self.path.name if self.path else None

    def git_exclude(self) -> list[str]:
        """Paths (relative to the notebook directory) that must not count as 'dirty'."""
        excludes = [STORE_DIRNAME, *self.extra_excludes]
        if self.path is not None:
            excludes.append(self.path.name)
        return excludes

    def recorded_master_seed(self) -> int | None:
        """The master seed saved in the notebook file, if any (the frontend is the writer)."""
        if self.path is None:
            return None
        try:
            with open(self.path, encoding="utf-8") as fh:
                meta = json.load(fh).get("metadata", {}).get(METADATA_KEY, {})
            seed = meta.get("master_seed")
            return int(seed) if isinstance(seed, int) and seed >= 0 else None
        except (OSError, ValueError, AttributeError):
            return None
