"""Choosing a format for a value (``encode``) and reading one back (``decode``).

Safe formats first, by type; the signed pickle only as a last resort:

==================  =========================================================  ==========================
format              values                                                     file
==================  =========================================================  ==========================
``npy``             NumPy arrays and scalars (not object dtype)                ``formats_array``
``safetensors``     dense torch tensors (CPU or CUDA; restored on CPU)         ``formats_torch``
``torch-module``    ``torch.nn.Module``: signed structure + safetensors state  ``formats_torch``
``torch-optimizer`` ``torch.optim.Optimizer``: its ``state_dict()``            ``formats_torch``
``parquet``         pandas ``DataFrame``/``Series`` that round-trip exactly    ``formats_data``
``json``            plain data (None, bool, int, float, str, list, tuple, dict)  ``formats_data``
``pickle-hmac``     anything else pickle can hold, signed with the user's key  ``formats_container``
==================  =========================================================  ==========================

NumPy, torch and pandas are consulted only if the kernel has already imported them: checkpointing never
imports a heavy library the notebook did not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .formats_array import decode_npy, encode_ndarray
from .formats_base import Buffer, CheckpointError, Encoded, PathLike, Skipped, TooLarge, one_line, too_large
from .formats_container import decode_pickle, encode_pickle
from .formats_data import NotPlain, decode_json, decode_pandas, encode_json, encode_pandas
from .formats_torch import (
    decode_module,
    decode_optimizer,
    decode_tensor,
    encode_module,
    encode_optimizer,
    encode_tensor,
)
from .snapshot_pool import POOL

_ENCODERS: tuple[Callable[[Any, int | None], Encoded | None], ...] = (
    encode_ndarray,
    encode_tensor,
    encode_module,
    encode_optimizer,
    encode_pandas,
    encode_json,
)

FORMATS = ("npy", "safetensors", "torch-module", "torch-optimizer", "parquet", "json", "pickle-hmac")


def encode(value: Any, *, max_bytes: int | None = None) -> Encoded | Skipped:
    """Take a stable snapshot of ``value`` (cheap: at most one copy of its data) for a writer thread.

    Never raises for a bad value: what cannot be checkpointed comes back as ``Skipped`` with a one-line
    reason (``"TypeError: cannot pickle '_thread.lock' object"``, ``"larger than the N byte limit"``).  The
    size limit is checked against a cheap estimate before anything is copied.
    """
    with POOL.lease() as leased:
        result = _encode(value, max_bytes)
    if isinstance(result, Encoded):
        result._pooled = leased  # the writer's ``release()`` gives them back once the bytes are stored
    elif leased:  # skipped after a snapshot was taken: nothing refers to those buffers any more
        POOL.give_back(leased)
    return result


def _encode(value: Any, max_bytes: int | None) -> Encoded | Skipped:
    try:
        for encoder in _ENCODERS:
            encoded = encoder(value, max_bytes)
            if encoded is not None:
                return encoded
        return encode_pickle(value, max_bytes)
    except TooLarge as exc:
        return too_large(exc.limit)
    except NotPlain as exc:
        return Skipped(str(exc))
    except Exception as exc:  # pickling runs arbitrary user code (__reduce__, __getstate__)
        return Skipped(one_line(exc))


def decode(format: str, meta: dict[str, Any], data: Buffer | PathLike, *, lazy: bool = False) -> Any:
    """Rebuild a value from the file ``encode`` produced (bytes, or the path of a verified store object).

    ``lazy=True`` memory-maps where the format allows (``npy``: a read-only ``np.memmap``; ``safetensors``:
    a private copy-on-write map).  **The caller must have verified the file's sha256 (its store address)
    before passing its path**: a map reads the file when pages are touched, so only verified, immutable
    objects may be mapped.  Other formats ignore ``lazy``.

    Pickle-bearing formats (``pickle-hmac``, ``torch-module``) check the HMAC with this user's key before
    anything is unpickled and raise ``UnsignedObject`` / ``BadSignature`` otherwise.  ``torch-optimizer``
    returns the optimizer's ``state_dict`` (load it into a live optimizer).  Problems are ``StoreError``
    subclasses with one-line messages.
    """
    if format == "npy":
        return decode_npy(meta, data, lazy=lazy)
    if format == "safetensors":
        return decode_tensor(meta, data, lazy=lazy)
    if format == "torch-module":
        return decode_module(meta, data)
    if format == "torch-optimizer":
        return decode_optimizer(meta, data)
    if format == "parquet":
        return decode_pandas(meta, data)
    if format == "json":
        return decode_json(meta, data)
    if format == "pickle-hmac":
        return decode_pickle(meta, data)
    raise CheckpointError(f"unknown checkpoint format {format!r} (known: {', '.join(FORMATS)})")
