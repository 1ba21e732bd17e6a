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

from . import METADATA_KEY, SCHEMA_VERSION
from .compare.causes import rank_causes
from .compare.cell import judge_cell, state_differences
from .compare.context import renderers_changed, with_run_windows
from .compare.normalize import compile_rules
from .compare.outputs import compare_outputs
from .compare.rules import CompareOptions, cell_control, options_from_pyproject
from .compare.upstream import upstream_cause
from .environment.diff import environment_diff
from .errors import ExecutionError, NotebookError, ReproError, StoreError, UsageError
from .headless import run_notebook
from .magic_args import is_configuration_cell
from .notebook_io import file_state, read_notebook, write_notebook, write_unless_changed
from .numbering import cell_label
from .redact import redact_text
from .state_chain import comparable
from .store import Store, open_store

STATUSES = ("same", "benign", "within_tolerance", "unverified", "drift", "error", "skipped")


@dataclass
class VerifyOptions:
    compare: CompareOptions = field(default_factory=CompareOptions)
    timeout: int = 600
    kernel: str | None = None
    cells: set[int] | None = None  # code-cell indexes (positions in nb.cells) to judge; None = all
    runs: int = 1
    update: bool = False
    progress: Callable[[int, int, Any], None] | None = None  # (done, total, cell) after each cell
    explicit: frozenset[str] = frozenset()  # CompareOptions fields set on the command line


def error_report(notebook: str, reason: str, started: float, recorded: bool = False) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "drift_report",
        "notebook": notebook,
        "status": "error",
        "reason": reason,
        "first_drift": None,
        "recorded": recorded,
        "cells": [],
        "summary": {},
        "environment_diff": None,
        "duration_s": round(time.time() - started, 3),
    }


def _load(store: Store | None, digest: str | None, definition: str = "cellRecord") -> Any:
    """A record or environment from the store, checked against the schema (a store may be shared)."""
    if store is None or not digest:
        return None
    if definition == "environment":
        return store.objects.get_environment(digest)
    return store.objects.get_record(digest)


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
            old_env = _load(store, nb_meta.get("environment"), "environment")
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
    report = _judge(path, nb, runs, opts, rules, store, store, old_env, recorded, options)
    report["duration_s"] = round(time.time() - started, 3)
    if options.update and report["status"] != "error":
        errors = [c for c in report["cells"] if c["status"] == "error"]
        if errors:  # a failing run never becomes the reference
            report["reason"] = (
                f"not updated: {cell_label(errors[0]['index'])} raised; " + (report.get("reason") or "")
            ).rstrip("; ")
        else:
            write_unless_changed(runs[0], path, before, write_notebook)
    return report


