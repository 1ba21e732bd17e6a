"""Two runs of one notebook at once: the second to finish must not overwrite the first in silence.

``run`` notes the output file's state (mtime, size, sha256) before the kernel starts and checks
it again under a lock on the folder just before it replaces the file.  If the file changed (a
concurrent ``jupyter repro run``, an editor's save, a ``git checkout``), the file on disk wins and
this run's result is written beside it, named in the one-line error (exit 2): no work is lost
either way.  The lock (``flock`` on the folder, POSIX only) makes check-and-replace one step for
cooperating runs; it needs no lock file in the user's folder.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import NotebookError

FileState = tuple[int, int, str] | None  # (mtime_ns, size, sha256) or None: no file


def file_state(path: Path) -> FileState:
    try:
        stat = os.stat(path)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NotebookError(f"cannot read {path}: {exc.strerror or exc}") from None
    return stat.st_mtime_ns, stat.st_size, digest


def changed(before: FileState, now: FileState) -> bool:
    """Content decides: a touched file with the same bytes is no conflict."""
    if before is None or now is None:
        return before != now
    return before[2] != now[2]


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the state check alone
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def side_file(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for n in range(1000):
        suffix = f"-{n}" if n else ""
        candidate = path.with_name(f"{path.stem}.repro-conflict-{stamp}{suffix}{path.suffix or '.ipynb'}")
        if not candidate.exists():
            return candidate
    raise NotebookError(f"cannot name a conflict file beside {path}")


def write_unless_changed(
    nb: Any, output: Path, before: FileState, write: Callable[[Any, Path], None]
) -> None:
    """``write(nb, output)`` if ``output`` is as it was when the run read it; else keep the file on
    disk, write ``nb`` to a side file and say so (``NotebookError``, exit 2)."""
    folder = output.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    with folder_lock(folder):
        if not changed(before, file_state(output)):
            write(nb, output)
            return
        side = side_file(output)
        write(nb, side)
    raise NotebookError(
        f"{output} changed on disk while this run executed (another run or an editor saved it): "
        f"it was left as it is; this run's result is in {side}"
    )
