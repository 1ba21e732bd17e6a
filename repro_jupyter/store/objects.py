"""Content-addressed, immutable objects on a local file system.

An object's name is the hash of its bytes (``repro_jupyter.digests``: sha256, or BLAKE3 for
streamed checkpoints), so writing the same content twice
is a no-op and an object can never be changed in place.  Writes go to a
temporary file in the same directory, are fsynced, then renamed: a crash leaves
either the whole object or nothing, never half an object under its real name.
Reads verify the hash, so on-disk corruption is reported, never used.  A record or
environment read back (``kind`` says which) is also checked against the schema once per
process: a store may be shared or committed, and a field of the wrong type or shape (or a
crafted one) must be one line naming the object, not a traceback deep in a reader.
``get_record`` / ``get_environment`` also refuse an object of any other shape.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .. import digests
from ..atomic import temp_beside
from ..canonical import DIGEST_PREFIX, canonical_bytes
from ..errors import ObjectCorrupt, ObjectMissing, StoreError

OVERLAP_MIN = 1 << 20  # chunks this big are written by a helper thread while this one hashes them
WRITE_AHEAD = 256 << 20  # at most this many bytes handed to the helper and not yet written
SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>: start writeback of dirty pages in the range, do not wait
_HELPER: ThreadPoolExecutor | None = None
_SYNC_FILE_RANGE: Any = False  # False: not looked up yet; None: not available here
SCHEMA_OF_KIND = {"cell_record": "cellRecord", "environment": "environment"}
_VALID: set[str] = set()  # digests already checked against the schema (objects never change)


def _helper() -> ThreadPoolExecutor:
    """One helper thread per process, so a stream's chunks are written in order, one at a time."""
    global _HELPER
    if _HELPER is None:
        _HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="repro-write")
    return _HELPER


def _start_writeback(fd: int, offset: int, nbytes: int) -> None:
    """Ask Linux to start writing ``[offset, offset+nbytes)`` to the disk now (``sync_file_range``).

    Why: a write only fills the page cache; with GiBs of RAM the kernel starts writeback late,
    so without this the disk idles while we hash and all its work waits for the final ``fsync``
    (which stays the durability guarantee: this is a hint, its failure or absence changes nothing).
    """
    global _SYNC_FILE_RANGE
    if _SYNC_FILE_RANGE is False:
        _SYNC_FILE_RANGE = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes
                import ctypes.util

                func = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").sync_file_range
                func.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
                func.restype = ctypes.c_int
                _SYNC_FILE_RANGE = func  # a CDLL call releases the GIL
            except (OSError, AttributeError):
                pass
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, offset, nbytes, SYNC_FILE_RANGE_WRITE)


def _write_at(fd: int, chunk: bytes | memoryview, offset: int) -> None:
    view = memoryview(chunk).cast("B")
    while view.nbytes:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


class _StreamWriter:
    """Writes one stream's chunks at their offsets: big ones on the helper thread, small ones inline.

    Every write names its offset (``pwrite``), so inline and helper writes never race for a file
    position.  The first error (a full disk) is raised by the next ``write`` or by ``finish``;
    ``drain`` waits for every helper write, so the caller may then close the descriptor.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending: list[tuple[Future[None], int]] = []
        self._in_flight = 0

    def write(self, chunk: bytes | memoryview, offset: int, nbytes: int) -> None:
        self._reap(block=False)
        if nbytes < OVERLAP_MIN:
            _write_at(self.fd, chunk, offset)
            return
        while self._pending and self._in_flight + nbytes > WRITE_AHEAD:
            self._reap(block=True)
        self._pending.append((_helper().submit(self._write_big, chunk, offset, nbytes), nbytes))
        self._in_flight += nbytes

    def _write_big(self, chunk: bytes | memoryview, offset: int, nbytes: int) -> None:
        _write_at(self.fd, chunk, offset)
        try:
            _start_writeback(self.fd, offset, nbytes)
        except OSError:
            pass

    def _reap(self, block: bool) -> None:
        """Collect finished writes (at least the oldest one when ``block``); raise the first error."""
        while self._pending and (block or self._pending[0][0].done()):
            future, nbytes = self._pending.pop(0)
            self._in_flight -= nbytes
            future.result()
            block = False

    def finish(self) -> None:
        while self._pending:
            self._reap(block=True)

    def drain(self) -> None:
        for future, _ in self._pending:
            try:
                future.result()
            except Exception:  # the error that matters is already being raised
                pass
        self._pending.clear()
        self._in_flight = 0


def _shown(value: object, limit: int = 80) -> str:
    """An id as a message shows it: ``repr``, cut (a 5 MB "id" from a hand-edited file is no message)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _hex(digest: str) -> str:
    """The hex part of an object id (either algorithm); ``StoreError`` for anything else."""
    return _split(digest)[1]


def _split(digest: str) -> tuple[str, str]:
    try:
        return digests.split(digest)
    except ValueError:
        raise StoreError(f"not a valid object id: {_shown(digest)}") from None


def _normal(digest: str) -> str:
    algorithm, hexpart = _split(digest)
    return f"{algorithm}:{hexpart}"


