"""Fingerprinting the namespace after each cell without re-hashing what cannot have changed.

The rule (also in docs/ARCHITECTURE.md): a variable is re-hashed when
  1. it is new, or its name now points at another object (identity changed); or
  2. it is a *candidate*: named anywhere in the cell's code, or named by the global
     names of functions the cell calls (transitively, including methods of the
     objects it touches), or reachable (two levels of containers and attributes)
     from such a name; and its fast-path token does not prove it unchanged.
Fast paths: immutable values never change; a torch tensor whose (data pointer,
``_version``, shape, strides, dtype, requires_grad) are unchanged was not written
(torch bumps ``_version`` on every in-place op); a module/optimizer likewise over all
its tensors (and, for a module, every submodule's train/eval mode).  NumPy arrays
have no version counter, so a candidate array is always re-hashed.  A cell whose
effects cannot be analysed (``exec``/``eval``, ``%run``, star imports, a syntax
error) makes every variable a candidate.  Anything that
mutates state outside the cell's thread or through C code holding a reference
is outside what this rule sees; ``%repro state full`` hashes everything.
"""

from __future__ import annotations

import ast
import sys
import types
from dataclasses import dataclass, field
from typing import Any

from .fingerprint import fingerprint, user_variables

_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, range)
DELETED = {"deleted": True}  # a state delta's tombstone: the cell removed the variable (``del x``)
_OPAQUE_CALLS = {"exec", "eval", "globals", "vars", "get_ipython", "__import__", "setattr", "delattr"}


@dataclass
class StateStats:
    """What the last ``StateTracker.update`` cost: variables hashed and
    reused, bytes hashed, and whether every variable was a candidate."""

    hashed: int = 0
    reused: int = 0
    hashed_bytes: int = 0
    full: bool = False
    hashed_names: list[str] = field(default_factory=list)


def _is_immutable(value: Any, depth: int = 0) -> bool:
    if isinstance(value, _IMMUTABLE):
        return True
    if isinstance(value, (tuple, frozenset)) and depth < 3 and len(value) < 1000:
        return all(_is_immutable(v, depth + 1) for v in value)
    return False


def _code_names(code: types.CodeType, seen: set[int]) -> set[str]:
    if id(code) in seen:
        return set()
    seen.add(id(code))
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const, seen)
    return names


def _function_globals(value: Any, namespace: dict[str, Any], seen: set[int], depth: int = 0) -> set[str]:
    """Global names a callable may touch: its code's names, then the callables they name."""
    if depth > 6 or id(value) in seen:
        return set()
    seen.add(id(value))
    codes: list[types.CodeType] = []
    if isinstance(value, (types.FunctionType, types.MethodType)):
        func = value.__func__ if isinstance(value, types.MethodType) else value
        codes.append(func.__code__)
    elif isinstance(value, type) or (hasattr(value, "__dict__") and not isinstance(value, types.ModuleType)):
        klass = value if isinstance(value, type) else type(value)
        if klass.__module__ in ("__main__", "builtins") or klass.__module__.startswith("__main__"):
            codes += [f.__code__ for f in vars(klass).values() if isinstance(f, types.FunctionType)]
    names: set[str] = set()
    for code in codes:
        names |= _code_names(code, set())
    for name in list(names):
        target = namespace.get(name)
        if target is not None and callable(target) and not isinstance(target, types.ModuleType):
            names |= _function_globals(target, namespace, seen, depth + 1)
    return names


SAFE_LINE_MAGICS = {
    "matplotlib",
    "load_ext",
    "reload_ext",
    "repro",
    "config",
    "pip",
    "conda",
    "env",
    "who",
    "whos",
    "pwd",
    "cd",
    "precision",
    "pdoc",
    "pinfo",
    "pinfo2",
    "psearch",
    "lsmagic",
}


