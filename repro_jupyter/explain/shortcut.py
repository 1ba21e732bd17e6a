"""Cheap trials: start a trial after the last cell before the drift, from that cell's checkpoint.

A trial normally re-runs the notebook from the top.  When the state before the first drifting
cell can be restored soundly, a trial can instead restore it and run only the drifting cell:
the earlier cells are replaced by their imports, ``def``/``class`` statements and harmless line
magics (checkpoints hold values, not code), and the last one by ``%repro checkout`` of its record.

Sound means all of:

- every code cell before the drift reproduced in the verify run (so the recorded state *is* the
  state a run reaches there, by fingerprint);
- every variable live after the last of them was checkpointed (``not checkpointed``: no shortcut);
- no earlier cell changes state a checkpoint cannot hold: module settings (``pd.set_option``,
  ``plt.style.use``, ``torch.set_num_threads``, ``np.random.seed``), assignments into imported
  modules (``pd.options.x = …``, ``os.environ[…] = …``), files written (``df.to_csv``, ``open(…,
  'w')``), shell commands, cell magics other than ``%%repro``, or calls of functions that do any
  of that.  This is a static check that errs on the side of "not sound".

A shortcut trial only *steers* the bisection: the trials that prove a cause (every changed
distribution put back, and the final set) always run from the top (``core``), so a shortcut that
was wrong can cost trials but never produce a false "proven".
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from typing import Any

from ..cell_source import source_text
from ..magic_args import is_configuration_cell
from ..numbering import cell_label
from ..schema import METADATA_KEY

# what a trial replays of an earlier cell: a checkpoint holds values, not imports or definitions
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
REPRODUCED_BEFORE = ("same", "benign", "within_tolerance", "skipped")
KEPT_LINE_MAGICS = frozenset({"load_ext", "reload_ext", "repro", "matplotlib", "config", "precision", "env"})
# Calls on imported names that change process-wide state, or write files.
MUTATOR = re.compile(
    r"^(set_|set$|setdefault$|use$|use_|seed|manual_seed|reset|enable|disable|filterwarnings|simplefilter|"
    r"chdir|putenv|append|insert|extend|update|register|rc$|rc_|style|switch_backend|configure|ion$|"
    r"ioff$|patch|savefig|save|dump|write|mkdir|makedirs|remove|unlink|rename|rmtree|touch|system)",
)
WRITES = re.compile(
    r"^(to_(csv|parquet|json|excel|pickle|hdf|feather|sql|stata|orc|xml)|save|savefig|"
    r"dump|write|write_text|write_bytes|mkdir|unlink|rename|touch|tofile)$"
)


@dataclass
class Shortcut:
    """How trials start after cell ``start`` (an ``nb.cells`` index) from its checkpoint."""

    start: int
    notebook: Any  # the copy a trial executes (cells up to the drifting one)

    def note(self, at: int) -> str:
        """The report's note for steering trials that start after ``start`` and run only cell ``at``."""
        return (
            f"bisection trials restore the state after {cell_label(self.start)} from its checkpoint and "
            f"run only {cell_label(at)}; the trials that prove a cause run from the top"
        )


def plan(nb: Any, store: Any, verify_report: dict[str, Any], at: int) -> tuple[Shortcut | None, str]:
    """A sound shortcut to cell ``at``, or None and the reason in one line ("" when none is worth it)."""
    statuses = {c["index"]: c["status"] for c in verify_report.get("cells", [])}
    code = [i for i in range(at) if nb.cells[i].cell_type == "code"]
    start = next(
        (i for i in reversed(code) if (nb.cells[i].metadata.get(METADATA_KEY) or {}).get("record")), None
    )
    if start is None or all(is_configuration_cell(source_text(nb.cells[i])) for i in code):
        return None, ""
    for i in code:
        if statuses.get(i) not in REPRODUCED_BEFORE:
            return (
                None,
                f"{cell_label(i)} was {statuses.get(i, 'not judged')} in verify: trials start from the top",
            )
    why = _unsafe_cells(nb, code)
    if why:
        return None, f"{why}: trials start from the top"
    why, count = _not_checkpointed(store, nb.cells[start].metadata[METADATA_KEY]["record"])
    if why:
        return None, f"after {cell_label(start)}, {why}: trials start from the top"
    return Shortcut(start, _notebook(nb, code, start if count else None, at, store)), ""


