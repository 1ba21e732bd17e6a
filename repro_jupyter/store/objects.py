"""Content-addressed, immutable objects on a local file system.

An object's name is the sha256 of its bytes, so writing the same content twice
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
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..atomic import temp_beside
from ..canonical import DIGEST_PREFIX, canonical_bytes
from ..errors import ObjectCorrupt, ObjectMissing, StoreError

OVERLAP_MIN = 1 << 20  # chunks this big are hashed in a helper thread while being written
_HASHER: ThreadPoolExecutor | None = None
SCHEMA_OF_KIND = {"cell_record": "cellRecord", "environment": "environment"}
_VALID: set[str] = set()  # digests already checked against the schema (objects never change)


def _hasher() -> ThreadPoolExecutor:
    """One helper thread per process: a big checkpoint's sha256 overlaps its write (~2x less wall time
    on two cores, measured in ``bench/capture_overhead``), instead of hash-then-write per chunk."""
    global _HASHER
    if _HASHER is None:
        _HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="repro-sha256")
    return _HASHER


def _shown(value: object, limit: int = 80) -> str:
    """An id as a message shows it: ``repr``, cut (a 5 MB "id" from a hand-edited file is no message)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _hex(digest: str) -> str:
    if not isinstance(digest, str):
        raise StoreError(f"not a valid object id: {_shown(digest)}")
    hexpart = digest.split(":", 1)[1] if digest.startswith(DIGEST_PREFIX) else digest
    if len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise StoreError(f"not a valid object id: {_shown(digest)}")
    return hexpart


class ObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"

    def path_for(self, digest: str) -> Path:
        hexpart = _hex(digest)
        return self.objects / hexpart[:2] / hexpart[2:]

    def has(self, digest: str) -> bool:
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
        """
        self.objects.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        with temp_beside(self.objects, ".tmp-") as (fd, tmp):
            with os.fdopen(fd, "wb") as fh:
                hashing = None  # the previous chunk's hash, running beside this chunk's write
                for chunk in chunks:
                    n = len(chunk) if isinstance(chunk, bytes) else memoryview(chunk).nbytes
                    if hashing is not None:
                        hashing.result()  # sha256 is sequential: one chunk at a time, in order
                        hashing = None
                    if n >= OVERLAP_MIN:  # both release the GIL: hash and write on two cores
                        hashing = _hasher().submit(h.update, chunk)
                    else:
                        h.update(chunk)
                    fh.write(chunk)
                    size += n
                if hashing is not None:
                    hashing.result()
                fh.flush()
                os.fsync(fh.fileno())
            digest = DIGEST_PREFIX + h.hexdigest()
            if expect is not None and digest != expect:
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
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        except FileNotFoundError:
            raise ObjectMissing(f"store object {digest} is missing from {self.root}") from None
        if DIGEST_PREFIX + h.hexdigest() != digest:
            raise ObjectCorrupt(f"store object {digest} is corrupt (its content does not match its name)")
        return path

    def put_json(self, value: Any) -> tuple[str, bool]:
        return self.put_bytes(canonical_bytes(value))

    def get_bytes(self, digest: str) -> bytes:
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(f"store object {digest} is missing from {self.root}") from None
        except OSError as exc:
            raise StoreError(f"cannot read store object {digest}: {exc.strerror}") from None
        actual = DIGEST_PREFIX + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise ObjectCorrupt(f"store object {digest} is corrupt (its content hashes to {actual})")
        return data

    def get_json(self, digest: str) -> Any:
        """The JSON value of an object; a self-describing record or environment is schema-checked."""
        data = self.get_bytes(digest)
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            raise ObjectCorrupt(f"store object {digest} is not valid JSON") from None
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
