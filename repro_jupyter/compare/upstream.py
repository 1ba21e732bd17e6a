"""Drift inherited from earlier cells: which names a cell reads, and which of them had
already changed before it ran (from the state fingerprints recorded after each cell)."""

from __future__ import annotations

import ast
from typing import Any

from ..numbering import cell_label


def _tree(source: str) -> ast.AST | None:
    """The cell as Python (IPython's own syntax turned into calls first), or None."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, ImportError):
        return None


def names_read(source: str) -> set[str]:
    """Global names a cell loads (after IPython's own syntax is turned into Python)."""
    tree = _tree(source)
    if tree is None:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def loop_names(source: str) -> set[str]:
    """Names a cell binds as the target of a top-level ``for`` loop (``i``, ``idx``, ``epoch``):
    temporaries that leak into the namespace, not results anyone asks the lineage about."""
    tree = _tree(source)
    if tree is None:
        return set()
    loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.AsyncFor))]
    return {n.id for loop in loops for n in ast.walk(loop.target) if isinstance(n, ast.Name)}


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
