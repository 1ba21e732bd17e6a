"""Reusable snapshot buffers: the foreground copy of a big array goes into memory touched before.

Why: on this VM kind a copy into freshly allocated memory costs ~2 s per GiB (page faults and
zeroing dominate), a copy into memory that was touched before ~80 ms per GiB (``bench/``).  A
cell that changes a big array in place every time it runs (a training step) snapshots the same
size again and again, so the buffer the background writer has finished with is kept and reused.

Ownership is the whole point, so it is explicit: ``lease()`` collects every buffer an ``encode``
takes (thread-local), the ``Encoded`` carries them, and only ``Encoded.release()`` (called by the
writer after the bytes are in the store) puts them back.  An ``Encoded`` that is never released
just keeps its buffers until it is garbage: never reused while anything may still read it.
Bounded: at most ``limit`` bytes wait in the pool (oldest dropped first); buffers under
``MIN_POOLED`` bytes are not pooled (fresh small allocations are cheap).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

MIN_POOLED = 1 << 20
DEFAULT_LIMIT = 1 << 30


class SnapshotPool:
    """Snapshot buffers kept for reuse once the writer is done with them (copying
    into touched memory is much faster); one process-wide instance, ``POOL``."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._free: list[Any] = []  # 1-D uint8 NumPy arrays, oldest first
        self._lock = threading.Lock()
        self._local = threading.local()
        self.reused = 0  # buffers handed out again (for tests and the benchmark)

    @property
    def pooled_bytes(self) -> int:
        """Bytes waiting in the pool for reuse (not those leased out)."""
        with self._lock:
            return sum(b.nbytes for b in self._free)

    def buffer(self, nbytes: int) -> Any:
        """A writable 1-D uint8 array of exactly ``nbytes``: a pooled one if any, else a fresh one.

        Within ``lease()`` the buffer is recorded so the ``Encoded`` can give it back; outside a lease
        it is simply the caller's (never returned to the pool).
        """
        import numpy as np

        buf = None
        if nbytes >= MIN_POOLED:
            with self._lock:
                for i, candidate in enumerate(self._free):
                    if candidate.nbytes == nbytes:
                        buf = self._free.pop(i)
                        self.reused += 1
                        break
        if buf is None:
            buf = np.empty(nbytes, dtype=np.uint8)
        leased = getattr(self._local, "leased", None)
        if leased is not None and nbytes >= MIN_POOLED:
            leased.append(buf)
        return buf

    def give_back(self, buffers: list[Any]) -> None:
        """Return buffers no reader needs any more; small ones are dropped,
        and the oldest go when the pool would exceed ``limit``."""
        with self._lock:
            for buf in buffers:
                if buf.nbytes < MIN_POOLED or buf.nbytes > self.limit:
                    continue
                self._free.append(buf)
                total = sum(b.nbytes for b in self._free)
                while total > self.limit and self._free:
                    total -= self._free.pop(0).nbytes

    def clear(self) -> None:
        """Drop every pooled buffer (frees the memory; used when the pool is disabled with a limit of 0)."""
        with self._lock:
            self._free.clear()

    @contextmanager
    def lease(self) -> Iterator[list[Any]]:
        """Collect the buffers taken by this thread inside the block (for one ``Encoded``)."""
        outer = getattr(self._local, "leased", None)
        leased: list[Any] = []
        self._local.leased = leased
        try:
            yield leased
        finally:
            self._local.leased = outer


POOL = SnapshotPool()


def pooled_copy(value: Any, order: Literal["C", "F"] = "C") -> Any:
    """A NumPy copy of ``value`` (same dtype and shape) in a pooled buffer, laid out in ``order``."""
    import numpy as np

    buf = POOL.buffer(value.nbytes)
    snap = np.ndarray(value.shape, dtype=value.dtype, buffer=buf, order=order)
    np.copyto(snap, value, casting="no")
    return snap
