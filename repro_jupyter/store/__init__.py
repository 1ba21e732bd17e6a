"""The sidecar store next to a notebook: ``.repro/objects`` plus ``.repro/catalog.sqlite``.

``open_store`` finds or creates the store for a notebook directory.  When that
directory is read-only the store falls back to a per-user cache location (named
in the warning), derived from the notebook's path so every tool finds it again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import StoreError
from .catalog import Catalog
from .objects import ObjectStore

STORE_DIRNAME = ".repro"


def fallback_root(notebook_dir: Path) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(Path(notebook_dir).resolve()).encode()).hexdigest()[:16]
    return base / "repro-jupyter" / "stores" / key / STORE_DIRNAME


def configured_root(notebook_dir: Path) -> Path:
    """The store location: ``REPRO_JUPYTER_STORE`` if set, else ``.repro`` beside the notebook."""
    override = os.environ.get("REPRO_JUPYTER_STORE")
    if override:
        return Path(override).expanduser()
    return Path(notebook_dir) / STORE_DIRNAME


@dataclass
class Store:
    root: Path
    fallback_reason: str | None = None
    objects: ObjectStore = field(init=False)
    _catalog: Catalog | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.objects = ObjectStore(self.root)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            try:
                self._catalog = Catalog(self.root / "catalog.sqlite")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the catalog of {self.root}: {exc}") from None
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


def _writable(root: Path) -> str | None:
    """None when ``root`` can hold a store, else the reason it cannot."""
    if root.exists() and not root.is_dir():
        return f"{root} exists and is not a directory"
    try:
        (root / "objects").mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"{root} is not writable ({exc.strerror or exc})"
    return None


def open_store(notebook_dir: str | os.PathLike[str], *, create: bool = True) -> Store:
    """The store for notebooks in ``notebook_dir`` (falling back when that place is read-only)."""
    notebook_dir = Path(notebook_dir)
    primary = configured_root(notebook_dir)
    if not create:
        for candidate in (primary, fallback_root(notebook_dir)):
            if (candidate / "objects").is_dir():
                return Store(candidate)
        raise StoreError(f"no repro store found at {primary} (was this notebook recorded?)")
    reason = _writable(primary)
    if reason is None:
        return Store(primary)
    fallback = fallback_root(notebook_dir)
    fallback_problem = _writable(fallback)
    if fallback_problem is None:
        return Store(fallback, fallback_reason=f"{reason}; using {fallback} instead")
    raise StoreError(f"cannot create a repro store: {reason}; fallback {fallback_problem}")


__all__ = ["Store", "open_store", "StoreError", "STORE_DIRNAME", "fallback_root"]
