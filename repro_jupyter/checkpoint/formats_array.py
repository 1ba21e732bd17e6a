"""NumPy arrays and scalars as standard ``.npy`` files (no pickle, memory-mappable).

Layout: NumPy's own ``.npy`` v1.0 header (v2.0 when a structured dtype needs a longer one), padded by NumPy
to a 64-byte boundary, then the raw bytes of the snapshot in C order (Fortran order, flagged in the header,
when the array was Fortran-contiguous: the layout is kept, not transposed).  Object dtypes are not
representable and go to the signed-pickle format.
"""

from __future__ import annotations

import io
import math
import sys
from typing import Any

from .formats_base import Buffer, CheckpointError, Encoded, PathLike, byte_view, check_size, is_path
from .snapshot_pool import MIN_POOLED, pooled_copy

HEADER_SLACK = 4096


def encode_ndarray(value: Any, max_bytes: int | None) -> Encoded | None:
    """Snapshot in the foreground (one memcpy into a pooled buffer), the header now, the bytes later.

    NumPy is looked up, never imported: a notebook that has not imported it holds no array, and importing
    it here would change what the environment snapshot of the next cell sees (BLAS facts, imported
    packages), so a re-run would not be byte-identical.
    """
    np = sys.modules.get("numpy")
    if np is None:
        return None
    scalar = isinstance(value, np.generic)
    if not scalar and type(value) not in (np.ndarray, np.memmap):
        return None  # subclasses (masked arrays, matrices) carry more than the buffer: signed pickle
    if value.dtype.hasobject:
        return None
    check_size(value.nbytes + HEADER_SLACK, max_bytes)  # before copying a single byte
    if scalar or value.nbytes < MIN_POOLED:
        snap = np.array(value, copy=True, order="K", subok=False)
    else:  # big: into a reused, already-touched buffer (first touch of fresh pages is the real cost)
        fortran_in = value.ndim > 1 and value.flags.f_contiguous and not value.flags.c_contiguous
        snap = pooled_copy(value, "F" if fortran_in else "C")
    fortran = bool(snap.ndim > 1 and snap.flags.f_contiguous and not snap.flags.c_contiguous)
    header = {
        "descr": np.lib.format.dtype_to_descr(snap.dtype),
        "fortran_order": fortran,
        "shape": snap.shape,
    }
    head = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(head, header)
    except ValueError:  # header longer than 64 KiB (many structured fields)
        head = io.BytesIO()
        np.lib.format.write_array_header_2_0(head, header)
    parts: list[Buffer] = [head.getvalue()]
    if snap.nbytes:
        flat = (snap.T if fortran else snap).reshape(-1).view(np.uint8)
        parts.append(byte_view(flat))
    meta = {"dtype": snap.dtype.str, "shape": list(snap.shape), "scalar": scalar}
    return Encoded("npy", meta, parts)


def decode_npy(meta: dict[str, Any], data: Buffer | PathLike, *, lazy: bool = False) -> Any:
    """An ``.npy`` checkpoint back as an array (or a NumPy scalar); never unpickles (``allow_pickle=False``).

    ``lazy=True`` with a file path returns a read-only ``np.memmap``: pages are read on first touch, so
    restoring a 1 GiB array costs well under a millisecond.  **The caller must verify the file's sha256
    before handing the path over** (the store's content address): a memory map reads the file as it is at
    access time, so only a verified, immutable store object may be mapped.  ``lazy=True`` with bytes returns
    a read-only view of them (no copy).  ``lazy=False`` always returns a fresh, writable array.
    """
    import numpy as np

    fmt = np.lib.format
    array: np.ndarray[Any, Any]  # a read-only np.memmap when lazy with a path
    try:
        if is_path(data):
            if lazy:
                array = fmt.open_memmap(data, mode="r")
            else:
                with open(data, "rb") as fh:
                    array = fmt.read_array(fh, allow_pickle=False)
        else:
            view = memoryview(data).cast("B")
            array = _view_of_bytes(np, view) if lazy else fmt.read_array(io.BytesIO(view), allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise CheckpointError(f"checkpoint file {exc.filename} is missing") from None
        raise CheckpointError(f"malformed npy checkpoint ({exc})") from None
    _check_matches(meta, array)
    return array[()] if meta.get("scalar") else array


def _view_of_bytes(np: Any, view: memoryview) -> Any:
    fmt = np.lib.format
    head = io.BytesIO(bytes(view[: 1 << 17]))
    version = fmt.read_magic(head)
    read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, fortran, dtype = read_header(head)
    if dtype.hasobject:
        raise ValueError("object arrays are not stored as npy")
    count = math.prod(shape)
    array = np.frombuffer(view, dtype=dtype, count=count, offset=head.tell()) if count else np.empty(0, dtype)
    array = array.reshape(shape, order="F" if fortran else "C")
    array.flags.writeable = False
    return array


def _check_matches(meta: dict[str, Any], array: Any) -> None:
    shape, dtype = meta.get("shape"), meta.get("dtype")
    if shape is not None and list(array.shape) != list(shape):
        raise CheckpointError(f"npy checkpoint has shape {list(array.shape)}, its record says {list(shape)}")
    if dtype is not None and array.dtype.str != dtype:
        raise CheckpointError(f"npy checkpoint has dtype {array.dtype.str}, its record says {dtype}")
