"""The harness's own ground truth: plain nbclient runs, independent of the tool under test.

Every injection needs an expected answer that does not come from ``repro_jupyter``: which cell's
results really change.  The oracle runs the notebook in a plain kernel, seeding Python, NumPy and
torch before each cell from (master seed, cell position) as the tool's contract says, and after
each cell prints a digest of the outputs and of every *value* variable (numbers, strings, arrays,
tensors, modules, pandas objects, estimators' parameters and fitted arrays, containers of these).
Objects it cannot digest by value are left out: the oracle is blind there, never noisy.

A change is real at a cell when the variant differs from the base run AND two base runs agree
there (what differs between two identical runs is noise: ``%timeit``, clocks, temp paths).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

MARK = "FIDELITY-STATE "
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
# a warning names the cell's temp file, hashed from its source: a changed literal changes the name
CELL_FILE = re.compile(r"ipykernel_\d+[/\\]\d+\.py|<ipython-input-[\w-]+>")


def _mask(text: str) -> str:
    return CELL_FILE.sub("<cell>", ADDRESS.sub("0x?", text))


DIGEST_CODE = (
    r'''
def _fidelity_digest(value, depth=0):
    import hashlib, sys
    if depth > 6:
        return None
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    mod = type(value).__module__ or ""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return repr(value)
    if np is not None and isinstance(value, np.ndarray):
        body = repr(value.tolist()).encode() if value.dtype.hasobject else value.tobytes()
        return value.dtype.str + str(value.shape) + hashlib.sha256(body).hexdigest()
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        t = t.float() if t.dtype == torch.bfloat16 else t
        body = t.contiguous().numpy().tobytes()
        return str(t.dtype) + str(tuple(t.shape)) + hashlib.sha256(body).hexdigest()
    if torch is not None and isinstance(value, (torch.nn.Module, torch.optim.Optimizer)):
        return _fidelity_digest(dict(value.state_dict()), depth + 1)
    if mod.startswith("pandas") and hasattr(value, "to_csv"):
        return hashlib.sha256((repr(getattr(value, "dtypes", "")) + value.to_csv()).encode()).hexdigest()
    if mod.startswith("pandas") and hasattr(value, "tolist"):
        return repr(type(value).__name__) + repr(value.tolist())
    if mod.startswith("sklearn") and hasattr(value, "get_params"):
        parts = [_fidelity_digest(value.get_params(deep=False), depth + 1)]
        for name in sorted(vars(value)):
            if name.endswith("_") and not name.startswith("_") and "time" not in name:
                parts.append(name + "=" + str(_fidelity_digest(vars(value)[name], depth + 1)))
        return None if parts[0] is None else "|".join(parts)
    if mod.startswith("scipy.sparse") and hasattr(value, "toarray") and value.shape[0] * value.shape[1] < 1e7:
        return _fidelity_digest(value.toarray(), depth + 1)
    if isinstance(value, (list, tuple, set, frozenset)) and len(value) <= 10000:
        items = [_fidelity_digest(v, depth + 1) for v in value]
        if any(i is None for i in items):
            return None
        items = sorted(items) if isinstance(value, (set, frozenset)) else items
        return type(value).__name__ + hashlib.sha256(repr(items).encode()).hexdigest()
    if isinstance(value, dict) and len(value) <= 10000:
        items = [(repr(k), _fidelity_digest(v, depth + 1)) for k, v in value.items()]
        if any(i[1] is None for i in items):
            return None
        return "dict" + hashlib.sha256(repr(sorted(items)).encode()).hexdigest()
    return None


def _fidelity_state():
    import json, types
    ns = get_ipython().user_ns
    hidden = get_ipython().user_ns_hidden
    out = {}
    for name, value in list(ns.items()):
        if name.startswith("_") or name in hidden or name in ("In", "Out", "exit", "quit"):
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, type)):
            continue
        try:
            digest = _fidelity_digest(value)
        except Exception:
            digest = None
        if digest is not None:
            out[name] = digest
    print("'''
    + MARK
    + r"""" + json.dumps(out, sort_keys=True))
