"""The two results of ``encode`` and the helpers every format shares.

``Encoded`` separates the cheap part of checkpointing (a stable snapshot, taken in the kernel's foreground
while the user waits) from the slow part (producing and writing the bytes, done later by a writer thread).
Everything an ``Encoded`` needs is owned by it, so the user may mutate or delete the original value the moment
``encode`` returns.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from . import signing

if TYPE_CHECKING:  # typing.TypeIs is 3.13+; only the checker reads it
    from typing_extensions import TypeIs

Buffer = bytes | bytearray | memoryview
PathLike = str | os.PathLike[str]
DEFAULT_CHUNK = 16 << 20
SIGNATURE_BYTES = 32


class CheckpointError(StoreError):
    """A checkpoint cannot be decoded: malformed, an unknown format, or a package it needs is missing."""


@dataclass(frozen=True)
class Skipped:
    """Why a value was not checkpointed (one line, for the cell record and ``%repro restore``)."""

    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(eq=False)
class Encoded:
    """A stable, self-contained snapshot of one value, ready to be written by another thread.

    ``chunks()`` streams the bytes of exactly one file (no giant concatenation: large arrays are yielded as
    zero-copy slices of the snapshot).  Formats that carry a pickle end with a 32-byte HMAC trailer that is
    computed while streaming, so signing costs nothing in the foreground.

    ``deferred`` formats (a Parquet frame over 16 MiB) produce their bytes on first use; reading ``nbytes``
    before ``chunks()`` then does that work in the calling thread, so a writer should read it after
    streaming.  A deferred conversion that fails raises ``CheckpointError`` from ``chunks()``/``nbytes``.
    """

    format: str
    meta: dict[str, Any]
    _parts: list[Buffer] = field(default_factory=list, repr=False)
    # For signed containers: which of ``_parts`` the MAC covers; a trailer is appended after the last part.
    _signed: list[bool] | None = field(default=None, repr=False)
    _deferred: Callable[[], list[Buffer]] | None = field(default=None, repr=False)
    # For deferred formats: the text the value carries (labels, string columns), so the foreground
    # can scan it for secrets without producing the bytes; None when it carries no text at all.
    text: Callable[[], Iterator[bytes]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Pooled snapshot buffers this value owns until ``release`` (see ``snapshot_pool``).
    _pooled: list[Any] = field(default_factory=list, repr=False)

    @property
    def deferred(self) -> bool:
        """True while the bytes are still to be produced (a big Parquet frame): the
        first ``nbytes`` or ``chunks()`` does that work in the calling thread."""
        return self._deferred is not None

    def _materialize(self) -> list[Buffer]:
        with self._lock:
            if self._deferred is not None:
                self._parts = self._deferred()
                self._deferred = None
            return self._parts

    def release(self) -> None:
        """Done with the bytes (the writer has stored them): give pooled buffers back for reuse.

        The ``Encoded`` is empty afterwards; calling it twice is harmless.
        """
        from .snapshot_pool import POOL

        with self._lock:
            pooled, self._pooled = self._pooled, []
            self._parts, self._deferred = [], None
        if pooled:
            POOL.give_back(pooled)

    @property
    def nbytes(self) -> int:
        """Exact size of the file ``chunks()`` yields."""
        parts = self._materialize()
        total = sum(_len(p) for p in parts)
        return total + (SIGNATURE_BYTES if self._signed is not None else 0)

    def chunks(self, chunk_size: int = DEFAULT_CHUNK) -> Iterator[Buffer]:
        """The file's bytes in order, as slices of at most ``chunk_size`` bytes (re-iterable)."""
        parts = self._materialize()
        mac: hmac.HMAC | None = signing.new_mac() if self._signed is not None else None
        for index, part in enumerate(parts):
            covered = mac is not None and self._signed is not None and self._signed[index]
            for piece in _slices(part, chunk_size):
                if covered:
                    assert mac is not None
                    mac.update(piece)
                yield piece
        if mac is not None:
            yield mac.digest()

    def write_to(self, path: PathLike) -> int:
        """Convenience for tests and tools: stream the file to ``path`` (no fsync); return its size."""
        written = 0
        with open(path, "wb") as fh:
            for piece in self.chunks():
                written += fh.write(piece)
        return written


def _len(part: Buffer) -> int:
    return part.nbytes if isinstance(part, memoryview) else len(part)


def _slices(part: Buffer, chunk_size: int) -> Iterator[Buffer]:
    size = _len(part)
    if size <= chunk_size:
        if size:
            yield part
        return
    view = part if isinstance(part, memoryview) else memoryview(part)
    for start in range(0, size, chunk_size):
        yield view[start : start + chunk_size]


def byte_view(obj: Any) -> memoryview:
    """A flat unsigned-byte view of a C-contiguous buffer (zero-copy)."""
    view = memoryview(obj)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class TooLarge(Exception):
    """A value over the checkpoint size limit, raised by an encoder
    before it copies anything; ``encode`` turns it into ``Skipped``."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def too_large(limit: int) -> Skipped:
    """The ``Skipped`` recorded for a value over ``limit`` bytes."""
    return Skipped(f"larger than the {limit} byte limit")


def check_size(estimate: int, max_bytes: int | None) -> None:
    """Raise ``TooLarge`` when ``estimate`` exceeds ``max_bytes`` (None: no
    limit); called before copying, so an oversized value costs nothing."""
    if max_bytes is not None and estimate > max_bytes:
        raise TooLarge(max_bytes)


def one_line(exc: BaseException) -> str:
    """``TypeError: cannot pickle '_thread.lock' object``: the first line, bounded."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def qualified_name(obj_type: type) -> str:
    """``module.QualName`` of a type: how meta and manifests name
    a class (to check it before loading, never to import it)."""
    return f"{obj_type.__module__}.{obj_type.__qualname__}"


def is_path(data: object) -> TypeIs[str | os.PathLike[str]]:
    """Whether checkpoint data came as a file path (a verified store object) rather than bytes."""
    return isinstance(data, (str, os.PathLike))


def read_writable(data: Buffer | PathLike) -> bytearray:
    """The whole file (or buffer) as one fresh, writable bytearray: the single copy a non-lazy load makes."""
    if is_path(data):
        with open(Path(data), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            out = bytearray(size)
            got = fh.readinto(out)
            if got != size:
                raise CheckpointError(f"checkpoint file {os.fspath(data)} changed while it was read")
            return out
    return bytearray(data)
