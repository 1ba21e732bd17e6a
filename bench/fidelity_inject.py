"""Where to inject a change, found by reading the notebook (``ast``), never by asking the tool.

Each finder returns candidates in notebook order; the oracle (``fidelity_oracle``) then runs them
to confirm that the change really reaches a result, so a candidate whose output cannot change
(``bool(2014)`` -> ``bool(2015)``) never becomes a false "FAIL" of the tool under test.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKED_OUTPUTS = {"execute_result", "stream"}


def code_cells(nb: Any) -> list[tuple[int, str]]:
    """(index among all cells, source) of every code cell."""
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def parse_python(source: str) -> ast.Module | None:
    """The cell as plain Python, or None (magics, shell escapes): offsets must match the source."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def parse_ipython(source: str) -> ast.Module | None:
    """The cell after IPython's transforms (``%timeit``, ``!ls``): for reading names only."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def recorded_ok(cell: Any) -> bool:
    return not any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def new_number(value: Any) -> Any:
    """A clearly different number of the same type (0 and 1 never become 0 or 1 again)."""
    if isinstance(value, complex):
        return complex(value.real, value.imag + 1)
    if isinstance(value, int):
        return value + 1 if value >= 2 else 2
    if value == 0:
        return 0.5
    return float(f"{value * 1.5:.12g}")


def number_text(value: Any) -> str:
    return repr(value.imag) + "j" if isinstance(value, complex) else repr(value)


def _offset(source: str, lineno: int, col: int) -> int:
    """Character offset of an ast (line, UTF-8 byte column) position."""
    lines = source.splitlines(keepends=True)
    before = sum(len(line) for line in lines[: lineno - 1])
    return before + len(lines[lineno - 1].encode()[:col].decode(errors="ignore"))


def replace_node(source: str, node: ast.AST, text: str) -> str:
    start = _offset(source, node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = _offset(source, node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    return source[:start] + text + source[end:]


def _numeric(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float, complex))
        and not isinstance(node.value, bool)
    )


def _excluded_ids(stmt: ast.AST) -> set[int]:
    """Literals that may raise or say nothing when changed: indexes, keyword options, format specs."""
    excluded: set[int] = set()
    for node in ast.walk(stmt):
        parts: list[ast.AST] = []
        if isinstance(node, ast.Subscript):
            parts = [node.slice]
        elif isinstance(node, ast.keyword):
            parts = [node.value]
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            parts = [node.format_spec]
        for part in parts:
            excluded.update(id(n) for n in ast.walk(part))
    return excluded


@dataclass
class ConstantChange:
    """(a) one numeric literal of a cell.  The oracle runs ``body`` once, then ``statement`` as written
    (twice: noise) and as changed; for a literal outside the last statement the body is empty and
    the "statement" is the whole cell."""

    index: int
    old: str
    new: str
    body: str
    statement: str
    changed_statement: str
    changed_source: str


def _is_param(stmt: ast.stmt) -> bool:
    """``name = <literal>``: the tool records it as a hyperparameter, so it belongs to (d)."""
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    if value is None:
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _literal_changes(source: str, scope: ast.AST, start: int, end: int, per_cell: int) -> list[Any]:
    excluded = _excluded_ids(scope)
    literals = [n for n in ast.walk(scope) if _numeric(n) and id(n) not in excluded]
    literals.sort(key=lambda n: (n.lineno, n.col_offset))
    changes = []
    for literal in literals[:per_cell]:
        text = number_text(new_number(literal.value))  # type: ignore[attr-defined]
        changed = replace_node(source, literal, text)
        old = ast.get_source_segment(source, literal) or ""
        changes.append((old, text, changed, changed[start : end + len(changed) - len(source)]))
    return changes


def constant_candidates(nb: Any, limit: int = 4, shown: bool = True) -> list[ConstantChange]:
    """``shown``: cells whose last statement is an expression (or a print) holding a numeric literal,
    with a recorded result.  Otherwise: literals anywhere at the top level of a cell (not in a
    ``def``/``class``, not a literal assignment), whose effect the oracle must see in a variable."""
    found: list[ConstantChange] = []
    for index, source in code_cells(nb):
        cell = nb.cells[index]
        kinds = {o.get("output_type") for o in cell.get("outputs", [])}
        tree = parse_python(source)
        if tree is None or not tree.body or "error" in kinds:
            continue
        if shown:
            last = tree.body[-1]
            if not kinds or not kinds <= CHECKED_OUTPUTS or not isinstance(last, ast.Expr):
                continue
            start = _offset(source, last.lineno, last.col_offset)
            end = _offset(source, last.end_lineno or last.lineno, last.end_col_offset or 0)
            scopes: list[ast.AST] = [last]
        else:
            start, end = 0, len(source)
            plain = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
            scopes = [s for s in tree.body if not isinstance(s, plain) and not _is_param(s)]
        changes = [c for scope in scopes for c in _literal_changes(source, scope, start, end, 2)][:2]
        body, written = source[:start], source[start:end]
        for old, new, changed, statement in changes:
            found.append(ConstantChange(index, old, new, body, written, statement, changed))
        if len(found) >= limit:
            break
    return found[:limit]


@dataclass
class ParamChange:
    """(d) a top-level ``name = <number>`` whose name a later cell reads."""

    index: int
    name: str
    old: str
    new: str
    changed_source: str


def _names(tree: ast.AST, ctx: type) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def _read_later(cells: list[tuple[int, str]], position: int, name: str) -> bool:
    """Does a later cell read ``name`` before some cell rebinds it without reading it?"""
    for _, source in cells[position + 1 :]:
        tree = parse_ipython(source)
        if tree is None:
            if re.search(rf"\b{re.escape(name)}\b", source):
                return True
            continue
        if name in _names(tree, ast.Load):
            return True
        if name in _names(tree, ast.Store):
            return False
    return False


def param_candidates(nb: Any, limit: int = 3) -> list[ParamChange]:
    found: list[ParamChange] = []
    cells = code_cells(nb)
    for position, (index, source) in enumerate(cells):
        tree = parse_python(source)
        if tree is None or not recorded_ok(nb.cells[index]):
            continue
        for k, stmt in enumerate(tree.body):
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                continue
            target, value = stmt.targets[0], stmt.value
            literal = value.operand if isinstance(value, ast.UnaryOp) else value
            if not isinstance(target, ast.Name) or target.id.startswith("_") or not _numeric(literal):
                continue
            if isinstance(value, ast.UnaryOp) and not isinstance(value.op, ast.USub):
                continue
            rebound = any(target.id in _names(s, ast.Store) for s in tree.body[k + 1 :])
            if rebound or not _read_later(cells, position, target.id):
                continue
            number = literal.value  # type: ignore[attr-defined]
            text = number_text(new_number(number))
            found.append(
                ParamChange(
                    index,
                    target.id,
                    ast.get_source_segment(source, literal) or "",
                    text,
                    replace_node(source, literal, text),
                )
            )
            break
        if len(found) >= limit:
            break
    return found


# --- (b) randomness: a generous static filter; the oracle decides what really depends on the seed

GENERATOR_FACTORIES = {
    "seed",
    "default_rng",
    "RandomState",
    "Generator",
    "SeedSequence",
    "get_state",
    "set_state",
    "PCG64",
    "MT19937",
    "Philox",
    "SFC64",
    "BitGenerator",
    "Random",
    "SystemRandom",
    "getstate",
    "setstate",
}
TORCH_DRAWS = {
    "rand",
    "randn",
    "randint",
    "randperm",
    "normal",
    "bernoulli",
    "multinomial",
    "poisson",
    "rand_like",
    "randn_like",
    "randint_like",
    "dropout",
}
SKLEARN_RANDOM = re.compile(
    r"^(train_test_split|make_(?!pipeline|union|column)[a-z_]+|shuffle|resample|[A-Za-z]*(Random|KMeans|MLP|"
    r"SGD|KFold|Split|Bagging|Boosting|TSNE|Isomap|PCA|NMF|GaussianMixture)[A-Za-z]*)$"
)


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _draws(call: ast.Call, drawing_defs: set[str], random_names: set[str]) -> bool:
    name = _dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if ".random." in f".{name}" and last not in GENERATOR_FACTORIES:
        return True
    if name in random_names or name in drawing_defs:
        return True
    if name.startswith("torch.") and (last in TORCH_DRAWS or ".nn." in name or ".init." in name):
        return True
    if (name.startswith("nn.") and last[:1].isupper()) or last in {"uniform_", "normal_", "random_"}:
        return True
    keywords = {k.arg for k in call.keywords}
    return bool(SKLEARN_RANDOM.match(last)) and "random_state" not in keywords


def rng_cells(nb: Any) -> list[int]:
    """Cells that may draw from a global RNG (numpy, random, torch, scikit-learn without a
    random_state), directly or through a function or class defined in an earlier cell."""
    drawing_defs: set[str] = set()
    random_names: set[str] = set()
    found = []
    for index, source in code_cells(nb):
        tree = parse_ipython(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "random":
                random_names.update(
                    a.asname or a.name for a in node.names if a.name not in GENERATOR_FACTORIES
                )
        draws = False
        for stmt in tree.body:
            calls = [n for n in ast.walk(stmt) if isinstance(n, ast.Call)]
            hit = any(_draws(c, drawing_defs, random_names) for c in calls)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if hit:
                    drawing_defs.add(stmt.name)
            elif hit:
                draws = True
        if draws:
            found.append(index)
    return found


# --- (c) input data


def _strings(source: str) -> list[str]:
    """String literals of a cell (shell escapes included, comments excluded): where paths are named."""
    tree = parse_ipython(source)
    if tree is None:
        return [source]
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def data_target(nb: Any, relatives: list[str]) -> tuple[str, int] | None:
    """The first support file a code cell names in its code (not in a comment), and that cell."""
    for index, source in code_cells(nb):
        strings = _strings(source)
        for relative in relatives:
            if any(Path(relative).name in text for text in strings):
                return relative, index
    return None


NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def change_one_number(path: Path) -> str:
    """Change one number in one row in the middle of a CSV (or one digit of another file); say which."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    if path.suffix == ".csv" and len(lines) > 2:
        for row in range(len(lines) // 2, len(lines)):
            line = lines[row]
            if '"' in line:
                continue
            fields = next(csv.reader(io.StringIO(line)), [])
            for col, value in enumerate(fields):
                if NUMBER.match(value):
                    new = (
                        str(int(value) + 1)
                        if "." not in value
                        else value[:-1] + str((int(value[-1]) + 1) % 10)
                    )
                    fields[col] = new
                    ending = line[len(line.rstrip("\r\n")) :]
                    lines[row] = ",".join(fields) + ending
                    path.write_text("".join(lines))
                    return f"{path.name} line {row + 1} column {col + 1}: {value} -> {new}"
    middle = len(text) // 2
    match = re.compile(r"\d").search(text, middle) or re.compile(r"\d").search(text)
    if match is None:
        raise ValueError(f"no number in {path}")
    digit = match.group()
    new = str((int(digit) + 1) % 10)
    path.write_text(text[: match.start()] + new + text[match.end() :])
    return f"{path.name} offset {match.start()}: digit {digit} -> {new}"