"""
)

SEED_CODE = """import random as _fidelity_random, sys as _fidelity_sys
_fidelity_random.seed({seed})
if "numpy" in _fidelity_sys.modules or {numpy}:
    import numpy.random as _fidelity_npr
    _fidelity_npr.seed({seed})
if "torch" in _fidelity_sys.modules or {torch}:
    import torch as _fidelity_torch
    _fidelity_torch.manual_seed({seed})
"""


def cell_seed(master: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"fidelity/{master}/{key}".encode()).digest()[:4], "big")


@dataclass
class Step:
    """One unit the oracle runs and observes: ``key`` names it in the result."""

    key: str
    source: str
    seed: int | None


@dataclass
class Observation:
    outputs: list[Any]
    state: dict[str, str]


def normal_outputs(outputs: list[Any]) -> list[Any]:
    """Outputs as comparable values: streams coalesced, addresses masked, counts and metadata dropped."""
    out: list[Any] = []
    for o in outputs:
        kind = o.get("output_type")
        if kind == "stream":
            text = _mask(o.get("text", ""))
            if out and out[-1][0] == "stream" and out[-1][1] == o.get("name"):
                out[-1] = ("stream", o.get("name"), out[-1][2] + text)
            else:
                out.append(("stream", o.get("name"), text))
        elif kind in ("execute_result", "display_data"):
            data = {
                k: _mask(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
                for k, v in sorted(o.get("data", {}).items())
            }
            out.append(("data", data))
        elif kind == "error":
            out.append(("error", o.get("ename"), o.get("evalue")))
    return out


def plain_steps(nb: Any, master: int, stop: int | None = None) -> list[Step]:
    """Every code cell up to ``stop`` (an index among all cells), each seeded before it runs."""
    return [
        Step(str(i), c.source, cell_seed(master, str(i)))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (stop is None or i <= stop)
    ]


def run(folder: Path, steps: list[Step], uses_torch: bool, timeout: int = 600) -> dict[str, Observation]:
    """Run ``steps`` in one plain kernel with ``folder`` as working directory; observe each."""
    uses_numpy = "True"
    cells = [new_code_cell(DIGEST_CODE)]
    for step in steps:
        if step.seed is not None:
            cells.append(new_code_cell(SEED_CODE.format(seed=step.seed, numpy=uses_numpy, torch=uses_torch)))
        cells.append(new_code_cell(step.source))
        cells.append(new_code_cell("_fidelity_state()"))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    observed: dict[str, Observation] = {}
    position = 1
    for step in steps:
        position += 1 if step.seed is not None else 0
        outputs = nb.cells[position].outputs
        probe = "".join(
            o.get("text", "") for o in nb.cells[position + 1].outputs if o.get("output_type") == "stream"
        )
        state = {}
        for line in probe.splitlines():
            if line.startswith(MARK):
                state = json.loads(line[len(MARK) :])
        observed[step.key] = Observation(normal_outputs(outputs), state)
        position += 2
    return observed


def uses_torch(nb: Any) -> bool:
    return any("torch" in c.source for c in nb.cells if c.cell_type == "code")


def read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def first_change(
    base: dict[str, Observation],
    again: dict[str, Observation],
    variant: dict[str, Observation],
    keys: list[str],
) -> tuple[str, str] | None:
    """The first key whose outputs or value variables differ in ``variant`` but not between the two
    base runs; with what differs.  None: no observable change."""
    for key in keys:
        if key not in variant or key not in base:
            continue
        b, a, v = base[key], again.get(key, base[key]), variant[key]
        if b.outputs != v.outputs and b.outputs == a.outputs:
            return key, "outputs"
        names = sorted(
            n
            for n in set(b.state) | set(v.state)
            if b.state.get(n) != v.state.get(n) and b.state.get(n) == a.state.get(n)
        )
        if names:
            return key, "variables " + ", ".join(names[:5])
    return None
