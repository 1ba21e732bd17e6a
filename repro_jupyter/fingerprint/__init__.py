"""Fingerprints of the user namespace after a recorded cell.

Every variable gets a short description and an xxh3-128 digest of its *value* (zero-copy over array
buffers), so identical runs give identical digests and a changed value a different one.  The fields (the
``variableFingerprint`` definition in ``schema/record.v1.json``):

- ``type``, ``digest``, ``size`` (bytes hashed), ``shape``/``dtype`` for arrays and frames;
- ``scheme``: the fingerprint scheme (``walk.SCHEME``); digests of different schemes are not comparable;
- ``opaque: true``: the digest is not proven to follow the value (pickle bytes, or an object of a library
  whose internal state we do not know); a change is "unverified state", not drift;
- ``skipped``: no digest, and why (display objects: their output is compared instead; values that cannot
  be hashed at all).

What each type is hashed from: ``kinds_builtin`` (Python values, dates, code references, any object by its
reduce parts), ``kinds_arrays`` (NumPy, SciPy sparse, PIL), ``kinds_torch``, ``kinds_pandas``,
``kinds_sklearn``, ``kinds_display``.  Nothing here imports a library the notebook did not: every type test
looks the library up in ``sys.modules``.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from . import kinds_arrays, kinds_builtin, kinds_display, kinds_pandas, kinds_sklearn, kinds_torch
from .walk import DISPLAY_REASON, SCHEME, Fingerprint, Walk, add_user, generic, install, one_line
from .walk import type_name as _type_name

__all__ = [
    "DISPLAY_REASON",
    "SCHEME",
    "Fingerprint",
    "fingerprint",
    "fingerprint_namespace",
    "register",
    "user_variables",
]

_HIDDEN = {"In", "Out", "exit", "quit", "get_ipython", "open"}

# Display state first (a matplotlib ``silent_list`` is a list, but what it holds is drawn); library kinds
# next; subclasses of builtins, repr values and references last.
install(
    kinds_display.KINDS
    + kinds_arrays.KINDS
    + kinds_torch.KINDS
    + kinds_pandas.KINDS
    + kinds_sklearn.KINDS
    + kinds_builtin.KINDS
)


def register(
    predicate: Callable[[Any], bool],
) -> Callable[[Callable[[Any], Fingerprint]], Callable[[Any], Fingerprint]]:
    """Add a fingerprint function for values where ``predicate`` is true (newest wins, before every kind)."""

    def decorate(func: Callable[[Any], Fingerprint]) -> Callable[[Any], Fingerprint]:
        add_user(predicate, func)
        return func

    return decorate


def fingerprint(value: Any) -> Fingerprint:
    """The value's fingerprint; never raises (what cannot be hashed is ``skipped``, with the reason).

    A value the walker cannot follow (deeper than ``walk.MAX_DEPTH``, more than ``walk.MAX_NODES`` objects,
    a reduce that fails) falls back to its pickle bytes, marked opaque.
    """
    try:
        fp = Walk().child(value)
    except Exception:  # Unfingerprintable, RecursionError, a library's own error: try the pickle bytes
        try:
            fp = generic(value)
        except Exception as exc:  # unpicklable, broken __reduce__, ...: record why
            return {"type": _type_name(value), "skipped": one_line(exc)}
    if "digest" in fp:
        fp = {**fp, "scheme": SCHEME}
    return fp


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
