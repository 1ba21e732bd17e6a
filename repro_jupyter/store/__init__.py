"""The sidecar store next to a notebook: ``.repro/objects`` plus ``.repro/catalog.sqlite``.

``open_store`` finds or creates the store for a notebook directory.  When that
directory is read-only the store falls back to a per-user cache location (named
in the warning), derived from the notebook's path so every tool finds it again:
a reader looks first where a writer would write now, and reads objects from both
places (records of an earlier run may sit in the other one).
A team store on an fsspec URL (``location.py``) is a local cache with the same
layout plus a remote tier (``remote.py``) and a catalog journal (``journal.py``);
everything else reaches either kind only through ``Store.objects`` and ``Store.catalog``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ReproWarning, StoreError
from .catalog import Catalog
from .location import STORE_DIRNAME, StoreLocation, resolve_location
from .objects import ObjectStore

if TYPE_CHECKING:
    from .journal import PushReport
    from .remote import RemoteTier

PULL_INTERVAL_S = 2.0  # readers opened again within this time (the server's requests) skip the listing
_LAST_PULL: dict[str, float] = {}


def fallback_root(notebook_dir: Path) -> Path:
    """Where the store goes when ``notebook_dir`` is read-only: a per-user cache folder keyed
    by the notebook folder's resolved path, so writers and readers find the same one."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(Path(notebook_dir).resolve()).encode()).hexdigest()[:16]
    return base / "repro-jupyter" / "stores" / key / STORE_DIRNAME


def configured_root(notebook_dir: Path) -> Path:
    """The local store folder (for a team store: its cache); see ``location.resolve_location``."""
    return resolve_location(notebook_dir).path


class _FallbackObjects(ObjectStore):
    """Objects read from the first of several local stores that has them (a reader's view of a
    notebook store and its read-only fallback)."""

    def __init__(self, root: Path, others: tuple[Path, ...]) -> None:
        super().__init__(root)
        self._others = [ObjectStore(other) for other in others]

    def path_for(self, digest: str) -> Path:
        path = super().path_for(digest)
        if path.is_file():
            return path
        for other in self._others:
            candidate = other.path_for(digest)
            if candidate.is_file():
                return candidate
        return path


@dataclass
class Store:
    """One opened store: local objects (plus a read-only fallback, or a remote tier for a team store)
    and a catalog opened on first use; ``fallback_reason`` says why it is not where the notebook is."""

    root: Path  # the local store; for a team store, its local cache
    fallback_reason: str | None = None
    remote: RemoteTier | None = None
    also: tuple[Path, ...] = ()  # readers only: further local stores objects are read from
    objects: ObjectStore = field(init=False)
    _catalog: Catalog | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.remote is not None:
            from .remote import TieredObjects

            self.objects = TieredObjects(self.root, self.remote)
        elif self.also:
            self.objects = _FallbackObjects(self.root, self.also)
        else:
            self.objects = ObjectStore(self.root)

    @property
    def url(self) -> str | None:
        """The team store's credential-free URL, or None for a local store."""
        return self.remote.url if self.remote is not None else None

    def describe(self) -> str:
        """Where this store is, for messages: the team store's
        URL with its cache folder, else the local folder."""
        return f"{self.remote.url} (cache {self.root})" if self.remote is not None else str(self.root)

    @property
    def catalog(self) -> Catalog:
        """The run log, opened on first use (journaled for a
        team store); StoreError when SQLite cannot open it."""
        if self._catalog is None:
            try:
                if self.remote is not None:
                    from .journal import JournaledCatalog

                    self._catalog = JournaledCatalog(self.root / "catalog.sqlite", self.remote.url)
                else:
                    self._catalog = Catalog(self.root / "catalog.sqlite")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the catalog of {self.root}: {exc}") from None
        return self._catalog

    def push(self, *, everyone: bool = False) -> PushReport | None:
        """Upload what this writer (or, with ``everyone``, this cache) has not sent; None if local."""
        if self.remote is None:
            return None
        from .journal import push

        return push(self, everyone=everyone)

    def pull(self) -> int:
        """Import the team's catalog entries not seen yet; 0 for a local store."""
        if self.remote is None:
            return 0
        from .journal import pull

        count = pull(self)
        _LAST_PULL[str(self.root)] = time.monotonic()
        return count

    def close(self) -> None:
        """Close the catalog connection, if open; ``catalog`` reopens it on the next use."""
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


