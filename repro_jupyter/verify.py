"""``jupyter repro verify``: re-execute a notebook and explain every drift.

The notebook runs in a fresh kernel with the recorded master seed (so every cell
gets its recorded seed) and the recorded deterministic setting, recording into
the same store; then each code cell is judged (compare/cell.py), and each
drifting cell gets ranked causes (compare/causes.py).  Notebooks never recorded
with repro-jupyter verify too: their stored outputs are the reference, and their
run records into a throw-away store.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .compare.judge import Case, error_report, exit_code, judge, load
from .compare.normalize import compile_rules
from .compare.rules import CompareOptions, cell_control, options_from_pyproject
from .errors import ReproError, StoreError, UsageError
from .headless import run_notebook
from .notebook_io import file_state, read_notebook, write_notebook, write_unless_changed
from .numbering import cell_label
from .schema import METADATA_KEY
from .store import Store, open_store


@dataclass
class VerifyOptions:
    """How ``verify_notebook`` runs: compare options, per-cell timeout in
    seconds, kernel (None: the notebook's), cells to judge (None: all), runs
    (more than 1 marks flaky cells), ``update`` to accept new outputs."""

    compare: CompareOptions = field(default_factory=CompareOptions)
    timeout: int = 600
    kernel: str | None = None
    cells: set[int] | None = None  # code-cell indexes (positions in nb.cells) to judge; None = all
    runs: int = 1
    update: bool = False
    progress: Callable[[int, int, Any], None] | None = None  # (done, total, cell) after each cell
    explicit: frozenset[str] = frozenset()  # CompareOptions fields set on the command line


def _execute(
    path: Path, nb: Any, seed: int | None, deterministic: bool, options: VerifyOptions, record: bool
) -> tuple[Any, str | None]:
    """One fresh-kernel run; records go to the notebook's store.

    A notebook never recorded has no records to compare with, so it runs unrecorded:
    no store is written, and its cost is that of plain nbclient.
    """
    run_copy = copy.deepcopy(nb)
    for cell in run_copy.cells:
        if cell.cell_type == "code" and cell_control(cell).skip:
            cell.source = ""  # skipped cells are not executed at all (nbval semantics)
    total = sum(1 for c in run_copy.cells if c.cell_type == "code")
    done = [0]

    def on_cell_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
        done[0] += 1
        if options.progress:
            options.progress(done[0], total, cell)

    output = path.parent / f".{path.stem}.verify-{os.getpid()}.ipynb"
    new_nb, _meta, failure = run_notebook(
        path,
        output,
        seed=seed,
        deterministic=deterministic,
        timeout=options.timeout,
        kernel_name=options.kernel,
        allow_errors=True,
        nb=run_copy,
        record=record,
        on_cell_executed=on_cell_executed,
    )
    return new_nb, failure


def verify_notebook(path: str | os.PathLike[str], options: VerifyOptions | None = None) -> dict[str, Any]:
    """The drift report (``record.v1.json#/$defs/driftReport``) for one notebook. Never raises ReproError."""
    options = options or VerifyOptions()
    path = Path(path)
    started = time.time()
    name = str(path)
    try:
        return _verify(path, options, started)
    except ReproError as exc:
        return error_report(name, str(exc), started)


def _verify(path: Path, options: VerifyOptions, started: float) -> dict[str, Any]:
    before = file_state(path) if options.update else None  # --update: a save meanwhile wins
    nb = read_notebook(path)
    if options.cells is not None:
        code = {i for i, c in enumerate(nb.cells) if c.cell_type == "code"}
        wrong = sorted(options.cells - code)
        if wrong:
            raise UsageError(
                f"--cells {wrong[0]}: not a code cell of {path.name} (code cells: "
                f"{', '.join(map(str, sorted(code)[:20]))}{' …' if len(code) > 20 else ''})"
            )
    nb_meta = nb.metadata.get(METADATA_KEY) or {}  # validated by read_notebook
    recorded = bool(nb_meta)
    opts = options_from_pyproject(path.resolve().parent, options.compare, options.explicit)
    rules = compile_rules(opts.extra_rules)
    store: Store | None = None
    old_env = None
    if recorded:
        try:
            store = open_store(path.resolve().parent, create=False)
            old_env = load(store, nb_meta.get("environment"), "environment")
        except StoreError as exc:
            if any(
                isinstance(m := c.get("metadata", {}).get(METADATA_KEY), dict) and m.get("record")
                for c in nb.cells
            ):
                return error_report(str(path), f"missing store: {exc}", started, recorded)
            store = None  # recorded, but no cell had anything to store (only empty cells)
    seed = nb_meta.get("master_seed") if recorded else None
    deterministic = bool(nb_meta.get("deterministic", False))
    runs = []
    run_started = time.time()
    for _ in range(max(1, options.runs)):
        new_nb, failure = _execute(path, nb, seed, deterministic, options, record=recorded)
        if failure:
            return error_report(str(path), failure, started, recorded)
        runs.append(new_nb)
    opts = replace(opts, run_windows=replace(opts.run_windows, new=(run_started, time.time())))
    case = Case(path, nb, runs, store, store, opts, rules, old_env, recorded, options.cells, options.timeout)
    report = judge(replace(case, started=started))
    if options.update and report["status"] != "error":
        errors = [c for c in report["cells"] if c["status"] == "error"]
        if errors:  # a failing run never becomes the reference
            report["reason"] = (
                f"not updated: {cell_label(errors[0]['index'])} raised; " + (report.get("reason") or "")
            ).rstrip("; ")
        else:
            write_unless_changed(runs[0], path, before, write_notebook)
    return report


__all__ = ["verify_notebook", "VerifyOptions", "exit_code"]
