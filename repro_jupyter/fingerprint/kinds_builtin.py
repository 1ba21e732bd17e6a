"""Python's own values: scalars, containers, dates, references to code, and any object by its reduce parts.

Containers are hashed from their members' fingerprints; ``dict`` and ``set`` independently of order (as
``==`` is: a dict built from a set's iteration order is the same value in every run).  Large JSON-like lists
and dicts take one ``json.dumps`` pass instead of a Python-level walk.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import pickle
import types
from typing import Any

from .walk import (
    Digest,
    Fingerprint,
    Kind,
    Unfingerprintable,
    Walk,
    add_exact,
    display,
    loaded,
    module_root,
    one_line,
    type_name,
    xxh,
)

KINDS: list[Kind] = []  # (predicate on the type, handler), in priority order

JSON_FAST_MIN = 16
JSON_MAX_DEPTH = 8
# Libraries whose objects, walked through their reduce parts, hold plain value state (no caches, clocks or
# handles we know of).  Objects of any other library are walked the same way but marked opaque.
TRUSTED_ROOTS = frozenset(
    {
        "__main__",
        "builtins",
        "collections",
        "copyreg",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "operator",
        "pathlib",
        "random",
        "re",
        "types",
        "uuid",
        "zoneinfo",
        "numpy",
        "scipy",
        "sklearn",
    }
)


def _leaf(kind: str, data: bytes, size: int | None = None) -> Fingerprint:
    return {
        "type": kind,
        "digest": xxh(kind.encode(), b"\0", data),
        "size": len(data) if size is None else size,
    }


def _none(value: Any, walk: Walk) -> Fingerprint:
    return _leaf("NoneType", b"")


def _bool(value: Any, walk: Walk) -> Fingerprint:
    return _leaf("bool", b"1" if value else b"0")


def _int(value: Any, walk: Walk) -> Fingerprint:
    return _leaf("int", hex(value).encode())  # hex: no 4300-digit limit


def _float(value: Any, walk: Walk) -> Fingerprint:
    return _leaf("float", float.hex(value).encode(), 8)


def _complex(value: Any, walk: Walk) -> Fingerprint:
    return _leaf("complex", f"{value.real.hex()},{value.imag.hex()}".encode(), 16)


def _str(value: Any, walk: Walk) -> Fingerprint:
    return _leaf("str", value.encode("utf-8", "surrogatepass"))


def _bytes(value: Any, walk: Walk) -> Fingerprint:
    return {
        "type": type_name(value),
        "digest": xxh(type_name(value).encode(), b"\0", value),
        "size": len(value),
    }


def _memoryview(value: Any, walk: Walk) -> Fingerprint:
    header = f"memoryview|{value.format}|{value.shape}".encode()
    return {"type": "memoryview", "digest": xxh(header, value.tobytes()), "size": value.nbytes}


def _pickle_buffer(value: Any, walk: Walk) -> Fingerprint:
    raw = value.raw()
    return {"type": "pickle.PickleBuffer", "digest": xxh(b"buffer\0", raw), "size": raw.nbytes}


add_exact((type(None),), _none, scalar=True)
add_exact((bool,), _bool, scalar=True)
add_exact((int,), _int, scalar=True)
add_exact((float,), _float, scalar=True)
add_exact((complex,), _complex, scalar=True)
add_exact((str,), _str, scalar=True)
add_exact((bytes, bytearray), _bytes)
add_exact((memoryview,), _memoryview)
add_exact((pickle.PickleBuffer,), _pickle_buffer)


# -- containers -------------------------------------------------------------------------------------------


_JSON_LEAVES = frozenset({str, int, bool, type(None)})


def _json_exact(value: Any, depth: int = 0) -> bool:
    """JSON says exactly this value: no tuples, no non-finite floats, string keys, no subclasses.

    Members are checked a type at a time (``map`` runs in C), so a list of a million floats costs little.
    """
    t = type(value)
    if t in _JSON_LEAVES:
        return True
    if t is float:
        return math.isfinite(value)
    if depth > JSON_MAX_DEPTH:
        return False
    if t is dict:
        if set(map(type, value)) - {str}:
            return False
        members: Any = value.values()
    elif t is list:
        members = value
    else:
        return False
    kinds = set(map(type, members))
    if float in kinds and not all(map(math.isfinite, (v for v in members if type(v) is float))):
        return False
    if kinds - _JSON_LEAVES - {float}:
        return all(_json_exact(v, depth + 1) for v in members if type(v) in (list, dict)) and not (
            kinds - _JSON_LEAVES - {float, list, dict}
        )
    return True


def _int_keyed(value: Any) -> Any:
    """A dict with int keys and JSON values as its sorted ``[key, value]`` pairs (JSON keys are strings)."""
    if type(value) is not dict or set(map(type, value)) != {int}:
        return None
    pairs = sorted(value.items())
    return pairs if _json_exact(list(value.values())) else None


def _json_fast(value: Any) -> Fingerprint | None:
    if len(value) < JSON_FAST_MIN:
        return None
    kind, name, tree = b"json:", type_name(value), value
    if not _json_exact(value):
        tree = _int_keyed(value)
        if tree is None:
            return None
        kind = b"json-int-keys:"
    try:
        data = json.dumps(tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):  # a huge int, a cycle: the walk decides
        return None
    raw = data.encode("utf-8", "surrogatepass")
    return {
        "type": name,
        "digest": xxh(kind, name.encode(), b"\0", raw),
        "size": len(raw),
    }


def _extra_attrs(value: Any, d: Digest, walk: Walk) -> None:
    """A subclass instance's own attributes are part of its value (pickle keeps them too)."""
    attrs = getattr(value, "__dict__", None)
    if attrs:
        d.raw("attrs").add(walk.child(attrs))


