"""Secrets a notebook's own sources name: literals assigned to secret-looking names.

``db_pass = "hunter2hunter2"`` has no secret shape and does not come from the environment, but its name says
what it is.  Recording redacts it by name (``redact_value``); a report, a server response or an export also
quotes what the cell *printed*, where the name is gone.  So whoever quotes a notebook learns these literals
from its sources first (``notebook_secrets``) and redacts them by value too.

Found: string literals assigned to a secret name (``db_pass = "..."``, ``self.api_key = "..."``,
``cfg["password"] = "..."``), values under a secret key of a dict literal (``{"pw": "..."}``) and secret
keyword arguments (``connect(password="...")``); containers are walked.  Literals shorter than
``MIN_LITERAL_SECRET`` are ignored, as for the environment.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .known import MIN_LITERAL_SECRET
from .patterns import is_secret_name


def _strings(node: ast.AST | None) -> Iterator[str]:
    if node is None:
        return
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child.value


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
        return str(target.slice.value)
    return None


def _parse(source: str) -> ast.AST | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # IPython absent or a source it cannot transform: parse as it is
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def source_secrets(source: str) -> set[str]:
    """The literals ``source`` assigns to secret-looking names (see the module docstring)."""
    tree = _parse(source)
    if tree is None:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [_target_name(t) for t in targets]
            if any(n and is_secret_name(n) for n in names):
                found.update(_strings(node.value))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and is_secret_name(key.value):
                    found.update(_strings(value))
        elif isinstance(node, ast.keyword) and node.arg and is_secret_name(node.arg):
            found.update(_strings(node.value))
    return {s for s in found if len(s) >= MIN_LITERAL_SECRET}


def _cells(nb: Any) -> list[Any]:
    if isinstance(nb, Mapping):
        cells = nb.get("cells")
        return cells if isinstance(cells, list) else []
    return []


def notebook_secrets(nb: Any) -> tuple[str, ...]:
    """The secret literals of every code cell of ``nb`` (a notebook dict, or a path; unreadable: ())."""
    if isinstance(nb, (str, os.PathLike)):
        try:
            nb = json.loads(Path(nb).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return ()
    found: set[str] = set()
    for cell in _cells(nb):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str):
            found |= source_secrets(source)
    return tuple(sorted(found, key=lambda v: (-len(v), v)))
