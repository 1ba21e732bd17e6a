"""A bound on snapshot bytes waiting for the background writer.

Why: snapshots are taken in the foreground and written later, so a loop of cells
that each change a 1 GiB array faster than the disk takes it would queue one
1 GiB copy per cell until the kernel runs out of memory.  Before a big snapshot
the cell waits until the backlog is under ``limit`` (one object is always
allowed, however big, when nothing is pending); a writer that makes no progress
for ``patience`` seconds costs that checkpoint (recorded as skipped, with the
reason), never the kernel.
"""

from __future__ import annotations

import threading
from typing import Any

DEFAULT_LIMIT = 2 << 30
DEFAULT_PATIENCE_S = 120.0


class WriteBacklog:
    """Snapshot bytes taken but not yet written, shared by the kernel (``reserve`` before a
    snapshot) and the writer (``done`` after storing), so queued copies cannot exhaust memory."""

    def __init__(self, limit: int = DEFAULT_LIMIT, patience_s: float = DEFAULT_PATIENCE_S) -> None:
        self.limit = limit
        self.patience_s = patience_s
        self._pending = 0
        self._cond = threading.Condition()

    @property
    def pending(self) -> int:
        """Bytes reserved and not yet released by ``done``."""
        with self._cond:
            return self._pending

    def reserve(self, nbytes: int) -> bool:
        """Wait for room for ``nbytes``; False when the writer made no room within the patience."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._pending == 0 or self._pending + nbytes <= self.limit, timeout=self.patience_s
            )
            if ok:
                self._pending += nbytes
            return ok

    def done(self, nbytes: int) -> None:
        """The writer has stored (or dropped) ``nbytes``
        reserved before: frees room and wakes waiting cells."""
        with self._cond:
            self._pending = max(self._pending - nbytes, 0)
            self._cond.notify_all()


def estimated_bytes(value: Any) -> int:
    """The bytes a snapshot of ``value`` will hold, cheaply (arrays and tensors; else 0: small or unknown)."""
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    numel, element_size = getattr(value, "numel", None), getattr(value, "element_size", None)
    if callable(numel) and callable(element_size):
        try:
            return int(numel()) * int(element_size())
        except Exception:
            return 0
    return 0
