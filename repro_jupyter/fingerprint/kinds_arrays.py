"""NumPy arrays and scalars, SciPy sparse matrices and PIL images, by value.

Arrays are hashed zero-copy over their buffer when C-contiguous (one copy otherwise: views, Fortran order),
with the dtype and shape in the header, so a 0-d array, a 1-element array and a scalar never collide.
Structured arrays are hashed field by field (padding bytes between fields are not part of the value and may
differ between runs); object arrays element by element, each by its own fingerprint.
"""

from __future__ import annotations

from typing import Any

from .walk import Digest, Fingerprint, Kind, Walk, display, loaded, type_name, xxh

KINDS: list[Kind] = []  # (predicate on the type, handler), in priority order

OBJECT_ARRAY_MAX = 1_000_000


def _np() -> Any:
    return loaded("numpy")


def _is_ndarray(t: type) -> bool:
    np = _np()
    return np is not None and issubclass(t, np.ndarray)


def _plain_buffer(np: Any, arr: Any) -> Any:
    """A C-contiguous array with the same values: the array itself when it already is one."""
    if arr.flags.c_contiguous:
        return arr
    # np.array keeps a 0-d array 0-d (np.ascontiguousarray does not)
    return np.array(arr, order="C", copy=True, subok=False)


def _header(arr: Any, kind: str) -> bytes:
    return f"{kind}|{arr.dtype.str}|{arr.dtype.descr if arr.dtype.names else ''}|{arr.shape}".encode()


def _data_digest(np: Any, arr: Any, walk: Walk) -> tuple[str, bool, bool]:
    """(digest of the values, opaque, all display) of a plain ndarray view."""
    if arr.dtype.names:  # structured: field by field, padding excluded
        d = Digest(_header(arr, "struct").decode())
        for name in arr.dtype.names:
            sub = arr[name]
            digest, opaque, _ = _data_digest(np, sub, walk)
            d.raw(name, digest)
            d.opaque = d.opaque or opaque
        return "xxh3:" + d.h.hexdigest(), d.opaque, False
    if arr.dtype.hasobject:
        if arr.size > OBJECT_ARRAY_MAX:
            from .walk import Unfingerprintable

            raise Unfingerprintable(f"an object array of more than {OBJECT_ARRAY_MAX} elements")
        d = Digest(_header(arr, "object").decode())
        for item in arr.reshape(-1).tolist():
            d.add(walk.child(item))
        return "xxh3:" + d.h.hexdigest(), d.opaque, d.all_display()
    flat = _plain_buffer(np, arr)
    data = memoryview(flat).cast("B") if flat.nbytes else b""
    return xxh(_header(arr, "ndarray"), data), False, False


def _ndarray(value: Any, walk: Walk) -> Fingerprint:
    np = _np()
    arr = value.view(np.ndarray)  # the buffer's values; the subclass is named in the type
    masked = loaded("numpy.ma")
    parts = [type_name(value) if type(value) not in (np.ndarray, np.memmap) else "ndarray"]
    digest, opaque, all_display = _data_digest(np, arr, walk)
    if all_display:
        return display(value)
    parts.append(digest)
    if masked is not None and isinstance(value, masked.MaskedArray):
        mask = masked.getmaskarray(value)
        parts += [
            xxh(memoryview(_plain_buffer(np, mask)).cast("B") if mask.nbytes else b""),
            repr(value.fill_value),
        ]
    fp: Fingerprint = {
        "type": type_name(value),
        "digest": xxh(*(p.encode() for p in parts)),
        "shape": list(value.shape),
        "dtype": str(value.dtype),
        "size": int(value.nbytes),
    }
    if opaque:
        fp["opaque"] = True
    return fp


def _is_np_scalar(t: type) -> bool:
    np = _np()
    return np is not None and issubclass(t, np.generic)


def _np_scalar(value: Any, walk: Walk) -> Fingerprint:
    """A NumPy scalar is its 0-d array's value, kept apart from that array (it behaves differently)."""
    fp = _ndarray(_np().asarray(value), walk)
    return {**fp, "type": type_name(value), "digest": xxh(b"scalar\0", fp["digest"].encode())}


KINDS.append((_is_ndarray, _ndarray))
KINDS.append((_is_np_scalar, _np_scalar))


# -- scipy.sparse ----------------------------------------------------------------------------------------

_SPARSE_ARRAYS = {
    "csr": ("data", "indices", "indptr"),
    "csc": ("data", "indices", "indptr"),
    "bsr": ("data", "indices", "indptr"),
    "coo": ("data", "row", "col"),
    "dia": ("data", "offsets"),
}


def _is_sparse(t: type) -> bool:
    sparse = loaded("scipy.sparse")
    if sparse is None:
        return False
    bases = tuple(b for b in (getattr(sparse, "spmatrix", None), getattr(sparse, "sparray", None)) if b)
    return bool(bases) and issubclass(t, bases)


def _sparse(value: Any, walk: Walk) -> Fingerprint:
    """Format, shape, dtype and the format's own arrays; dok/lil through their canonical CSR form."""
    fmt = value.format
    names = _SPARSE_ARRAYS.get(fmt)
    matrix = value
    if names is None:
        matrix = value.tocsr(copy=True)
        matrix.sum_duplicates()
        matrix.sort_indices()
        names = _SPARSE_ARRAYS["csr"]
    d = Digest(f"sparse|{type_name(value)}|{fmt}|{value.shape}|{value.dtype.str}")
    if fmt == "bsr":
        d.raw(str(value.blocksize))
    size = 0
    for name in names:
        arr = getattr(matrix, name)
        d.raw(name).add(walk.child(arr))
        size += int(arr.nbytes)
    return d.result(value, size=size, shape=list(value.shape), dtype=str(value.dtype))


KINDS.append((_is_sparse, _sparse))


# -- PIL -------------------------------------------------------------------------------------------------


def _is_pil(t: type) -> bool:
    image = loaded("PIL.Image")
    return image is not None and issubclass(t, image.Image)


def _pil(value: Any, walk: Walk) -> Fingerprint:
    """Mode, size, palette and pixels: what the image shows (not its file's metadata)."""
    pixels = value.tobytes()
    palette = value.getpalette() if value.mode in ("P", "PA") else None
    d = Digest(f"PIL|{value.mode}|{value.size}").raw(pixels, repr(palette))
    return d.result(value, size=len(pixels), shape=[value.size[1], value.size[0]], dtype=value.mode)


KINDS.append((_is_pil, _pil))
