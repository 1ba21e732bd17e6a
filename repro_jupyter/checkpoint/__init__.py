"""Checkpoint serialisation: turn a kernel variable into one safe, self-describing file and back.

The recorder calls ``encode`` in the foreground (a cheap, stable snapshot), streams ``Encoded.chunks()`` into
the store from a writer thread, and keeps ``(format, meta, object digest)`` in the cell record; restore calls
``decode`` on the verified object.  See ``formats`` for the format table and each ``formats_*`` module for its
on-disk layout, and ``signing`` for the per-user key that guards every pickle.
"""

from __future__ import annotations

from .formats import FORMATS, decode, encode
from .formats_base import CheckpointError, Encoded, Skipped
from .signing import BadSignature, UnsignedObject, loads_signed

__all__ = [
    "FORMATS",
    "BadSignature",
    "CheckpointError",
    "Encoded",
    "Skipped",
    "UnsignedObject",
    "decode",
    "encode",
    "loads_signed",
]
