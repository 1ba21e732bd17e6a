"""A recorded notebook as an export reads it: the notebook, its metadata, the records and the
environment its pointers name (schema-checked by the store), and where it sits in its git repository."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NotebookError
from ..notebook_io import read_notebook
from ..schema import METADATA_KEY
from ..store import Store, open_store


def git_toplevel(folder: Path) -> Path | None:
    """The root of the git work tree holding ``folder``; None
    outside one, without git, or when git hangs (10 s)."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    top = proc.stdout.strip()
    return Path(top) if proc.returncode == 0 and top else None


def relative_to(path: Path, top: Path | None) -> str | None:
    """``path`` relative to ``top`` (symlinks resolved) in POSIX
    form; None without a top or when the path lies outside it."""
    if top is None:
        return None
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(top))
    return None if rel == ".." or rel.startswith(".." + os.sep) else Path(rel).as_posix()


@dataclass
class Recorded:
    """The notebook and what its metadata points at, loaded once."""

    path: Path
    nb: Any
    meta: dict[str, Any]
    store: Store
    env_digest: str
    env: dict[str, Any]
    cells: list[tuple[int, Any, dict[str, Any], dict[str, Any]]]  # (index, cell, cell meta, record)
    repo_top: Path | None
    rel_path: str


def load_recorded(path: Path) -> Recorded:
    """Read a recorded notebook with its records and environment from its store (read-only);
    NotebookError when it was not recorded, StoreError when the store or an object is missing."""
    nb = read_notebook(path)
    meta = nb.metadata.get(METADATA_KEY)
    if not meta:
        raise NotebookError(f"{path}: not recorded with repro-jupyter (run `jupyter repro run {path}` first)")
    env_digest = meta.get("environment")
    if not env_digest:
        raise NotebookError(f"{path}: the recording names no environment")
    store = open_store(path.resolve().parent, create=False)
    cells = []
    for index, cell in enumerate(nb.cells):
        cell_meta = cell.metadata.get(METADATA_KEY) if cell.cell_type == "code" else None
        if cell_meta and cell_meta.get("record"):
            cells.append((index, cell, dict(cell_meta), store.objects.get_record(cell_meta["record"])))
    top = git_toplevel(path.resolve().parent)
    return Recorded(
        path=path,
        nb=nb,
        meta=dict(meta),
        store=store,
        env_digest=env_digest,
        env=store.objects.get_environment(env_digest),
        cells=cells,
        repo_top=top,
        rel_path=relative_to(path, top) or path.name,
    )
