"""A background writer: the store's disk I/O off the cell's critical path.

Digests are computed in the kernel's main thread (they go into the metadata at
once); the bytes, their fsync and the catalog rows are written by one thread that
owns the store, so a cell returns without waiting for the disk.  ``flush`` waits
until everything queued is on disk: the headless runner and kernel exit call it
before a record is reported durable.  Write errors are kept and reported (one
line each) by the next ``flush`` or ``drain_errors``, never raised into a cell.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from . import Store

_STOP = object()


class BackgroundWriter:
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
                func(self.store, *args)
            except Exception as exc:  # disk full, read-only, corrupt catalog: keep going, report later
                with self._lock:
                    self._errors.append(f"{type(exc).__name__}: {exc}"[:300])
            finally:
                self._queue.task_done()

    def submit(self, func: Callable[..., Any], *args: Any) -> None:
        """Queue ``func(store, *args)``; runs in order with everything queued before it."""
        self._ensure_thread()
        self._queue.put((func, args))

    def drain_errors(self) -> list[str]:
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    def flush(self) -> list[str]:
        """Block until every queued write is on disk; return the errors since the last call."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()
        return self.drain_errors()

    def close(self) -> list[str]:
        errors = self.flush()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._queue.join()
            self._thread.join(timeout=10)
        self._thread = None
        return errors + self.drain_errors()

    def pending(self) -> int:
        return self._queue.unfinished_tasks
