"""A small framed container (one file, several parts) and the signed-pickle format built on it.

Layout (all integers little-endian)::

    0        8  magic  b"RJCKPT01"
    8        8  u64    H, the header length
    16       H  header canonical JSON, space-padded so the data area starts on a 64-byte boundary:
                {"container": 1, "format": ..., "signature": "hmac-sha256" | null,
                 "parts": [{"name", "kind", "offset", "length"}, ...]}   (offsets from the data area)
    16+H     …  parts, each starting on a 64-byte boundary (zero padding between them)
    end-32  32  HMAC-SHA256 trailer, present when "signature" is "hmac-sha256"

The trailer covers the first 16+H bytes and every part whose kind may run code when loaded ("pickle",
"pickle-buffer"), in header order; bulk tensor data ("safetensors") is parsed by a pickle-free reader and is
not covered (the store's sha256 already protects it from corruption).  Because the header is covered, the
coverage cannot be changed without breaking the signature, and the reader only ever unpickles covered parts.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
from collections.abc import Sequence
from typing import Any

from ..canonical import canonical_bytes
from . import signing
from .formats_base import (
    SIGNATURE_BYTES,
    Buffer,
    CheckpointError,
    Encoded,
    PathLike,
    TooLarge,
    byte_view,
    qualified_name,
    read_writable,
)

MAGIC = b"RJCKPT01"
ALIGN = 64
MAX_HEADER = 16 << 20
SIGNED_KINDS = frozenset({"pickle", "pickle-buffer"})
_ZEROS = bytes(ALIGN)

PartSpec = tuple[str, str, Sequence[Buffer]]  # (name, kind, pieces)


def _pad(n: int) -> int:
    return -n % ALIGN


def build_container(fmt: str, meta: dict[str, Any], parts: Sequence[PartSpec], *, signed: bool) -> Encoded:
    """Frame ``parts`` into one ``Encoded`` file; the trailer is computed while the file is streamed."""
    table: list[dict[str, Any]] = []
    offset = 0
    for name, kind, pieces in parts:
        length = sum(p.nbytes if isinstance(p, memoryview) else len(p) for p in pieces)
        table.append({"name": name, "kind": kind, "offset": offset, "length": length})
        offset += length + _pad(length)
    header = canonical_bytes(
        {"container": 1, "format": fmt, "parts": table, "signature": "hmac-sha256" if signed else None}
    )
    header += b" " * _pad(16 + len(header))
    flat: list[Buffer] = [MAGIC + struct.pack("<Q", len(header)) + header]
    covered = [True]
    for (_name, kind, pieces), entry in zip(parts, table, strict=True):
        flat.extend(pieces)
        covered.extend([kind in SIGNED_KINDS] * len(pieces))
        pad = _pad(entry["length"])
        if pad:
            flat.append(_ZEROS[:pad])
            covered.append(False)
    encoded = Encoded(fmt, meta, flat, covered if signed else None)
    if any(kind == "safetensors" for _name, kind, _pieces in parts):
        # what can carry text: the header, pickles and safetensors headers; never the tensor bytes
        # (random floats match secret shapes now and then: a model was withheld as "holds a secret")
        text = [flat[0]] + [
            piece
            for _name, kind, pieces in parts
            for piece in (pieces[:1] if kind == "safetensors" else pieces)
        ]
        encoded.text = lambda: (bytes(piece) for piece in text)
    return encoded


def read_container(
    buf: memoryview, fmt: str, *, require_signature: bool
) -> tuple[dict[str, Any], dict[str, memoryview]]:
    """Parse and (when required) verify a container; return its header and its parts as zero-copy views.

    Only JSON is parsed before the signature check; nothing is unpickled here.
    """
    if buf.nbytes < 16 or bytes(buf[:8]) != MAGIC:
        if require_signature:
            raise signing.UnsignedObject("it is not a signed checkpoint written by this store")
        raise CheckpointError(f"malformed {fmt} checkpoint (not a repro-jupyter container)")
    (hlen,) = struct.unpack("<Q", buf[8:16])
    if hlen > MAX_HEADER or 16 + hlen > buf.nbytes:
        raise CheckpointError(f"malformed {fmt} checkpoint (bad header length)")
    try:
        header = json.loads(bytes(buf[16 : 16 + hlen]))
    except ValueError:
        raise CheckpointError(f"malformed {fmt} checkpoint (header is not JSON)") from None
    if (
        not isinstance(header, dict)
        or header.get("container") != 1
        or not isinstance(header.get("parts"), list)
    ):
        raise CheckpointError(f"malformed {fmt} checkpoint (unknown container header)")
    if header.get("format") != fmt:
        raise CheckpointError(f"checkpoint holds format {header.get('format')!r}, not {fmt!r}")
    signed = header.get("signature") == "hmac-sha256"
    if require_signature and not signed:
        raise signing.UnsignedObject()
    end = buf.nbytes - (SIGNATURE_BYTES if signed else 0)
    start = 16 + hlen
    if end < start:
        raise signing.UnsignedObject("its signature is missing") if signed else CheckpointError("truncated")
    views: dict[str, memoryview] = {}
    covered = [buf[:start]]
    for entry in header["parts"]:
        if not isinstance(entry, dict):
            raise CheckpointError(f"malformed {fmt} checkpoint (bad part table)")
        name, kind, off, length = (entry.get(k) for k in ("name", "kind", "offset", "length"))
        if not (isinstance(name, str) and isinstance(kind, str) and _nonneg(off) and _nonneg(length)):
            raise CheckpointError(f"malformed {fmt} checkpoint (bad part table)")
        if signed and end < start + off + length <= buf.nbytes:
            raise signing.UnsignedObject("its signature is missing or truncated")
        if start + off + length > end or name in views:
            raise CheckpointError(f"malformed {fmt} checkpoint (part {name!r} out of bounds)")
        views[name] = buf[start + off : start + off + length]
        if kind in SIGNED_KINDS:
            covered.append(views[name])
    if signed:
        signing.check_parts(covered, signing.SIGNATURE_PREFIX + bytes(buf[end:]).hex())
    kinds = {entry["name"]: entry["kind"] for entry in header["parts"]}
    header["_kinds"] = kinds
    return header, views


def _nonneg(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def signed_part(header: dict[str, Any], views: dict[str, memoryview], name: str, kind: str) -> memoryview:
    """A part that must exist with ``kind`` (and so, for pickle kinds, was covered by the signature)."""
    if header["_kinds"].get(name) != kind:
        raise CheckpointError(f"malformed {header.get('format')} checkpoint (no {kind} part {name!r})")
    return views[name]


# -- pickle-hmac: the last resort ------------------------------------------------------------------------


class _Budget:
    """Bytes still allowed under ``max_bytes`` (shared by the pickle stream and its out-of-band buffers)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, n: int) -> None:
        if self.left is not None and self.limit is not None:
            self.left -= n
            if self.left < 0:
                raise TooLarge(self.limit)