def _sequence(value: Any, walk: Walk) -> Fingerprint:
    if type(value) is list:
        fast = _json_fast(value)
        if fast is not None:
            return fast
    d = Digest(type_name(value)).raw(str(len(value)))
    for item in value:
        d.raw(d.token(walk, item))
    if type(value) not in (list, tuple):
        _extra_attrs(value, d, walk)
    return display(value) if d.all_display() else d.result(value)


def _mapping(value: Any, walk: Walk) -> Fingerprint:
    if type(value) is dict:
        fast = _json_fast(value)
        if fast is not None:
            return fast
    d = Digest(type_name(value)).raw(str(len(value)))
    pairs = [(d.token(walk, key), d.token(walk, item)) for key, item in list(value.items())]
    if not isinstance(value, loaded("collections").OrderedDict):  # an OrderedDict's == compares order
        pairs.sort()  # keys are unique, so their tokens are: the order is total
    for key_token, item_token in pairs:
        d.raw(key_token, item_token)
    factory = getattr(value, "default_factory", None)
    if factory is not None:
        d.raw("default_factory").add(walk.child(factory))
    if type(value) is not dict:
        _extra_attrs(value, d, walk)
    return display(value) if d.all_display() else d.result(value)


def _set(value: Any, walk: Walk) -> Fingerprint:
    """Sets iterate in hash order (random per process for str): hash the sorted member tokens."""
    d = Digest(type_name(value)).raw(str(len(value)))
    for token in sorted(d.token(walk, v) for v in list(value)):
        d.raw(token)
    return d.result(value)


def _is(*bases: type) -> Any:
    return lambda t: issubclass(t, bases)


add_exact((list, tuple), _sequence)
add_exact((dict,), _mapping)
add_exact((set, frozenset), _set)
KINDS.append((_is(list, tuple), _sequence))  # namedtuples, torch.Size, list subclasses
KINDS.append((_is(dict), _mapping))  # OrderedDict, defaultdict, Counter
KINDS.append((_is(set, frozenset), _set))


# -- values whose repr is exact ---------------------------------------------------------------------------


def repr_value(value: Any, walk: Walk) -> Fingerprint:
    """Types whose repr is exact and address-free (dates, Decimal, UUID, paths, ranges)
    hashed by that text; a default ``<... at 0x...>`` repr falls back to the reduce walk."""
    text = repr(value)
    if " at 0x" in text:  # a default repr names the address: not a value
        return reduced(value, walk)
    return _leaf(type_name(value), text.encode("utf-8", "surrogatepass"), len(text))