def _magics_are_safe(tree: ast.AST) -> bool:
    """Only magics that run no user code of their own (``%time x = f()`` does)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "run_cell_magic":
                return False
            if node.func.attr in ("run_line_magic", "system", "getoutput"):
                if node.func.attr != "run_line_magic":
                    continue  # shell commands cannot touch the namespace
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Constant) and first.value in SAFE_LINE_MAGICS):
                    return False
    return True


def candidate_names(source: str, namespace: dict[str, Any]) -> set[str] | None:
    """Names the cell may have changed, or None when the cell cannot be analysed."""
    lines = source.splitlines(keepends=True)
    if lines and lines[0].strip().startswith("%%repro"):
        source = "".join(lines[1:])  # our own cell magic: the body runs as plain code
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        code = TransformerManager().transform_cell(source)
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in _OPAQUE_CALLS and node.id != "get_ipython":
                return None
            names.add(node.id)
        elif isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    if "get_ipython" in names and not _magics_are_safe(tree):
        return None  # %time, %run, %%capture ... execute code we cannot see
    seen: set[int] = set()
    for name in list(names):
        value = namespace.get(name)
        if value is not None and not isinstance(value, types.ModuleType):
            names |= _function_globals(value, namespace, seen)
    return names


def _reachable_ids(values: list[Any], depth: int = 2, limit: int = 20_000) -> set[int]:
    """Ids of objects reachable from ``values`` through containers and attributes (bounded)."""
    found: set[int] = set()
    frontier = list(values)
    for _ in range(depth):
        nxt: list[Any] = []
        for value in frontier:
            if len(found) > limit:
                return found
            children: Any = ()
            if isinstance(value, dict):
                children = value.values()
            elif isinstance(value, (list, tuple, set, frozenset)):
                children = value
            elif hasattr(value, "__dict__") and not isinstance(
                value, (type, types.ModuleType, types.FunctionType)
            ):
                try:
                    children = vars(value).values()
                except TypeError:
                    children = ()
            for child in list(children)[:5000]:
                if id(child) not in found and not _is_immutable(child):
                    found.add(id(child))
                    nxt.append(child)
        frontier = nxt
    return found


def version_token(value: Any) -> Any:
    """A cheap token that changes whenever ``value`` can have changed, or None if there is none."""
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(value, torch.Tensor):
            try:
                return (
                    "t",
                    value.data_ptr(),
                    value._version,
                    tuple(value.shape),
                    value.stride(),
                    str(value.dtype),
                    value.requires_grad,  # part of the fingerprint; toggling it bumps no _version
                )
            except Exception:
                return None
        if isinstance(value, torch.nn.Module):
            return (
                ("m",)
                + tuple(version_token(t) for t in (*value.parameters(), *value.buffers()))
                + (tuple(m.training for m in value.modules()),)  # submodules' eval() too
            )
        if isinstance(value, torch.optim.Optimizer):
            tokens = [version_token(p) for g in value.param_groups for p in g["params"]]
            tokens += [
                version_token(t)
                for s in value.state.values()
                for t in s.values()
                if isinstance(t, torch.Tensor)
            ]
            hyper = tuple(
                sorted((k, repr(v)) for g in value.param_groups for k, v in g.items() if k != "params")
            )
            return ("o", tuple(tokens), hyper)
    return None


class StateTracker:
    """Per-kernel memory of the last fingerprints, identities and version tokens."""

    def __init__(self) -> None:
        self._previous: dict[str, tuple[int, dict[str, Any], Any]] = {}
        self.last_stats = StateStats()
        self.full = False  # %repro state full: hash everything every time
        # the chain of records: what the last *written* record's state amounted to, and its digest
        self.previous_record: str | None = None
        self._published: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, dict[str, Any]] | None = None
        self._pending_empty = False

    def delta(self, variables: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """What changed since the last written record of this kernel: changed or new fingerprints,
        and a ``{"deleted": true}`` tombstone for each name gone.  Records hold this, not the whole
        namespace, so the store grows with what changed (a full copy per cell is quadratic);
        ``state_chain.full_state`` puts the whole state back together by following ``previous``."""
        self._pending = variables
        base = self._published
        out = {name: fp for name, fp in variables.items() if base.get(name) != fp}
        out.update({name: dict(DELETED) for name in base if name not in variables})
        self._pending_empty = not out
        return dict(sorted(out.items()))

    def commit(self, record_digest: str) -> None:
        """The record holding the last ``delta`` was written: the next delta starts from it."""
        if self._pending is not None:
            self._published, self._pending = self._pending, None
            # a record that changed nothing is no link of the chain: the next one points past it, so
            # a headless run (every cell recorded, %load_ext too) and Lab (only %%repro cells) agree
            if not self._pending_empty:
                self.previous_record = record_digest

    def update(self, namespace: dict[str, Any], source: str, hidden: set[str]) -> dict[str, dict[str, Any]]:
        """Fingerprints of every user variable after a cell, re-hashing only those the cell may
        have changed (the module's rule); co-variables are marked; ``last_stats`` says the cost."""
        variables = user_variables(namespace, hidden)
        candidates = None if self.full else candidate_names(source, namespace)
        stats = StateStats(full=candidates is None)
        if candidates is not None:
            reach = _reachable_ids([variables[n] for n in candidates if n in variables])
        result: dict[str, dict[str, Any]] = {}
        by_id: dict[int, dict[str, Any]] = {}
        current: dict[str, tuple[int, dict[str, Any], Any]] = {}
        for name in sorted(variables):
            value = variables[name]
            key = id(value)
            token = version_token(value)
            if key in by_id:  # another name for an object already done this cell
                fp = by_id[key]
            else:
                prev = self._previous.get(name)
                reuse = (
                    prev is not None
                    and prev[0] == key
                    and (
                        _is_immutable(value)
                        or (token is not None and token == prev[2])
                        or (candidates is not None and name not in candidates and key not in reach)
                    )
                )
                if reuse and prev is not None:  # (reuse already implies prev)
                    fp = prev[1]
                    stats.reused += 1
                else:
                    fp = fingerprint(value)
                    stats.hashed += 1
                    stats.hashed_bytes += int(fp.get("size", 0) or 0)
                    stats.hashed_names.append(name)
                by_id[key] = fp
            current[name] = (key, fp, token)
            result[name] = fp
        self._previous = current
        self.last_stats = stats
        return _with_groups(result, variables)


def _tensor_ids(value: Any) -> set[int]:
    torch = sys.modules.get("torch")
    if torch is None:
        return set()
    if isinstance(value, torch.nn.Module):
        return {id(p) for p in value.parameters()}
    if isinstance(value, torch.optim.Optimizer):
        return {id(p) for g in value.param_groups for p in g["params"]}
    return set()


def _with_groups(result: dict[str, dict[str, Any]], variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mark co-variables: names bound to one object, or objects sharing tensors (model + optimizer)."""
    torch = sys.modules.get("torch")
    has_torch_owners = torch is not None and any(
        isinstance(v, (torch.nn.Module, torch.optim.Optimizer)) for v in variables.values()
    )
    mutable = {n: v for n, v in variables.items() if not _is_immutable(v)}  # 1 is 1: not an alias
    if not has_torch_owners and len({id(v) for v in mutable.values()}) == len(mutable):
        return result  # no aliases and nothing that shares tensors
    owners: dict[int, list[str]] = {}
    for name, value in mutable.items():
        owners.setdefault(id(value), []).append(name)
        for tid in _tensor_ids(value):
            owners.setdefault(tid, []).append(name)
    groups: dict[str, set[str]] = {}
    for names in owners.values():
        if len(set(names)) > 1:
            merged = set(names)
            for n in names:
                merged |= groups.get(n, set())
            for n in merged:
                groups[n] = merged
    if not groups:
        return result
    out = {}
    for name, fp in result.items():
        if name in groups:
            fp = {**fp, "shares": sorted(groups[name] - {name})}
        out[name] = fp
    return out
