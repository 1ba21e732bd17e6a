"""Content addresses: which hash an object id names, and where the object lives.

Two algorithms name store objects, and the id says which (``<algorithm>:<64 hex>``):

- ``sha256:`` for everything written whole (records, environments, journal entries, small
  checkpoints): the address every pointer in a notebook has always used.
- ``blake3:`` for objects streamed to the store (big checkpoints, milestone weights).  Why: a
  durable checkpoint write hashes every byte while it is written; sha256 runs at about
  1.3 GB/s on the machines we measure, as slow as the disk, so on two cores the hash and the
  write contend and the durable write costs ~1.4x a raw write+fsync.  BLAKE3 is ~3x faster
  per core (``bench/README.md``, ``checkpoint_io``), with the same 256-bit strength.

Every read re-hashes with the algorithm its id names, so an object is verified either way.
Old stores hold only ``sha256:`` objects, which keep their paths (``objects/ab/cdef…``); BLAKE3
ones live under ``objects/blake3/ab/cdef…`` so the two name spaces never meet.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Protocol

SHA256 = "sha256"
BLAKE3 = "blake3"
ALGORITHMS = (SHA256, BLAKE3)
STREAM_ALGORITHM = BLAKE3  # what ``ObjectStore.put_stream`` names new objects with
DIGEST_RE = re.compile(r"^(?:sha256|blake3):[0-9a-f]{64}$")
DIGEST_ANYWHERE_RE = re.compile(rb"(?:sha256|blake3):[0-9a-f]{64}")
SUBDIR = {SHA256: "", BLAKE3: "blake3"}  # the folder under ``objects/`` (sha256: none, as always)


class Hasher(Protocol):
    """What ``hashlib.sha256()`` and ``blake3.blake3()`` have in common: incremental hashing."""

    def update(self, data: Any, /) -> Any:
        """Hash more bytes (any buffer)."""
        ...

    def hexdigest(self) -> str:
        """The 64 hex digits of everything hashed so far (the hasher can keep going)."""
        ...


def is_digest(value: object) -> bool:
    """A well-formed object id of either algorithm (nothing is looked up)."""
    return isinstance(value, str) and DIGEST_RE.match(value) is not None


def split(digest: str) -> tuple[str, str]:
    """``(algorithm, hex)`` of an id; a bare 64-hex string is a sha256 id (older pointers).

    Raises ``ValueError`` for anything else, so callers turn it into their own one-line error.
    """
    if not isinstance(digest, str):
        raise ValueError("not a string")
    algorithm, sep, hexpart = digest.partition(":")
    if not sep:
        algorithm, hexpart = SHA256, digest
    if algorithm not in ALGORITHMS or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ValueError("not an object id")
    return algorithm, hexpart


def new_hasher(algorithm: str) -> Hasher:
    """A fresh incremental hasher; BLAKE3's releases the GIL on big buffers, as hashlib's does."""
    if algorithm == BLAKE3:
        import blake3

        return blake3.blake3()
    return hashlib.sha256()


def relative_parts(digest: str) -> tuple[str, ...]:
    """The object's path below ``objects/`` as parts (the same on local disk and a team store)."""
    algorithm, hexpart = split(digest)
    folder = SUBDIR[algorithm]
    return (folder, hexpart[:2], hexpart[2:]) if folder else (hexpart[:2], hexpart[2:])


def digest_of(data: bytes | memoryview, algorithm: str = SHA256) -> str:
    """``<algorithm>:<hex>`` of ``data`` hashed whole; ``algorithm`` is ``sha256`` (default) or ``blake3``."""
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return f"{algorithm}:{hasher.hexdigest()}"
