"""Variables a cell assigns from the wall clock: their change is not a result changing.

``n = int(time.time())`` or ``elapsed = time.perf_counter() - t0`` differ on every run by
construction; nbval's own suite keeps such a cell.  Only names assigned *directly* from an
expression that calls a clock are exempt (so ``model`` fitted between two ``time.time()``
calls is still compared); their change is reported as unverified, never as "same".
"""

from __future__ import annotations

import ast

CLOCK_CALLS = frozenset(
    {
        "time",
        "time_ns",
        "perf_counter",
        "perf_counter_ns",
        "monotonic",
        "monotonic_ns",
        "process_time",
        "process_time_ns",
        "thread_time",
        "now",
        "utcnow",
        "today",
        "localtime",
        "gmtime",
        "ctime",
        "asctime",
    }
)
_CLOCK_OWNERS = frozenset({"time", "datetime", "date", "Timestamp", "pd", "np"})


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in CLOCK_CALLS:
        owner = func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        return name in _CLOCK_OWNERS
    return isinstance(func, ast.Name) and func.id in {"perf_counter", "monotonic", "time_ns", "process_time"}


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for elt in node.elts for n in _targets(elt)]
    return []


def clock_assigned(source: str) -> set[str]:
    """Names the cell assigns from an expression that reads the wall clock."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            if any(_is_clock_call(sub) for sub in ast.walk(node.value)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(_targets(target))
    return names