def _judge(
    path: Path,
    nb: Any,
    runs: list[Any],
    opts: CompareOptions,
    rules: Any,
    store: Store | None,
    new_store: Store | None,
    old_env: Any,
    recorded: bool,
    options: VerifyOptions,
) -> dict[str, Any]:
    new_nb = runs[0]
    opts = with_run_windows(opts, nb, new_nb, store, new_store)
    if not recorded or old_env is None:
        opts = replace(opts, renderers_differ=True)  # who drew the stored outputs is unknown
    cells: list[dict[str, Any]] = []
    first_drift: dict[str, Any] | None = None
    changed_before: dict[str, int] = {}  # variable -> index of the cell after which it first differed
    env_diffs: dict[tuple[str, str], dict[str, Any]] = {}
    new_nb_env = (new_nb.metadata.get(METADATA_KEY) or {}).get("environment")
    env_diff: dict[str, Any] = {}
    if old_env is not None and new_nb_env and new_store is not None:
        try:  # the notebook-level view: last recorded environment then and now
            env_diff = environment_diff(old_env, _load(new_store, new_nb_env, "environment"))
        except StoreError:
            env_diff = {}
    for index, (old_cell, new_cell) in enumerate(zip(nb.cells, new_nb.cells, strict=True)):
        if old_cell.cell_type != "code":
            continue
        source = old_cell.source if isinstance(old_cell.source, str) else "".join(old_cell.source)
        entry: dict[str, Any] = {
            "index": index,
            "id": old_cell.get("id"),
            "source": source[:2000],
            "differences": [],
            "causes": [],
        }
        cells.append(entry)
        control = cell_control(old_cell)
        old_meta = old_cell.metadata.get(METADATA_KEY) or {}
        new_meta = new_cell.metadata.get(METADATA_KEY) or {}
        try:
            old_record = _load(store, old_meta.get("record"))
            new_record = _load(new_store, new_meta.get("record"))
            # a whole-state record (made before deltas) against a delta: compare like with like
            old_record, new_record = comparable(store, old_record, new_store, new_record)
            # like with like: this cell's environment then and now (imports change it cell by cell)
            pair = (old_meta.get("environment"), new_meta.get("environment"))
            if pair[0] and pair[1] and pair not in env_diffs:
                env_diffs[pair] = environment_diff(
                    _load(store, pair[0], "environment"), _load(new_store, pair[1], "environment")
                )
            cell_env_diff = env_diffs.get(pair, {})
        except StoreError as exc:
            raise StoreError(f"{cell_label(index)}: {exc}") from None
        if control.skip:
            entry.update(status="skipped", differences=[{"kind": "skipped", "detail": "skipped by tag"}])
            continue
        if options.cells is not None and index not in options.cells:
            entry.update(
                status="skipped", differences=[{"kind": "skipped", "detail": "not selected (--cells)"}]
            )
            continue
        if not source.strip():
            entry.update(status="skipped", differences=[{"kind": "skipped", "detail": "empty cell"}])
            continue
        if is_configuration_cell(source) and not any(
            o.get("output_type") == "error" for o in new_cell.get("outputs", [])
        ):  # %load_ext, %repro status/seed/on: settings, not results (status names the kernel's file)
            entry.update(
                status="skipped",
                differences=[{"kind": "skipped", "detail": "configuration cell: settings, not results"}],
            )
            continue
        if old_cell.get("execution_count") is None and not old_cell.get("outputs") and not old_meta:
            new_err = [o for o in new_cell.get("outputs", []) if o.get("output_type") == "error"]
            if new_err and not control.raises:  # nothing to compare with, but a failure is a failure
                detail = (
                    f"raised {new_err[0].get('ename')}: {str(new_err[0].get('evalue'))[:300]} "
                    "(the saved notebook never ran this cell)"
                )
                entry.update(
                    status="error", differences=[{"kind": "error", "severity": "drift", "detail": detail}]
                )
                if first_drift is None:
                    first_drift = {"index": index, "id": old_cell.get("id")}
                continue
            entry.update(
                status="skipped",
                differences=[
                    {
                        "kind": "skipped",
                        "detail": "not executed in the saved notebook: nothing to compare with",
                    }
                ],
            )
            continue
        cell_opts = opts
        if renderers_changed(cell_env_diff) and not opts.renderers_differ:
            cell_opts = replace(opts, renderers_differ=True)
        status, differences = judge_cell(
            old_cell,
            new_cell,
            control,
            cell_opts,
            rules,
            old_record,
            new_record,
            inherited=set(changed_before),
        )
        if any(
            d.get("kind") == "error"
            and d["detail"].startswith(("raised SyntaxError", "raised IndentationError"))
            for d in differences
        ):
            raise NotebookError(f"{cell_label(index)} has a syntax error: {differences[0]['detail'][7:]}")
        flaky = False
        if len(runs) > 1:
            for other in runs[1:]:
                again = compare_outputs(
                    new_cell.get("outputs", []), other.cells[index].get("outputs", []), opts, rules
                )
                flaky = flaky or again.status == "drift"
            entry["flaky"] = flaky
        entry.update(status=status, differences=differences)
        if status in ("drift", "error", "unverified"):
            upstream = upstream_cause(source, changed_before, first_drift)
            entry["causes"] = rank_causes(
                source=source,
                old_record=old_record,
                new_record=new_record,
                env_diff=cell_env_diff,
                upstream=upstream,
                flaky=flaky,
                recorded=recorded,
            )
            if first_drift is None and status != "unverified":
                first_drift = {"index": index, "id": old_cell.get("id")}
        for name in state_differences(old_record, new_record):
            changed_before.setdefault(name, index)
    _redact_cells(cells)
    summary = {s: sum(1 for c in cells if c["status"] == s) for s in STATUSES}
    drifting = [c for c in cells if c["status"] in ("drift", "error")]
    unverified = [c for c in cells if c["status"] == "unverified"]
    compared = [c for c in cells if c["status"] != "skipped"]
    reason = None
    status = "drift" if drifting else "reproduced"
    if drifting:
        top = drifting[0]
        cause = top["causes"][0]["detail"] if top["causes"] else "unknown cause"
        first = top["differences"][0]["detail"][:160]
        reason = f"{cell_label(top['index'])} {top['status']}: {first}; likely: {cause}"
    elif cells and all(not c["source"].strip() for c in cells):
        reason = "the notebook has no code to run"
    elif not compared and cells:
        status = "error"
        reason = (
            "nothing to verify: no code cell has saved outputs or a record "
            "(run it first: jupyter repro run NB.ipynb)"
        )
    elif unverified:
        reason = (
            f"{len(unverified)} cell(s) unverified: {cell_label(unverified[0]['index'])}: "
            + (unverified[0]["differences"][0]["detail"][:160])
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "drift_report",
        "notebook": str(path),
        "status": status,
        "reason": reason,
        "first_drift": first_drift,
        "recorded": recorded,
        "cells": cells,
        "summary": summary,
        "options": {
            "rtol": opts.rtol,
            "atol": opts.atol,
            "ssim_threshold": opts.ssim_threshold,
            "perceptual_images": opts.perceptual_images or opts.renderers_differ,
            "strict_state": opts.strict_state,
            "timeout": options.timeout,
            "runs": options.runs,
        },
        "environment_diff": env_diff or None,
    }


def _redact_cells(cells: list[dict[str, Any]]) -> None:
    """Reports quote sources and outputs: secrets in them must not travel into CI logs or HTML."""
    for cell in cells:
        cell["source"] = redact_text(cell.get("source", ""))
        for diff in cell.get("differences", []):
            for key in ("old", "new", "detail"):
                if isinstance(diff.get(key), str):
                    diff[key] = redact_text(diff[key])
        for cause in cell.get("causes", []):
            cause["detail"] = redact_text(cause["detail"])


def exit_code(report: dict[str, Any]) -> int:
    return {"reproduced": 0, "drift": 1}.get(report["status"], 2)


__all__ = ["verify_notebook", "VerifyOptions", "exit_code", "ExecutionError"]
