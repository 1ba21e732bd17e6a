"""A background writer: the store's disk I/O off the cell's critical path.

Digests are computed in the kernel's main thread (they go into the metadata at
once); the bytes, their fsync and the catalog rows are written by one thread that
owns the store, so a cell returns without waiting for the disk.  ``flush`` waits
until everything queued is on disk: the headless runner and kernel exit call it
before a record is reported durable.  Write errors are kept and reported (one
line each) by the next ``flush`` or ``drain_errors``, never raised into a cell.

For a team store the same thread also uploads: whenever the queue runs dry it
pushes what was written (objects, then the catalog journal entry), and ``flush``
queues one more push, so after ``flush`` a record is durable *on the remote* (or
an error line says why not, and the local copy waits for the next push).
``flush`` also checkpoints the catalog's WAL: "flushed" means the rows are in
``catalog.sqlite`` itself, so a copy of that one file holds the whole run.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from . import Store

_STOP = object()


def _push(store: Store) -> None:
    store.push(everyone=True)  # also what an earlier kernel of this cache could not send


def _checkpoint_wal(store: Store) -> None:
    """Rows into ``catalog.sqlite`` proper (runs in the writer thread: the connection is its own)."""
    if store._catalog is not None:
        store._catalog.checkpoint_wal()


class BackgroundWriter:
    """One daemon thread per store that performs queued writes in order; errors are
    kept for ``flush`` to report, never raised into the cell that queued the write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.Queue[Any] = queue.Queue()
        self._errors: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="repro-store-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    self.store.close()  # the catalog connection belongs to this thread
                    return
                func, args = item
                try:
                    func(self.store, *args)
                except Exception as exc:  # disk full, read-only, corrupt catalog: keep going, report later
                    self._report(exc)
                idle = func not in (_push, _checkpoint_wal) and self._queue.empty()
                if self.store.remote is not None and idle:
                    try:
                        self.store.push(everyone=True)  # idle: upload now, off the cell's critical path
                    except Exception as exc:  # the remote is down: the outbox keeps it for later
                        self._report(exc)
            finally:
                self._queue.task_done()

    def _report(self, exc: Exception) -> None:
        with self._lock:
            message = f"{type(exc).__name__}: {exc}"[:300]
            if message not in self._errors:  # the same upload failure after every cell: say it once
                self._errors.append(message)

    def submit(self, func: Callable[..., Any], *args: Any) -> None:
        """Queue ``func(store, *args)``; runs in order with everything queued before it."""
        self._ensure_thread()
        self._queue.put((func, args))

    def drain_errors(self) -> list[str]:
        """The write errors (one line each, deduplicated) since the last call, and clear them."""
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    def flush(self) -> list[str]:
        """Block until every queued write is on disk (and on the remote of a team store); return
        the errors since the last call."""
        if self._thread is not None and self._thread.is_alive():
            if self.store.remote is not None:
                self._queue.put((_push, ()))  # retries what an earlier push could not send
            self._queue.put((_checkpoint_wal, ()))
            self._queue.join()
        return self.drain_errors()

    def close(self) -> list[str]:
        """Flush, then stop the thread (it closes the catalog it owns); returns
        every error not yet reported. ``submit`` starts a new thread."""
        errors = self.flush()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._queue.join()
            self._thread.join(timeout=10)
        self._thread = None
        return errors + self.drain_errors()

    def pending(self) -> int:
        """How many queued writes are not finished yet (the one running included)."""
        return self._queue.unfinished_tasks