def _python(source: str) -> ast.Module | None:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def _magic(node: ast.stmt) -> tuple[str, str, str] | None:
    """``(kind, name, body)`` of ``get_ipython().run_line_magic/run_cell_magic/system(...)``."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    func = node.value.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)):
        return None
    inner = func.value.func
    if not (isinstance(inner, ast.Name) and inner.id == "get_ipython"):
        return None
    args = [a.value if isinstance(a, ast.Constant) else None for a in node.value.args]
    name = str(args[0]) if args else ""
    body = str(args[2]) if func.attr == "run_cell_magic" and len(args) > 2 else ""
    return func.attr, name, body


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """Top-level statements, ``%%repro`` bodies opened up (its body is ordinary code)."""
    out: list[ast.stmt] = []
    for node in tree.body:
        magic = _magic(node)
        if magic and magic[0] == "run_cell_magic" and magic[1] == "repro":
            inner = _python(magic[2])
            out.extend(_statements(inner) if inner else [node])
        else:
            out.append(node)
    return out


def _unsafe_node(node: ast.AST, imported: set[str], unsafe_functions: set[str]) -> str | None:
    """What in ``node`` changes state a checkpoint cannot hold (None: nothing found)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name, root = _called(sub), _root(sub.func)
            if root in imported and MUTATOR.match(name):
                return f"{ast.unparse(sub.func)}()"
            if WRITES.match(name) or name in unsafe_functions:  # a user function or method that does
                return f"{ast.unparse(sub.func)}()"
            if name == "open" and isinstance(sub.func, ast.Name) and _opens_for_writing(sub):
                return "open(…) for writing"
            if name in ("exec", "eval", "setattr", "globals", "__import__") and isinstance(
                sub.func, ast.Name
            ):
                return f"{name}()"
        elif isinstance(sub, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = sub.targets if isinstance(sub, (ast.Assign, ast.Delete)) else [sub.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, (ast.Attribute, ast.Subscript)) and _root(leaf) in imported:
                        return f"assigns {ast.unparse(leaf)}"
    return None


def _opens_for_writing(call: ast.Call) -> bool:
    mode = (
        call.args[1]
        if len(call.args) > 1
        else next((k.value for k in call.keywords if k.arg == "mode"), None)
    )
    if mode is None:
        return False
    return not (
        isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) <= set("rbt")
    )


def _unsafe_cells(nb: Any, code: list[int]) -> str:
    """The first earlier cell that changes state a checkpoint cannot hold, in words ("" when none)."""
    parsed: list[tuple[int, list[ast.stmt]]] = []
    imported: set[str] = set()
    functions: dict[str, ast.AST] = {}
    for i in code:
        tree = _python(source_text(nb.cells[i]))
        if tree is None:
            return f"{cell_label(i)} cannot be parsed"
        statements = _statements(tree)
        parsed.append((i, statements))
        for node in statements:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imported.update((a.asname or a.name).partition(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[node.name] = node
            elif isinstance(node, ast.ClassDef):  # methods by name: ``obj.method()`` is matched by name
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        functions[item.name] = item
    unsafe: set[str] = set()
    changed = True
    while changed:  # functions that (transitively) change such state
        changed = False
        for name, function in functions.items():
            if name not in unsafe and _unsafe_node(function, imported, unsafe):
                unsafe.add(name)
                changed = True
    for i, statements in parsed:
        for node in statements:
            if isinstance(node, DEFINITIONS):
                continue
            magic = _magic(node)
            if magic is not None:
                kind, name, _ = magic
                if kind != "run_line_magic" or name not in KEPT_LINE_MAGICS:
                    return (
                        f"{cell_label(i)} runs {'!' if kind == 'system' else '%'}{name or 'a shell command'}"
                    )
                continue
            why = _unsafe_node(node, imported, unsafe)
            if why:
                return f"{cell_label(i)} changes state a checkpoint does not hold ({why[:60]})"
    return ""


def _not_checkpointed(store: Any, record_digest: str) -> tuple[str, int]:
    """Why the variables after the record's cell cannot all be restored ("" when they can), and
    how many there are (none: the trial needs no checkout, only the definitions)."""
    from ..errors import StoreError
    from ..state_chain import full_state, state_of

    try:
        record = store.objects.get_record(record_digest)
        if state_of(record) is None:
            return "no variables were recorded (state was off)", 0
        variables = full_state(store, record)
    except StoreError as exc:
        return f"its record cannot be read ({exc})", 0
    for name, fp in sorted(variables.items()):
        if fp.get("skipped") or not fp.get("digest") or store.catalog.checkpoint(fp["digest"]) is None:
            skipped = f" ({fp['skipped']})" if fp.get("skipped") else ""
            return f"{name!r} was not checkpointed{skipped}", len(variables)
    return "", len(variables)


def definitions_only(source: str) -> str:
    """A cell reduced to what a checkpoint cannot hold: imports, ``def``/``class`` statements and line
    magics (``%%repro`` bodies opened up; IPython syntax understood, so ``%matplotlib`` beside an
    import keeps the import)."""
    tree = _python(source)
    return "\n".join(
        ast.unparse(n)
        for n in (_statements(tree) if tree else [])
        if isinstance(n, DEFINITIONS) or (_magic(n) or ("", "", ""))[0] == "run_line_magic"
    )


def checkout_source(record: str, store: Any) -> str:
    """The line that checks a record's variables out (from a team store by URL when it is one)."""
    at_store = store.url or store.root
    return f"get_ipython().run_line_magic('repro', 'checkout {record} --eager --store {at_store}')"


def _notebook(nb: Any, code: list[int], start: int | None, at: int, store: Any) -> Any:
    """The trial's copy: definitions and kept line magics of the earlier cells, the checkout, cell ``at``."""
    out = copy.deepcopy(nb)
    out.cells = out.cells[: at + 1]
    for i in code:
        kept = definitions_only(source_text(nb.cells[i]))
        if i == start:
            kept += "\n" + checkout_source(nb.cells[i].metadata[METADATA_KEY]["record"], store)
        out.cells[i].source = kept
    return out


def checkout_problem(executed: Any, start: int) -> str:
    """Why the checkout cell of a shortcut trial did not restore everything ("" when it did)."""
    for output in executed.cells[start].get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"[:200]
        text = str(output.get("text", "")) if output.get("output_type") == "stream" else ""
        for line in text.splitlines():
            if line.startswith("UsageError") or "not checkpointed" in line:
                return line.strip()[:200]
    return ""
