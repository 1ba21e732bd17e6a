"""Fingerprints of the user namespace after a recorded cell.

A type-keyed registry maps a value to a short description and an xxh3-128
digest of its content (zero-copy over array buffers).  Values that cannot be
hashed are recorded as skipped, with the reason, instead of breaking the cell.
The kernel-state issue builds incremental checkpoints and skip rules on top of
this registry; here every user variable is fingerprinted on every cell.
"""

from __future__ import annotations

import io
import pickle
import sys
import types
from collections.abc import Callable
from typing import Any

import xxhash

from .canonical import canonical_bytes

Fingerprint = dict[str, Any]
_REGISTRY: list[tuple[Callable[[Any], bool], Callable[[Any], Fingerprint]]] = []
_HIDDEN = {"In", "Out", "exit", "quit", "get_ipython", "open"}


def register(
    predicate: Callable[[Any], bool],
) -> Callable[[Callable[[Any], Fingerprint]], Callable[[Any], Fingerprint]]:
    """Add a fingerprint function for values where ``predicate`` is true (newest wins)."""

    def decorate(func: Callable[[Any], Fingerprint]) -> Callable[[Any], Fingerprint]:
        _REGISTRY.insert(0, (predicate, func))
        return func

    return decorate


def _xxh(*chunks: Any) -> str:
    h = xxhash.xxh3_128()
    for chunk in chunks:
        h.update(chunk)
    return "xxh3:" + h.hexdigest()


def _type_name(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__qualname__


def _is_numpy(value: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray)


@register(_is_numpy)
def _numpy(value: Any) -> Fingerprint:
    np = sys.modules["numpy"]
    if value.dtype.hasobject:
        return _generic(value)
    arr = np.ascontiguousarray(value)
    header = f"{arr.dtype.str}|{arr.shape}".encode()
    return {
        "type": "numpy.ndarray",
        "digest": _xxh(header, memoryview(arr).cast("B")),
        "shape": list(arr.shape),
        "dtype": str(arr.dtype),
        "size": int(arr.nbytes),
    }


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


@register(_is_tensor)
def _tensor(value: Any) -> Fingerprint:
    t = value.detach()
    if t.is_sparse or t.layout != sys.modules["torch"].strided:
        return _generic(value)
    t = t.to("cpu").contiguous()  # CUDA: a copy to host, device state untouched
    header = f"{t.dtype}|{tuple(t.shape)}|{value.device.type}".encode()
    data = t.view(-1).view(sys.modules["torch"].uint8).numpy() if t.numel() else b""
    return {
        "type": "torch.Tensor",
        "digest": _xxh(header, data),
        "shape": list(t.shape),
        "dtype": str(t.dtype),
        "size": int(t.numel() * t.element_size()),
    }


def _is_module(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, (torch.nn.Module, torch.optim.Optimizer))


@register(_is_module)
def _state_dict_owner(value: Any) -> Fingerprint:
    state = value.state_dict()
    h = xxhash.xxh3_128()
    size = 0
    for key, item in _flatten(state):
        h.update(key.encode())
        if _is_tensor(item):
            fp = _tensor(item)
            size += fp["size"]
            h.update(fp["digest"].encode())
        else:
            h.update(repr(item).encode())
    return {"type": _type_name(value), "digest": "xxh3:" + h.hexdigest(), "size": size}


def _flatten(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        out = []
        for k in sorted(obj, key=str):
            out += _flatten(obj[k], f"{prefix}/{k}")
        return out
    if isinstance(obj, (list, tuple)):
        out = []
        for i, v in enumerate(obj):
            out += _flatten(v, f"{prefix}/{i}")
        return out
    return [(prefix, obj)]


def _is_pandas(value: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, (pd.DataFrame, pd.Series))


@register(_is_pandas)
def _pandas(value: Any) -> Fingerprint:
    pd = sys.modules["pandas"]
    hashed = pd.util.hash_pandas_object(value, index=True).to_numpy()
    header = repr(
        (
            list(map(str, getattr(value, "columns", [value.name]))),
            [str(d) for d in (value.dtypes if hasattr(value, "columns") else [value.dtype])],
        )
    )
    return {
        "type": _type_name(value),
        "digest": _xxh(header.encode(), hashed.tobytes()),
        "shape": list(value.shape),
        "size": int(
            value.memory_usage(deep=False).sum() if hasattr(value, "columns") else value.memory_usage()
        ),
    }


_PLAIN = (type(None), bool, int, float, str)


def _is_plain(value: Any, depth: int = 0) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if depth > 4:
        return False
    if isinstance(value, (list, tuple)) and len(value) <= 10_000:
        return all(_is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict) and len(value) <= 10_000:
        return all(isinstance(k, str) and _is_plain(v, depth + 1) for k, v in value.items())
    return False


@register(_is_plain)
def _plain(value: Any) -> Fingerprint:
    data = canonical_bytes(value)
    return {"type": _type_name(value), "digest": _xxh(data), "size": len(data)}


def _is_set(value: Any) -> bool:
    return isinstance(value, (set, frozenset)) and len(value) <= 100_000


@register(_is_set)
def _set(value: Any) -> Fingerprint:
    """Sets iterate in hash order (random per process for str): hash the sorted members."""
    members = sorted(fingerprint(v).get("digest", "?") for v in value)
    return {"type": _type_name(value), "digest": _xxh("\n".join(members).encode()), "size": len(value)}


def _is_display_object(value: Any) -> bool:
    return type(value).__module__.split(".")[0] in ("matplotlib", "ipywidgets", "IPython")


@register(_is_display_object)
def _display_object(value: Any) -> Fingerprint:
    return {"type": _type_name(value), "skipped": "display object (its output is recorded instead)"}


def _generic(value: Any) -> Fingerprint:
    """Pickle protocol 5 with out-of-band buffers: hashes big buffers without copying them."""
    buffers: list[pickle.PickleBuffer] = []
    stream = io.BytesIO()
    pickle.Pickler(stream, protocol=5, buffer_callback=buffers.append).dump(value)
    h = xxhash.xxh3_128(stream.getbuffer())
    size = stream.tell()
    for buf in buffers:
        raw = buf.raw()
        h.update(raw)
        size += raw.nbytes
    return {"type": _type_name(value), "digest": "xxh3:" + h.hexdigest(), "size": size}


def fingerprint(value: Any) -> Fingerprint:
    try:
        for predicate, func in _REGISTRY:
            if predicate(value):
                return func(value)
        return _generic(value)
    except Exception as exc:  # unpicklable, broken __reduce__, ...: record why
        return {"type": _type_name(value), "skipped": f"{type(exc).__name__}: {str(exc)[:160]}"}


def user_variables(
    namespace: dict[str, Any], hidden: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The names a person defined: no IPython internals, modules, or ``_`` names."""
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in _HIDDEN or name in hidden:
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType)):
            continue
        out[name] = value
    return out


def fingerprint_namespace(
    namespace: dict[str, Any], hidden: set[str] | frozenset[str] = frozenset()
) -> dict[str, Fingerprint]:
    """One fingerprint per object; names sharing one object share one fingerprint computation."""
    by_id: dict[int, Fingerprint] = {}
    result = {}
    for name, value in sorted(user_variables(namespace, hidden).items()):
        key = id(value)
        if key not in by_id:
            by_id[key] = fingerprint(value)
        result[name] = by_id[key]
    return result