class _LimitedSink(io.BytesIO):
    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self.budget = budget

    def write(self, data: Any) -> int:
        self.budget.spend(memoryview(data).nbytes)
        return super().write(data)


def pickle_snapshot(value: Any, max_bytes: int | None) -> tuple[bytes, list[bytearray]]:
    """Pickle protocol 5 with out-of-band buffers copied now, so the result no longer aliases ``value``.

    Counting happens while pickling, so an object over ``max_bytes`` is abandoned before it is fully copied.
    """
    budget = _Budget(max_bytes)
    buffers: list[bytearray] = []

    def keep(pb: pickle.PickleBuffer) -> bool:
        try:
            raw = pb.raw()
        except BufferError:
            return True  # not contiguous: serialise in-band
        budget.spend(raw.nbytes)
        buffers.append(bytearray(raw))
        return False

    sink = _LimitedSink(budget)
    pickle.Pickler(sink, protocol=5, buffer_callback=keep).dump(value)
    return sink.getvalue(), buffers


def encode_pickle(value: Any, max_bytes: int | None) -> Encoded:
    """The last-resort format: a pickle (protocol 5, buffers out of band) in a container signed with
    this user's key; TooLarge over ``max_bytes``, and whatever the value's own pickling raises."""
    stream, buffers = pickle_snapshot(value, max_bytes)
    parts: list[PartSpec] = [("pickle", "pickle", [stream])]
    parts += [(f"buffer-{i}", "pickle-buffer", [byte_view(b)]) for i, b in enumerate(buffers)]
    meta = {"class": qualified_name(type(value)), "pickle_buffers": len(buffers)}
    return build_container("pickle-hmac", meta, parts, signed=True)


def decode_pickle(meta: dict[str, Any], data: Buffer | PathLike) -> Any:
    """Unpickle a ``pickle-hmac`` checkpoint, only after its signature checks (UnsignedObject
    / BadSignature otherwise); the unpickling may run the class's own code."""
    buf = memoryview(read_writable(data))  # writable, so arrays rebuilt from out-of-band buffers are too
    header, views = read_container(buf, "pickle-hmac", require_signature=True)
    stream = signed_part(header, views, "pickle", "pickle")
    count = sum(1 for kind in header["_kinds"].values() if kind == "pickle-buffer")
    buffers = [signed_part(header, views, f"buffer-{i}", "pickle-buffer") for i in range(count)]
    return pickle.loads(stream, buffers=buffers)
