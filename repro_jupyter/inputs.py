"""Input data hashes: declared paths (``--inputs``) and files a cell opens for reading.

Files are hashed by streaming (1 MiB chunks), so big files cost time but not
memory.  Opened files are seen through one ``sys.addaudithook`` 'open' hook,
installed once per process (audit hooks cannot be removed) and reduced to a flag
check while no recorded cell runs.  Library, cache and system paths are ignored:
a cell reading ``data.csv`` matters, matplotlib reading its font cache does not.
"""

from __future__ import annotations

import hashlib
import os
import sys
import sysconfig
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
DEFAULT_SIZE_CAP = 1 << 30  # auto-detected files above this are listed but not hashed
_IGNORED_SUFFIXES = (".py", ".pyc", ".pyi", ".so", ".pth", ".ipynb", ".mo", ".ttf", ".otf", ".afm")


@lru_cache(maxsize=1)
def _ignored_prefixes() -> tuple[str, ...]:
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        "/usr",
        "/etc",
        "/proc",
        "/sys",
        "/dev",
        "/lib",
        "/opt/conda",
        "/run",
        "/var/lib",
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            paths.add(sysconfig.get_path(key))
        except KeyError:
            pass
    home = Path.home()
    paths.update(
        str(home / d)
        for d in (".cache", ".config", ".local", ".ipython", ".jupyter", ".matplotlib", ".keras", ".nv")
    )
    return tuple(sorted(p.rstrip("/") + "/" for p in paths if p))


def display_path(path: Path, base: Path | None) -> str:
    """Relative to the notebook, else ``~/...`` under home, else relative to the notebook with ``..``:
    never a host-specific absolute path (as the docs promise), declared absolute paths included."""
    path = Path(os.path.abspath(path))
    if base is not None:
        try:
            if path.is_relative_to(base.resolve()) or path.is_relative_to(base):
                return os.path.relpath(path, base)
        except ValueError:
            pass
    home = _home_relative(path)
    if home is not None:
        return home
    try:
        return os.path.relpath(path, base if base is not None else Path.cwd())
    except ValueError:  # pragma: no cover - another drive on Windows: nothing relative exists
        return path.as_posix()


def _home_relative(path: Path) -> str | None:
    home = Path.home()
    if home == Path(home.anchor):  # HOME=/ (some containers): "~" would say nothing
        return None
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return None


def hash_file(path: Path) -> tuple[str, int]:
    """(``sha256:<hex>``, size in bytes) of a file, streamed in chunks; OSError propagates."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size


def hash_path(path: Path, base: Path | None, how: str, size_cap: int | None = None) -> dict[str, Any]:
    """A record for one declared or opened path (a directory hashes names and contents, sorted)."""
    entry: dict[str, Any] = {"path": display_path(path, base), "how": how}
    try:
        if path.is_dir():
            entry["kind"] = "directory"
            h = hashlib.sha256()
            count = total = 0
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                digest, size = hash_file(file)
                h.update(f"{file.relative_to(path).as_posix()}\0{digest}\n".encode())
                count += 1
                total += size
            entry.update(digest="sha256:" + h.hexdigest(), size=total, files=count)
            return entry
        entry["kind"] = "file"
        size = path.stat().st_size
        if size_cap is not None and size > size_cap:
            entry.update(size=size, skipped=f"larger than the {size_cap} byte cap for opened files")
            return entry
        digest, size = hash_file(path)
        entry.update(digest=digest, size=size)
    except FileNotFoundError:
        entry.setdefault("kind", "file")
        entry["skipped"] = "does not exist"
    except OSError as exc:
        entry.setdefault("kind", "file")
        entry["skipped"] = f"cannot read: {exc.strerror or exc}"
    return entry


class OpenedFiles:
    """Collects paths opened for reading by the thread running a recorded cell."""

    _installed = False
    _active: OpenedFiles | None = None

    def __init__(self, exclude: list[Path]) -> None:
        self.paths: set[str] = set()
        self.thread = threading.current_thread()
        self._prefixes = _ignored_prefixes() + tuple(str(p).rstrip("/") + "/" for p in exclude)

    @classmethod
    def _install(cls) -> None:
        if not cls._installed:
            sys.addaudithook(cls._hook)
            cls._installed = True

    @staticmethod
    def _hook(event: str, args: tuple[Any, ...]) -> None:
        active = OpenedFiles._active
        if active is None or event != "open":
            return
        try:
            path, mode = args[0], args[1]
            if not isinstance(path, (str, bytes, os.PathLike)) or (
                mode and any(c in str(mode) for c in "wax+")
            ):
                return
            if threading.current_thread() is not active.thread:
                return
            active.paths.add(os.path.abspath(os.fsdecode(path)))
        except Exception:  # an audit hook must never break the user's open()
            return

    def __enter__(self) -> OpenedFiles:
        self._install()
        OpenedFiles._active = self
        return self

    def __exit__(self, *exc: Any) -> None:
        OpenedFiles._active = None

    def relevant(self) -> list[Path]:
        """The regular files opened for reading during the cell, sorted, less code and font files,
        system and library folders, user config and cache folders, and the excluded ones."""
        out = []
        for p in sorted(self.paths):
            if p.endswith(_IGNORED_SUFFIXES) or p.startswith(self._prefixes):
                continue
            if os.path.isfile(p):
                out.append(Path(p))
        return out
