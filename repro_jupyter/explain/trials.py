"""One controlled re-execution: the notebook up to a cell, in a given kernel and environment.

Every run here records into a scratch store (``store.location.scratch_store``) and is judged
against the notebook's own records with verify's judge: explain never adds a run to the
user's store and never writes the notebook.  A trial stops after the first drifting cell
(the later cells are dropped from an in-memory copy), so a trial costs at most one verify.
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..compare.judge import Case, judge, load
from ..compare.normalize import compile_rules
from ..compare.outputs import compare_outputs
from ..compare.rules import options_from_pyproject
from ..errors import StoreError
from ..notebook_io import read_notebook
from ..numbering import cell_label
from ..schema import METADATA_KEY
from ..store import Store, open_store
from ..store.location import scratch_store
from ..verify import VerifyOptions, _execute
from .shortcut import Shortcut, checkout_problem

REPRODUCED = ("same", "benign", "within_tolerance", "skipped")


@dataclass
class Context:
    """What every trial of one explain run shares: the notebook as saved and its records."""

    path: Path
    nb: Any
    store: Store
    old_env: Any
    options: VerifyOptions
    seed: int | None = None
    deterministic: bool = False
    first_drift: int | None = None  # nb.cells index of the first drifting cell (after verify)
    runs: list[Any] = field(default_factory=list)  # executed notebooks of the base kernel


def open_context(path: Path, options: VerifyOptions) -> Context:
    """The shared context of one explain run: the saved notebook, its store
    (opened read-only: StoreError when none) and the recorded environment."""
    nb = read_notebook(path)
    meta = nb.metadata.get(METADATA_KEY) or {}
    store = open_store(path.resolve().parent, create=False)
    old_env = load(store, meta.get("environment"), "environment")
    return Context(
        path=path,
        nb=nb,
        store=store,
        old_env=old_env,
        options=options,
        seed=meta.get("master_seed"),
        deterministic=bool(meta.get("deterministic", False)),
    )


@contextlib.contextmanager
def environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) variables for a kernel started inside; restored afterwards."""
    saved = {k: os.environ.get(k) for k in changes}
    try:
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Outcome:
    """A trial's verdict (reproduced, drift, unverified or error), its judged report
    and duration in seconds, and the environment it ran at the drifting cell."""

    result: str  # reproduced | drift | unverified | error
    seconds: float
    report: dict[str, Any]
    nb: Any = None
    detail: str = ""
    new_env: Any = None  # the environment this run had at its first drifting cell (or the last cell)
    start: int | None = None  # the cell whose checkpoint the trial started from (None: the top)


def run(
    ctx: Context,
    kernel: str,
    *,
    upto: int | None = None,
    env: Mapping[str, str | None] | None = None,
    jupyter_path: str | None = None,
    shortcut: Shortcut | None = None,
) -> Outcome:
    """Run the notebook (cells ``0..upto``) on ``kernel``; judge it against the record.

    With a ``shortcut`` (``shortcut.plan``), the state after ``shortcut.start`` is checked out from
    its checkpoint instead of re-run, and only cell ``upto`` is judged.
    """
    started = time.time()
    nb = copy.deepcopy(ctx.nb)
    if upto is not None:
        nb.cells = nb.cells[: upto + 1]
    changes: dict[str, str | None] = dict(env or {})
    if jupyter_path:
        changes["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (jupyter_path, os.environ.get("JUPYTER_PATH")) if p
        )
    cells = {upto} if shortcut is not None and upto is not None else None
    options = replace(ctx.options, kernel=kernel, progress=None, runs=1, update=False, cells=cells)
    opts = options_from_pyproject(ctx.path.resolve().parent, options.compare, options.explicit)
    rules = compile_rules(opts.extra_rules)
    with scratch_store(), environ(changes):
        run_started = time.time()
        executed = shortcut.notebook if shortcut is not None else nb
        new_nb, failure = _execute(ctx.path, executed, ctx.seed, ctx.deterministic, options, record=True)
        if not failure and shortcut is not None:
            problem = checkout_problem(new_nb, shortcut.start)
            if problem:
                failure = f"the checkpoint of {cell_label(shortcut.start)} did not load: {problem}"
        if failure:
            return Outcome("error", round(time.time() - started, 3), {}, None, failure)
        opts = replace(opts, run_windows=replace(opts.run_windows, new=(run_started, time.time())))
        try:
            new_store = open_store(ctx.path.resolve().parent, create=False)
        except StoreError:
            new_store = None  # nothing was recorded (no code cell ran)
        try:
            case = Case(ctx.path, nb, [new_nb], ctx.store, new_store, opts, rules, ctx.old_env)
            report = judge(replace(case, cells=cells, timeout=options.timeout))
            new_env = _environment_at(new_nb, new_store, report)
        finally:
            if new_store is not None:
                new_store.close()
    start = shortcut.start if shortcut is not None else None
    seconds = round(time.time() - started, 3)
    return Outcome(classify(report, upto), seconds, report, new_nb, new_env=new_env, start=start)


def control_run(path: str, options: VerifyOptions, kernel: str, upto: int) -> Outcome:
    """The same-seed control, in a process of its own (``core._start_control``): its own context,
    store connection and scratch store; the outcome travels back by pickle."""
    ctx = open_context(Path(path), options)
    try:
        return run(ctx, kernel, upto=upto)
    finally:
        ctx.store.close()


def _environment_at(new_nb: Any, new_store: Store | None, report: dict[str, Any]) -> Any:
    """The environment snapshot the run recorded at its first drifting cell (else its last)."""
    first = (report.get("first_drift") or {}).get("index")
    cells = [c for c in new_nb.cells if c.cell_type == "code"]
    if first is not None:
        cells = [new_nb.cells[first]]
    for cell in reversed(cells):
        digest = (cell.metadata.get(METADATA_KEY) or {}).get("environment")
        if digest and new_store is not None:
            try:
                return load(new_store, digest, "environment")
            except StoreError:
                return None
    return None


def recorded_environment(ctx: Context, index: int) -> Any:
    """The environment recorded with cell ``index`` (imports change it cell by cell)."""
    digest = (ctx.nb.cells[index].metadata.get(METADATA_KEY) or {}).get("environment")
    return load(ctx.store, digest, "environment") if digest else ctx.old_env


def classify(report: dict[str, Any], upto: int | None) -> str:
    """A trial reproduces when no cell up to ``upto`` drifts and that cell itself is judged same;
    a cell left unverified proves nothing either way."""
    cells = [c for c in report.get("cells", []) if upto is None or c["index"] <= upto]
    if any(c["status"] in ("drift", "error") for c in cells):
        return "drift"
    if any(c["status"] == "unverified" for c in cells):
        return "unverified"
    return "reproduced"


def same_outputs(ctx: Context, first: Any, second: Any, index: int) -> bool:
    """The two base runs agree at cell ``index`` (the same seed, the same environment)."""
    opts = options_from_pyproject(ctx.path.resolve().parent, ctx.options.compare, ctx.options.explicit)
    rules = compile_rules(opts.extra_rules)
    got = compare_outputs(
        first.cells[index].get("outputs", []), second.cells[index].get("outputs", []), opts, rules
    )
    return got.status != "drift"
