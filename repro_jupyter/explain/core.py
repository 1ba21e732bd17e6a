"""``jupyter repro explain``: prove what made a cell drift by putting factors back one set at a time.

1. verify (in a scratch store); no drift: stop.
2. the same seed again, up to the first drifting cell: when the two runs differ, the cell is
   nondeterministic here and no re-execution can prove a cause;
3. every changed distribution put back (a trial environment, ``trialenv``); the drift gone:
   the packages are proven responsible, then bisected (``bisect``) to the smallest set that
   flips the result; the drift still there: "not the packages";
4. otherwise the thread settings and PYTHONHASHSEED as recorded, each in its own trial.
Trials stop after the first drifting cell.  The trials that prove something (verify, the control,
everything put back, the set a bisection ends at, the thread and hash-seed trials) run from the
top; the bisection's steering trials start after the last cell before the drift from its
checkpoint when that is sound (``shortcut``), and a set they alone showed is confirmed from the top.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..kernel_process import kernel_for
from ..numbering import cell_label
from ..redaction import redact_report
from ..schema import METADATA_KEY, SCHEMA_VERSION
from ..verify import VerifyOptions
from . import trials
from .bisect import Bisection
from .factors import Change, factors, input_lines
from .shortcut import Shortcut, plan
from .trialenv import Builder, ExplainError, PinError, Sources, base_of_kernel, find_uv

FROM_TOP = "trials start from the top of the notebook"


@dataclass
class ExplainOptions:
    """How ``explain_notebook`` runs: verify's options for every trial, where pins come from, the
    trial budget, the environment cache folder (None: the default) and a progress callback."""

    verify: VerifyOptions = field(default_factory=VerifyOptions)
    sources: Sources = field(default_factory=Sources)
    max_trials: int = 12
    cache: Path | None = None
    # progress, for the Lab's "Find the cause": {"event": "trial", "kind", "put_back"} as a trial starts,
    # {"event": "done", "trial": <report entry>} as it ends, {"event": "environment", "text"} before a build
    on_event: Callable[[dict[str, Any]], None] | None = None


class _Run:
    """One explain run: its trials, in order, as the report lists them."""

    def __init__(self, ctx: trials.Context, options: ExplainOptions) -> None:
        self.ctx, self.options = ctx, options
        self.trials: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.bisection: dict[str, Any] | None = None
        self.shortcut: Shortcut | None = None  # how steering trials skip ahead (None: from the top)

    def emit(self, **event: Any) -> None:
        if self.options.on_event is not None:
            self.options.on_event(event)

    def trial(self, kind: str, put_back: list[str], kernel: str, **kw: Any) -> trials.Outcome:
        """One trial (``trials.run``), announced first."""
        self.emit(event="trial", kind=kind, put_back=put_back)
        return trials.run(self.ctx, kernel, **kw)

    def build(self, builder: Builder, pins: Any) -> Any:
        shown = ", ".join(p.replace("==", " ") for p in pins) or "nothing"
        self.emit(event="environment", text=f"preparing a trial environment with {shown}")
        return builder.build(pins)

    def add(self, kind: str, put_back: list[str], outcome: trials.Outcome, env: Any = None) -> str:
        entry: dict[str, Any] = {
            "kind": kind,
            "put_back": put_back,
            "result": outcome.result,
            "seconds": outcome.seconds,
            "environment": None
            if env is None
            else {"digest": env.digest, "pins": list(env.pins), "reused": env.reused},
        }
        if outcome.detail:
            entry["detail"] = outcome.detail[:300]
        if outcome.start is not None:
            entry["from_cell"] = outcome.start
        self.trials.append(entry)
        self.emit(event="done", trial=entry)
        return outcome.result


def explain_notebook(path: str | Path, options: ExplainOptions | None = None) -> dict[str, Any]:
    """The explain report (``record.v1.json#/$defs/explainReport``); ReproError (exit 2) when it
    cannot run at all."""
    options = options or ExplainOptions()
    path = Path(path)
    started = time.time()
    uv = find_uv()
    if uv is None:
        raise ExplainError("uv is not installed: pip install 'repro-jupyter[explain]' (or put uv on PATH)")
    ctx = trials.open_context(path, options.verify)
    if not ctx.nb.metadata.get(METADATA_KEY):
        raise ExplainError(
            f"{path.name} was never recorded: nothing to put back (jupyter repro run it first)"
        )
    kernel = options.verify.kernel or kernel_for(ctx.nb, path)
    base = base_of_kernel(kernel)
    try:
        report = _explain(_Run(ctx, options), kernel, Builder(uv, base, options.sources, options.cache))
    finally:
        ctx.store.close()
    report["duration_s"] = round(time.time() - started, 3)
    return report


def _explain(run: _Run, kernel: str, builder: Builder) -> dict[str, Any]:
    ctx = run.ctx
    first = run.trial("verify", [], kernel)
    run.add("verify", [], first)
    if first.result == "error":
        raise ExplainError(f"verify could not run {ctx.path.name}: {first.detail}")
    drift = first.report.get("first_drift")
    if drift is None:
        text = "no drift: every cell reproduced"
        unverified = first.report.get("summary", {}).get("unverified")
        if unverified:
            text = f"no drift ({unverified} cell(s) unverified: nothing to explain)"
        return _report(run, "no_drift", text, None, first.report)
    at = drift["index"]
    where = cell_label(at)
    found = factors(trials.recorded_environment(ctx, at), first.new_env)
    run.notes += found.not_put_back + input_lines(first.report, at)
    if len(found.distributions) > 1:  # only a bisection has steering trials to shorten
        run.shortcut, why = plan(ctx.nb, ctx.store, first.report, at)
        run.notes.append(run.shortcut.note(at) if run.shortcut else why or FROM_TOP)
    else:
        run.notes.append(FROM_TOP)
    # the same-seed control runs in another process while the packages are put back: on a machine
    # with two cores the two runs of the notebook cost about one (the late-drift case was 3.3x verify)
    run.emit(event="trial", kind="same_seed_again", put_back=[])
    control = _start_control(ctx, kernel, at)
    try:
        cause, text = _packages(run, builder, found.distributions, at)
    finally:
        again = _finish_control(control, ctx, kernel, at)
    run.add("same_seed_again", [], again)
    run.trials.insert(1, run.trials.pop())  # the report lists the control right after verify
    if again.result == "error":
        raise ExplainError(f"the same-seed control run of {ctx.path.name} failed: {again.detail}")
    if again.result != "drift" or (
        again.nb is not None and not trials.same_outputs(ctx, first.nb, again.nb, at)
    ):
        text = (
            f"no cause proven: {where} gives different outputs on the same seed in the same environment "
            "(nondeterministic here); re-execution cannot prove a cause"
        )
        return _report(run, "not_proven", text, None, first.report, drift)
    if cause is None:
        for kind, variables in (("threads", found.threads), ("hashseed", found.hashseed)):
            if not variables or len(run.trials) - 2 >= run.options.max_trials:
                continue
            shown = [f"{k}={'(unset)' if v is None else v}" for k, v in variables.items()]
            outcome = run.trial(kind, shown, kernel, upto=at, env=variables)
            if run.add(kind, shown, outcome) == "reproduced":
                cause = {"kind": kind, "put_back": [{"name": s} for s in shown]}
                text = (
                    f"proven cause: {', '.join(shown)} as recorded; with it {where} reproduces, "
                    "without it drifts"
                )
                break
    if cause is not None:
        return _report(run, "proven", text, cause, first.report, drift)
    if found.python:
        text += f"; Python {found.python} was not put back"
    return _report(run, "not_proven", text, None, first.report, drift)


def _start_control(ctx: trials.Context, kernel: str, at: int) -> Any:
    """The same-seed control run, started in a fresh process (None where one cannot be started: the
    run then happens here, after the package trials)."""
    import concurrent.futures
    import multiprocessing

    try:
        pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        options = replace(ctx.options, progress=None)
        return pool, pool.submit(trials.control_run, str(ctx.path), options, kernel, at)
    except (OSError, RuntimeError, TypeError):
        return None


def _finish_control(control: Any, ctx: trials.Context, kernel: str, at: int) -> trials.Outcome:
    if control is not None:
        pool, future = control
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - a control that could not run in the child runs here
            pass
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return trials.run(ctx, kernel, upto=at)


def _packages(run: _Run, builder: Builder, changes: list[Change], at: int) -> tuple[dict | None, str]:
    """Put the changed distributions back, then bisect; (cause, conclusion line)."""
    where = cell_label(at)
    not_packages = f"not the packages: code, data, seed or nondeterminism ({where} still drifts"
    if not changes:
        return None, "not the packages: no distribution changed; code, data, seed or nondeterminism"
    pins = [c.pin for c in changes]
    try:
        run.build(builder, pins)
    except PinError as exc:
        bad = builder.unresolvable(pins)
        if not bad:
            run.notes.append(f"the recorded versions cannot be installed together: {exc}")
            return None, "no cause proven: the recorded versions cannot be installed together"
        run.notes += [f"cannot install {pin}: not found for this Python and these sources" for pin in bad]
        changes = [c for c in changes if c.pin not in bad]
        pins = [c.pin for c in changes]
        if not pins:
            return None, "no cause proven: none of the changed distributions can be installed as recorded"
    by_pin = {c.pin: c for c in changes}
    cheap: set[frozenset[str]] = set()  # sets only a trial from a checkpoint showed to fix

    def fixes(subset: tuple[str, ...], final: bool) -> bool:
        try:
            env = run.build(builder, subset)
        except PinError as exc:
            run.notes.append(f"trial not installable ({', '.join(subset)[:200]}): {exc}")
            return False
        shortcut = None if final else run.shortcut
        texts = [by_pin[p].text() for p in subset]
        kernel, where = env.kernel_name, env.jupyter_path
        outcome = run.trial("packages", texts, kernel, upto=at, jupyter_path=where, shortcut=shortcut)
        if shortcut is not None and outcome.result == "error":  # the checkout failed: from the top now
            run.add("packages", texts, outcome, env)
            run.notes.append(f"{outcome.detail[:200]}; the remaining trials start from the top")
            run.shortcut = None
            outcome = run.trial("packages", texts, kernel, upto=at, jupyter_path=where)
        fixed = run.add("packages", texts, outcome, env) == "reproduced"
        if fixed and outcome.start is not None:
            cheap.add(frozenset(subset))
        return fixed

    bisection = Bisection(fixes, run.options.max_trials)
    found = bisection.run(pins)
    used = len(bisection.tried)
    if found is not None and frozenset(found) in cheap:
        found, used = _confirm(run, bisection, fixes, pins, found, used)
    run.bisection = {"candidates": len(pins), "trials": used, "exhausted": bisection.exhausted}
    if found is None:
        return None, f"{not_packages} with all {len(pins)} changed distribution(s) put back)"
    chosen = [by_pin[p] for p in found]
    then = ", ".join(f"{c.name} {c.recorded}" for c in chosen)
    now = ", ".join(f"{c.name} {c.now or 'absent'}" for c in chosen)
    names = ", ".join(f"{c.name} {c.now or 'absent'} (recorded {c.recorded})" for c in chosen)
    text = f"proven cause: {names}; with {then} {where} reproduces, with {now} it drifts"
    if bisection.exhausted:
        text += f" (narrowing stopped at --max-trials {run.options.max_trials}: a smaller set may do)"
    cause = {
        "kind": "packages",
        "put_back": [{"name": c.name, "recorded": c.recorded, "now": c.now} for c in chosen],
    }
    return cause, text


def _confirm(
    run: _Run, bisection: Bisection, fixes: Any, pins: list[str], found: tuple[str, ...], used: int
) -> tuple[tuple[str, ...] | None, int]:
    """A set only steering trials showed to fix, run from the top: proven, or the search again
    with every trial from the top (the trials left over; everything put back is known to fix)."""
    budget = run.options.max_trials
    if used >= budget:  # no trial left to confirm it: everything put back is what is proven
        bisection.exhausted = True
        return tuple(pins), used
    if fixes(found, True):
        return found, used + 1
    run.notes.append(
        f"a trial from the checkpoint showed {', '.join(found)[:120]} fixing it, the run from the top did "
        "not: the search starts again from the top"
    )
    run.shortcut = None
    again = Bisection(fixes, budget - used)
    again.tried[frozenset(pins)] = True  # everything put back: proven from the top already
    again.smallest = tuple(pins)
    result = again.run(pins)
    bisection.exhausted = again.exhausted
    return result, used + len(again.tried)


def _report(
    run: _Run,
    status: str,
    conclusion: str,
    cause: dict[str, Any] | None,
    verify_report: dict[str, Any],
    drift: dict[str, Any] | None = None,
) -> dict[str, Any]:
    likely: list[dict[str, Any]] = []
    if drift is not None:
        cell = next((c for c in verify_report.get("cells", []) if c["index"] == drift["index"]), None)
        likely = [dict(c) for c in (cell or {}).get("causes", [])[:3]]
    out = {
        "schema_version": SCHEMA_VERSION,
        "kind": "explain_report",
        "notebook": str(run.ctx.path),
        "status": status,
        "conclusion": conclusion,
        "first_drift": drift,
        "cause": cause,
        "likely": likely,
        "trials": run.trials,
        "notes": run.notes,
        "verify": {"status": verify_report.get("status", "error"), "reason": verify_report.get("reason")},
    }
    if run.bisection is not None:
        out["bisection"] = run.bisection
    # notes and trial details quote sources and kernel errors: redacted here, before anyone prints them
    return redact_report(out)  # type: ignore[no-any-return]


def exit_code(report: dict[str, Any]) -> int:
    """The CLI exit code of an explain report: 0 no drift, 1
    cause proven, 3 not proven, 2 anything else (an error)."""
    return {"no_drift": 0, "proven": 1, "not_proven": 3}.get(report.get("status", ""), 2)


__all__ = ["ExplainOptions", "explain_notebook", "exit_code"]
