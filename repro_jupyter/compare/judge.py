"""The judge: one executed notebook against the recorded one, cell by cell, into a drift report.

Shared by everything that compares (``verify``, ``check --cell``, explain's trials, the server's
compare for the Lab panel): each builds a ``Case`` and gets the finished report, so a fact in a
report (a status, a cause, the reason line) is computed here once.  Running notebooks is not the
judge's business (``verify._execute``, ``headless.run_notebook``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..environment.diff import environment_diff
from ..errors import NotebookError, StoreError
from ..magic_args import is_configuration_cell
from ..numbering import cell_label
from ..redact import redact_text
from ..schema import METADATA_KEY, SCHEMA_VERSION
from ..state_chain import comparable
from ..store import Store
from .causes import rank_causes
from .cell import judge_cell, state_differences
from .context import renderers_changed, with_run_windows
from .normalize import Rules, compile_rules
from .outputs import compare_outputs
from .rules import CompareOptions, cell_control
from .upstream import upstream_cause

STATUSES = ("same", "benign", "within_tolerance", "unverified", "drift", "error", "skipped")


@dataclass
class Case:
    """What one judgement needs.  ``store`` holds the notebook's records, ``new_store`` the runs'
    (the same store for verify, a scratch store for explain and check, None: nothing recorded)."""

    path: Path
    notebook: Any  # the saved notebook: its outputs and record pointers are the reference
    runs: list[Any]  # executed copies (same cells); the first is judged, the others mark flaky cells
    store: Store | None
    new_store: Store | None
    compare: CompareOptions = field(default_factory=CompareOptions)
    rules: Rules | None = None  # compiled from ``compare.extra_rules`` when None
    old_env: Any = None  # the notebook-level environment recorded (None: unknown)
    recorded: bool = True  # the notebook was recorded with repro-jupyter (else outputs only)
    cells: set[int] | None = None  # nb.cells indexes to judge; the others are "skipped"
    timeout: int = 600  # shown in the report's options
    name: str | None = None  # how the report names the notebook (default: the path as given)
    reason_when_reproduced: str | None = None  # the reason line when nothing drifted
    started: float | None = None  # when the run began: the report's duration_s


def error_report(notebook: str, reason: str, started: float, recorded: bool = False) -> dict[str, Any]:
    """A drift report with status "error" and no cells, for a run that failed before
    anything could be judged; ``started`` is the epoch time used for ``duration_s``."""
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


def load(store: Store | None, digest: str | None, definition: str = "cellRecord") -> Any:
    """A record or environment from the store, checked against the schema (a store may be shared)."""
    if store is None or not digest:
        return None
    if definition == "environment":
        return store.objects.get_environment(digest)
    return store.objects.get_record(digest)


def judge(case: Case) -> dict[str, Any]:
    """The finished drift report (``record.v1.json#/$defs/driftReport``) of ``case.runs[0]`` against
    ``case.notebook``; later runs only mark flaky cells.  StoreError / NotebookError (one line) when a
    record cannot be read or a cell does not even parse."""
    path, nb, runs, store, new_store = case.path, case.notebook, case.runs, case.store, case.new_store
    old_env, recorded = case.old_env, case.recorded
    opts = case.compare
    rules = case.rules if case.rules is not None else compile_rules(opts.extra_rules)
    new_nb = runs[0]
    opts = with_run_windows(opts, nb, new_nb, store, new_store)
    if not recorded or old_env is None:
        opts = replace(opts, renderers_differ=True)  # who drew the stored outputs is unknown
    cells: list[dict[str, Any]] = []
    first_drift: dict[str, Any] | None = None
    changed_before: dict[str, int] = {}  # variable -> index of the cell after which it first differed
    env_diffs: dict[tuple[Any, Any], dict[str, Any]] = {}  # (environment then, now) -> diff
    new_nb_env = (new_nb.metadata.get(METADATA_KEY) or {}).get("environment")
    env_diff: dict[str, Any] = {}
    if old_env is not None and new_nb_env and new_store is not None:
        try:  # the notebook-level view: last recorded environment then and now
            env_diff = environment_diff(old_env, load(new_store, new_nb_env, "environment"))
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
            old_record = load(store, old_meta.get("record"))
            new_record = load(new_store, new_meta.get("record"))
            # a whole-state record (made before deltas) against a delta: compare like with like
            old_record, new_record = comparable(store, old_record, new_store, new_record)
            # like with like: this cell's environment then and now (imports change it cell by cell)
            pair = (old_meta.get("environment"), new_meta.get("environment"))
            if pair[0] and pair[1] and pair not in env_diffs:
                env_diffs[pair] = environment_diff(
                    load(store, pair[0], "environment"), load(new_store, pair[1], "environment")
                )
            cell_env_diff = env_diffs.get(pair, {})
        except StoreError as exc:
            raise StoreError(f"{cell_label(index)}: {exc}") from None
        if control.skip:
            entry.update(status="skipped", differences=[{"kind": "skipped", "detail": "skipped by tag"}])
            continue
        if case.cells is not None and index not in case.cells:
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
    if reason is None and status == "reproduced":
        reason = case.reason_when_reproduced
    report = {
        "schema_version": SCHEMA_VERSION,
        "kind": "drift_report",
        "notebook": case.name or str(path),
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
            "timeout": case.timeout,
            "runs": len(runs),
        },
        "environment_diff": env_diff or None,
    }
    if case.started is not None:
        report["duration_s"] = round(time.time() - case.started, 3)
    return report


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
    """The CLI exit code of a finished report: 0 reproduced, 1 drift, 2 anything else (an error)."""
    return {"reproduced": 0, "drift": 1}.get(report["status"], 2)
