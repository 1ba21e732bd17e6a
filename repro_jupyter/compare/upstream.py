"""Drift inherited from earlier cells: which names a cell reads, and which of them had
already changed before it ran (from the state fingerprints recorded after each cell)."""

from __future__ import annotations

import ast
from typing import Any

from ..numbering import cell_label


def names_read(source: str) -> set[str]:
    """Global names a cell loads (after IPython's own syntax is turned into Python)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        code = TransformerManager().transform_cell(source)
        tree = ast.parse(code)
    except (SyntaxError, ValueError, ImportError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def upstream_cause(
    source: str, changed_before: dict[str, int], first_drift: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A cause when this cell reads variables that already differed, or an earlier cell drifted."""
    read = names_read(source)
    inherited = sorted(name for name in read if name in changed_before)
    if inherited:
        origin = min(changed_before[n] for n in inherited)
        return {
            "kind": "upstream",
            "score": 0.88,
            "detail": f"reads {', '.join(inherited[:6])}, which already differed after {cell_label(origin)}",
        }
    if first_drift is not None:
        return {
            "kind": "upstream",
            "score": 0.5,
            "detail": f"an earlier cell drifted first ({cell_label(first_drift['index'])})",
        }
    return None
