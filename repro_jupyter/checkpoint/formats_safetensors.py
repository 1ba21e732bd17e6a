"""A small, dependency-free writer and reader of the safetensors file format, for torch tensors.

Why not the ``safetensors`` package: its ``save`` builds the whole file as one ``bytes`` (a second copy of a
1 GiB tensor), and its loaders copy as well.  The format is simple and fully specified, so we frame it
ourselves and stream zero-copy views of the snapshot; tests check that the official package reads our files
and that we read its files.  Nothing here depends on that package, so tensors checkpoint without it.

Layout (https://github.com/huggingface/safetensors): u64 little-endian N, an N-byte JSON header
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}``
space-padded to a multiple of 8, then the tensors' raw little-endian bytes, back to back, ordered by
descending element size so every tensor is aligned to its element size.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from typing import Any

from .formats_base import Buffer, CheckpointError, PathLike, byte_view

MAX_HEADER = 100 << 20

_DTYPE_NAMES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "C64": "complex64",
}  # fmt: skip


def dtype_table() -> tuple[dict[Any, str], dict[str, Any]]:
    """(torch dtype -> code, code -> torch dtype) for the dtypes this torch build has."""
    import torch

    by_code = {code: getattr(torch, name) for code, name in _DTYPE_NAMES.items() if hasattr(torch, name)}
    return {dtype: code for code, dtype in by_code.items()}, by_code


def safetensors_parts(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> list[Buffer]:
    """The file as [header, tensor bytes, ...]; ``tensors`` must be CPU, contiguous, owned snapshots."""
    import torch

    codes, _ = dtype_table()
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header: dict[str, Any] = {}
    views: list[Buffer] = []
    offset = 0
    for name, tensor in items:
        size = tensor.numel() * tensor.element_size()
        header[name] = {
            "dtype": codes[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + size],
        }
        if size:
            views.append(byte_view(tensor.reshape(-1).view(torch.uint8).numpy()))
        offset += size
    if metadata:
        header["__metadata__"] = dict(metadata)
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return [struct.pack("<Q", len(raw)) + raw, *views]


def parse_header(
    head: memoryview, total: int
) -> tuple[list[tuple[str, Any, list[int], int, int]], dict[str, str], int]:
    """Validate the header: entries (name, dtype, shape, begin, end), metadata, and where the data starts.

    The tensors must tile the data area exactly, like the official reader requires; a file that does not is
    rejected rather than half-read.
    """
    _, by_code = dtype_table()
    if total < 8 or head.nbytes < 8:
        raise CheckpointError("malformed safetensors checkpoint (too short)")
    (size,) = struct.unpack("<Q", head[:8])
    if size > MAX_HEADER or 8 + size > total or 8 + size > head.nbytes:
        raise CheckpointError("malformed safetensors checkpoint (bad header length)")
    try:
        header = json.loads(bytes(head[8 : 8 + size]))
    except ValueError:
        raise CheckpointError("malformed safetensors checkpoint (header is not JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError("malformed safetensors checkpoint (header is not an object)")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError("malformed safetensors checkpoint (bad __metadata__)")
    entries = []
    for name, info in header.items():
        try:
            dtype = by_code[info["dtype"]]
            shape = [int(d) for d in info["shape"]]
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"malformed safetensors checkpoint (entry {name!r})") from None
        itemsize = dtype.itemsize
        if min(shape, default=0) < 0 or end - begin != math.prod(shape) * itemsize:
            raise CheckpointError(f"malformed safetensors checkpoint (entry {name!r} has the wrong size)")
        entries.append((name, dtype, shape, begin, end))
    data_start = 8 + size
    cursor = 0
    for _name, _dtype, _shape, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != cursor:
            raise CheckpointError("malformed safetensors checkpoint (tensors overlap or leave gaps)")
        cursor = end
    if data_start + cursor != total:
        raise CheckpointError("malformed safetensors checkpoint (data size does not match the header)")
    return entries, metadata, data_start


def read_safetensors(view: memoryview) -> tuple[dict[str, Any], dict[str, str]]:
    """Tensors sharing ``view``'s memory (pass a writable buffer: the caller's single copy of the file)."""
    import torch

    entries, metadata, start = parse_header(view, view.nbytes)
    tensors = {}
    for name, dtype, shape, begin, end in entries:
        if end == begin:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            raw = torch.frombuffer(view, dtype=torch.uint8, count=end - begin, offset=start + begin)
            tensors[name] = raw.view(dtype).reshape(shape)
    return tensors, metadata


def map_safetensors(path: PathLike) -> tuple[dict[str, Any], dict[str, str]]:
    """Lazy load: each tensor is a private copy-on-write memory map of the (verified) file.

    Pages are read on first touch; writes go to private pages and never reach the file, so a restored tensor
    behaves like an ordinary writable one (a read-only map would crash the kernel on an in-place write).
    """
    import numpy as np
    import torch

    total = os.path.getsize(path)
    with open(path, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8).ljust(8, b"\0"))
        head = memoryview(struct.pack("<Q", size) + fh.read(min(size, MAX_HEADER)))
    entries, metadata, start = parse_header(head, total)
    tensors = {}
    for name, dtype, shape, begin, end in entries:
        if end == begin:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        mapped = np.memmap(path, dtype=np.uint8, mode="c", offset=start + begin, shape=(end - begin,))
        tensors[name] = torch.from_numpy(mapped).view(dtype).reshape(shape)
    return tensors, metadata