def _repr_kind(t: type) -> bool:
    if issubclass(t, (datetime.date, datetime.time, datetime.timedelta, datetime.tzinfo, range, slice)):
        return True
    for module, names in (
        ("decimal", ("Decimal",)),
        ("fractions", ("Fraction",)),
        ("uuid", ("UUID",)),
        ("pathlib", ("PurePath",)),
    ):
        mod = loaded(module)
        if mod is not None and issubclass(t, tuple(getattr(mod, n) for n in names)):
            return True
    return t in (type(Ellipsis), type(NotImplemented))


def _enum_member(value: Any, walk: Walk) -> Fingerprint:
    return _leaf(
        type_name(value), f"{type(value).__module__}.{type(value).__qualname__}.{value.name}".encode()
    )


KINDS.append((_repr_kind, repr_value))
KINDS.append((lambda t: (e := loaded("enum")) is not None and issubclass(t, e.Enum), _enum_member))


# -- references to code -----------------------------------------------------------------------------------


def _qualified(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__qualname__
    return f"{module}.{name}"


def _code(code: types.CodeType, walk: Walk) -> Fingerprint:
    d = Digest("code").raw(code.co_code, " ".join(code.co_names))
    for const in code.co_consts:
        d.add(walk.child(const))
    return d.result(code)


def _function(value: Any, walk: Walk) -> Fingerprint:
    """Pickle names a function; one defined in the notebook (or a lambda) is also hashed by its code."""
    name = _qualified(value)
    d = Digest("function").raw(name)
    if value.__module__ in (None, "__main__") or "<" in value.__qualname__:
        d.add(walk.child(value.__code__))
        d.add(walk.child(value.__defaults__)).add(walk.child(value.__kwdefaults__))
        for cell in value.__closure__ or ():
            try:
                d.add(walk.child(cell.cell_contents))
            except ValueError:  # an empty cell
                d.raw("empty-cell")
    return d.result(value, size=0)


def _bound(value: Any, walk: Walk) -> Fingerprint:
    """A bound method is its function plus the object it is bound to (``rng.random`` holds ``rng``)."""
    d = Digest("method").raw(_qualified(getattr(value, "__func__", value)))
    owner = getattr(value, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        d.add(walk.child(owner))
    return d.result(value, size=0)


def _reference(value: Any, walk: Walk) -> Fingerprint:
    name = value.__name__ if isinstance(value, types.ModuleType) else _qualified(value)
    return {"type": type_name(value), "digest": xxh(b"ref\0", name.encode()), "size": 0}


add_exact((types.FunctionType,), _function)
add_exact((types.CodeType,), _code)
add_exact((types.MethodType,), _bound)
add_exact((types.BuiltinFunctionType,), _bound)
add_exact((types.ModuleType, types.MethodDescriptorType, types.WrapperDescriptorType), _reference)
KINDS.append((_is(type), _reference))


# -- any other object -------------------------------------------------------------------------------------


def reduced(value: Any, walk: Walk) -> Fingerprint:
    """Any other object by the parts pickle would save (``__reduce_ex__(5)``), each walked by value.

    Dataclasses and types of the libraries in ``TRUSTED_ROOTS`` are values; any other library's object is
    opaque (same digest in identical runs, but a change is not proven to be a change of value).
    """
    t = type(value)
    try:
        parts = value.__reduce_ex__(5)
    except Exception as exc:  # cannot be pickled: nothing to walk
        raise Unfingerprintable(one_line(exc)) from None
    if isinstance(parts, str):  # a module-level singleton, pickled by name
        return {"type": type_name(value), "digest": xxh(b"global\0", _qualified(t).encode(), parts.encode())}
    if not isinstance(parts, tuple) or len(parts) < 2:
        raise Unfingerprintable(f"{type_name(value)}.__reduce_ex__ returned {type(parts).__name__}")
    d = Digest("reduce:" + type_name(value))
    d.add(walk.child(parts[0])).add(walk.child(parts[1]))
    if len(parts) > 2 and parts[2] is not None:
        d.raw("state").add(walk.child(parts[2]))
    if len(parts) > 3 and parts[3] is not None:
        d.raw("items").add(walk.child(list(parts[3])))
    if len(parts) > 4 and parts[4] is not None:
        d.raw("dictitems").add(walk.child(list(parts[4])))
    if d.all_display():
        return display(value)
    fp = d.result(value)
    if not (module_root(t) in TRUSTED_ROOTS or dataclasses.is_dataclass(t)):
        fp["opaque"] = True
    return fp