class ObjectStore:
    """Content-addressed immutable files under ``root/objects``: writes are atomic and
    idempotent, reads are hash-verified (``ObjectMissing``, ``ObjectCorrupt``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"

    def path_for(self, digest: str) -> Path:
        """The file an object id would live at (whether or not it exists); StoreError
        for a malformed id, so a crafted id never names a path outside the store."""
        try:
            return self.objects.joinpath(*digests.relative_parts(digest))
        except ValueError:
            raise StoreError(f"not a valid object id: {_shown(digest)}") from None

    def has(self, digest: str) -> bool:
        """Whether the object's file exists (not verified:
        ``get_bytes`` or ``verified_path`` check the hash)."""
        return self.path_for(digest).is_file()

    def put_bytes(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; return (digest, newly written)."""
        digest = DIGEST_PREFIX + hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.is_file():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        with temp_beside(target.parent, ".tmp-") as (fd, tmp):
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        return digest, True

    def put_stream(
        self, chunks: Iterable[bytes | memoryview], expect: str | None = None
    ) -> tuple[str, int, bool]:
        """Store streamed bytes (big checkpoints): hashed while written, named once complete.

        Returns (digest, size, newly written).  A crash leaves only a ``.tmp-`` file, which
        ``fsck`` reports and ``--quarantine`` removes.  With ``expect`` (a download from a
        remote store), bytes that hash to anything else are dropped: ``ObjectCorrupt``.

        Big chunks are written by a helper thread (``_StreamWriter``) while this thread hashes
        them, and each written chunk's writeback to the disk is started at once: so the sha256
        pass, the copy into the page cache and the disk's own work all overlap, and the one
        ``fsync`` at the end waits only for the tail (see ``bench/README.md``).
        """
        self.objects.mkdir(parents=True, exist_ok=True)
        algorithm = _split(expect)[0] if expect is not None else digests.STREAM_ALGORITHM
        h = digests.new_hasher(algorithm)
        size = 0
        with temp_beside(self.objects, ".tmp-") as (fd, tmp):
            writer = _StreamWriter(fd)
            try:
                for chunk in chunks:
                    n = len(chunk) if isinstance(chunk, bytes) else memoryview(chunk).nbytes
                    writer.write(chunk, size, n)
                    h.update(chunk)  # releases the GIL for big buffers: runs beside the write
                    size += n
                writer.finish()  # every chunk written (or its error raised here)
                os.fsync(fd)
            finally:
                writer.drain()  # no helper may still write to ``fd`` once it is closed
                os.close(fd)
            digest = f"{algorithm}:{h.hexdigest()}"
            if expect is not None and digest != _normal(expect):
                os.unlink(tmp)
                raise ObjectCorrupt(f"store object {expect} is corrupt (its content hashes to {digest})")
            target = self.path_for(digest)
            if target.is_file():
                os.unlink(tmp)
                return digest, size, False
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
            return digest, size, True

    def verified_path(self, digest: str) -> Path:
        """The object's file after checking its sha256 (for memory-mapped, lazy restores)."""
        path = self.path_for(digest)
        h = digests.new_hasher(_split(digest)[0])
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        except FileNotFoundError:
            raise ObjectMissing(f"store object {digest} is missing from {self.root}") from None
        if f"{_split(digest)[0]}:{h.hexdigest()}" != _normal(digest):
            raise ObjectCorrupt(f"store object {digest} is corrupt (its content does not match its name)")
        return path

    def put_json(self, value: Any) -> tuple[str, bool]:
        """Store ``value`` as canonical JSON (equal values get one id); returns (digest, newly written)."""
        return self.put_bytes(canonical_bytes(value))

    def get_bytes(self, digest: str) -> bytes:
        """The object's bytes, verified against its id: ``ObjectMissing``,
        ``ObjectCorrupt`` on a mismatch, ``StoreError`` when the file cannot be read."""
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(f"store object {digest} is missing from {self.root}") from None
        except OSError as exc:
            raise StoreError(f"cannot read store object {digest}: {exc.strerror}") from None
        actual = digests.digest_of(data, _split(digest)[0])
        if actual != _normal(digest):
            raise ObjectCorrupt(f"store object {digest} is corrupt (its content hashes to {actual})")
        return data

    def get_json(self, digest: str) -> Any:
        """The JSON value of an object; a self-describing record or environment is schema-checked."""
        data = self.get_bytes(digest)
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            raise ObjectCorrupt(f"store object {digest} is not valid JSON") from None
        if _depth_exceeds(value, MAX_JSON_DEPTH):
            raise ObjectCorrupt(f"store object {digest} is nested deeper than {MAX_JSON_DEPTH} levels")
        kind = value.get("kind") if isinstance(value, dict) else None
        if isinstance(kind, str) and kind in SCHEMA_OF_KIND and digest not in _VALID:
            _check_schema(digest, value, SCHEMA_OF_KIND[kind])
        return value

    def get_record(self, digest: str) -> dict[str, Any]:
        """A cell record, or ``ObjectCorrupt`` (one line) when the object is anything else."""
        return self._get_kind(digest, "cell_record")

    def get_environment(self, digest: str) -> dict[str, Any]:
        """An environment snapshot, or ``ObjectCorrupt`` (one line) when the object is anything else."""
        return self._get_kind(digest, "environment")

    def _get_kind(self, digest: str, kind: str) -> dict[str, Any]:
        value = self.get_json(digest)
        if not isinstance(value, dict) or value.get("kind") != kind:
            found = (
                f"kind {_shown(value.get('kind'), 40)}" if isinstance(value, dict) else type(value).__name__
            )
            raise ObjectCorrupt(f"store object {digest} is not a {kind.replace('_', ' ')} ({found})")
        return value


MAX_JSON_DEPTH = 64  # what we write is a few levels deep; readers (redaction, diffs) recurse


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iterative: the check itself never recurses)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _check_schema(digest: str, value: dict[str, Any], definition: str) -> None:
    from .. import schema

    try:
        problems = schema.violations(definition, value)
    except RecursionError:
        problems = ["<root>: nested too deeply"]
    if problems:
        raise ObjectCorrupt(
            f"store object {digest} is not a valid {definition}: {' '.join(problems[0].split())[:200]}"
        )
    _VALID.add(digest)
