"""Hyperparameters: declared with ``--params`` or found as literal top-level assignments.

ML notebooks keep their hyperparameters as literals (``lr = 0.05``, ``epochs = 60``,
``config = {...}``), often in a cell tagged ``parameters`` (papermill's convention).
Recording those values lets verify say "lr 0.05 -> 0.06" instead of just "the code
changed".  Values come from the namespace after the cell, must be small and
JSON-able, and pass through secret redaction like every recorded value.
"""

from __future__ import annotations

import ast
from typing import Any

from .canonical import canonical_bytes
from .redact import redact_text, redact_value

MAX_PARAM_BYTES = 2000


def literal_assignments(source: str) -> dict[str, Any]:
    """Names assigned a literal at the top level of a cell, with the literal (``x = 1``, ``a, b = 1, 2``)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return {}
    names: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        if value is None:
            continue
        try:
            literal = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        for target in targets:
            if isinstance(target, ast.Name) and not target.id.startswith("_"):
                names[target.id] = literal
            elif (
                isinstance(target, (ast.Tuple, ast.List))
                and isinstance(literal, (tuple, list))
                and len(literal) == len(target.elts)
            ):
                names.update(
                    {
                        t.id: v
                        for t, v in zip(target.elts, literal, strict=True)
                        if isinstance(t, ast.Name) and not t.id.startswith("_")
                    }
                )
    return names


def _without_hash_order(value: Any, depth: int = 0) -> Any:
    """Sets iterate in hash order (random per process for str): record their members sorted, so the
    same notebook gives the same record digest on every run."""
    if depth > 20:
        return value
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((_without_hash_order(v, depth + 1) for v in value), key=repr)}
    if isinstance(value, dict):
        return {k: _without_hash_order(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_hash_order(v, depth + 1) for v in value)
    return value


def param_value(name: str, namespace: dict[str, Any]) -> Any:
    """The recordable value of ``name``: JSON-able and small, redacted; else a short repr."""
    if name not in namespace:
        return {"missing": True}
    value = redact_value(name, _without_hash_order(namespace[name]))
    try:
        data = canonical_bytes(value)
    except (TypeError, ValueError):
        return {"repr": redact_text(repr(value))[:500]}
    if len(data) > MAX_PARAM_BYTES:
        return {"repr": redact_text(repr(value))[:500], "truncated": True}
    return value


def collect_params(declared: list[str], source: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Declared names always; literal assignments only if the value still equals the literal at the
    end of the cell (``losses = []`` filled by a loop is an accumulator, not a hyperparameter)."""
    params = {name: param_value(name, namespace) for name in declared}
    for name, literal in literal_assignments(source).items():
        if name in params or name not in namespace:
            continue
        try:
            same = type(namespace[name]) is type(literal) and namespace[name] == literal
        except Exception:
            same = False
        if same:
            params[name] = param_value(name, namespace)
    return params