def _is_dir(path: Path) -> bool:
    """``Path.is_dir`` that says no, rather than raise, for a name too long for the file system."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _writable(root: Path) -> str | None:
    """None when ``root`` can hold a store (catalog and objects can be written), else the reason."""
    try:
        if root.exists() and not root.is_dir():
            return f"{root} exists and is not a directory"
        (root / "objects").mkdir(parents=True, exist_ok=True)
        for folder in (root, root / "objects"):
            probe = folder / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
    except OSError as exc:
        return f"{root} is not writable ({exc.strerror or exc})"
    return None


def looks_writable(root: Path) -> bool:
    """Whether a writer would use ``root`` (``_writable`` without creating anything): readers look
    first where records go now.  ``os.access`` sees read-only mounts and immutable folders, for root too."""
    try:
        return _looks_writable(root)
    except OSError:  # e.g. a name too long for the file system
        return False


def _looks_writable(root: Path) -> bool:
    if root.exists():
        folders = [root] + ([root / "objects"] if (root / "objects").exists() else [])
        return root.is_dir() and all(os.access(f, os.W_OK | os.X_OK) for f in folders)
    parent = root.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def _open_remote(location: StoreLocation, create: bool) -> Store:
    """A team store: the local cache, plus (for readers) the team's catalog entries pulled in."""
    from .remote import RemoteTier

    assert location.url is not None and location.connect_url is not None
    remote = RemoteTier(location.connect_url, location.url, location.options)
    problem = _writable(location.path)
    if problem is not None:
        raise StoreError(f"cannot create the local cache of {location.url}: {problem}")
    store = Store(location.path, remote=remote)
    if create:
        return store
    last = _LAST_PULL.get(str(store.root))
    if last is not None and time.monotonic() - last < PULL_INTERVAL_S:
        return store
    try:
        store.pull()
    except StoreError as exc:
        store.fallback_reason = f"{exc}; using the local cache {store.root}"
        warnings.warn(store.fallback_reason, ReproWarning, stacklevel=2)
    known = "SELECT EXISTS(SELECT 1 FROM runs) OR EXISTS(SELECT 1 FROM environments)"
    if not store.catalog._conn.execute(known).fetchone()[0]:
        store.close()
        raise StoreError(
            store.fallback_reason or f"no repro store found at {location.url} (was this notebook recorded?)"
        )
    return store


def open_store(notebook_dir: str | os.PathLike[str], *, create: bool = True, url: str | None = None) -> Store:
    """The store for notebooks in ``notebook_dir`` (falling back when that place is read-only).

    ``url`` is the magics' ``store_url`` setting (wins over the environment and
    ``pyproject.toml``).  Readers (``create=False``) of a team store first import
    the catalog entries other writers published.
    """
    notebook_dir = Path(notebook_dir)
    location = resolve_location(notebook_dir, url)
    if location.remote:
        return _open_remote(location, create)
    primary = location.path
    if not create:
        fallback = fallback_root(notebook_dir)
        order = (primary, fallback) if looks_writable(primary) else (fallback, primary)
        found = [c for c in order if _is_dir(c / "objects")]
        if found:
            reason = f"{primary} is read-only; reading {fallback}" if found[0] == fallback else None
            return Store(found[0], fallback_reason=reason, also=tuple(found[1:]))
        raise StoreError(f"no repro store found at {primary} (was this notebook recorded?)")
    reason = _writable(primary)
    if reason is None:
        return Store(primary)
    fallback = fallback_root(notebook_dir)
    fallback_problem = _writable(fallback)
    if fallback_problem is None:
        return Store(fallback, fallback_reason=f"{reason}; using {fallback} instead")
    raise StoreError(f"cannot create a repro store: {reason}; fallback {fallback_problem}")


__all__ = [
    "Store",
    "open_store",
    "StoreError",
    "STORE_DIRNAME",
    "fallback_root",
    "looks_writable",
    "resolve_location",
]
