"""Judging one code cell: outputs, errors, code, inputs and state, into one status with differences.

Status order for a cell: skipped, same, benign, within_tolerance, unverified, drift, error.
"error" means the cell raised now where the record did not; "unverified" means
something changed that we cannot judge by value (an opaque variable, a code edit
whose outputs still match, outputs cleared from the file where the kernel's
record of them is not what Jupyter saved): it is never reported as "same".  A
state difference (a variable whose value fingerprint changed) is drift even
when the outputs agree, unless the outputs themselves moved within tolerance,
in which case changed numbers in the state are expected.  A changed input file is always drift.
"""

from __future__ import annotations

from typing import Any

from ..cell_source import source_changed, source_text
from .normalize import Rules, output_digests
from .outputs import LADDER, compare_outputs, worst
from .rules import CellControl, CompareOptions
from .volatile_state import clock_assigned

CELL_STATUSES = ("skipped", *LADDER, "error")


def _errors(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in outputs if o.get("output_type") == "error"]


def _variables(record: dict[str, Any] | None) -> dict[str, Any] | None:
    return ((record or {}).get("state") or {}).get("variables")


def state_differences(old_record: dict[str, Any] | None, new_record: dict[str, Any] | None) -> list[str]:
    """Names whose fingerprint differs between two records (both must hold state)."""
    old_vars, new_vars = _variables(old_record), _variables(new_record)
    if old_vars is None or new_vars is None:
        return []
    names = []
    for name in sorted(set(old_vars) | set(new_vars)):
        a, b = old_vars.get(name), new_vars.get(name)
        if a is None or b is None:
            names.append(name)
        elif a.get("digest") != b.get("digest") and not (a.get("skipped") or b.get("skipped")):
            names.append(name)
    return names


def is_opaque(name: str, old_record: dict[str, Any] | None, new_record: dict[str, Any] | None) -> bool:
    """Not comparable by value: fingerprinted only through pickle bytes on either side, or by two
    different fingerprint versions (a record made before a fingerprint change)."""
    old = (_variables(old_record) or {}).get(name) or {}
    new = (_variables(new_record) or {}).get(name) or {}
    if old and new and old.get("scheme", 1) != new.get("scheme", 1):
        return True
    return bool(old.get("opaque") or new.get("opaque"))


def changed_inputs(
    old_record: dict[str, Any] | None, new_record: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Input files whose digest differs (or that appeared/disappeared) between the two records."""
    if old_record is None or new_record is None:
        return []
    before = {i["path"]: i for i in old_record.get("inputs") or [] if isinstance(i, dict) and "path" in i}
    after = {i["path"]: i for i in new_record.get("inputs") or [] if isinstance(i, dict) and "path" in i}
    out = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path), after.get(path)
        if (a or {}).get("digest") != (b or {}).get("digest"):
            out.append({"path": path, "old": (a or {}).get("digest"), "new": (b or {}).get("digest")})
    return out


def _short_digest(digest: str | None) -> str:
    if not digest:
        return "absent"
    return digest.split(":", 1)[-1][:12]


def _input_differences(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "kind": "input",
            "severity": "drift",
            "path": c["path"],
            "detail": f"input data changed: {c['path']} "
            f"(sha256 {_short_digest(c['old'])} -> {_short_digest(c['new'])})",
        }
        for c in changes
    ]


def _digest_views(
    outputs: list[dict[str, Any]], window: tuple[float, float] | None
) -> list[tuple[dict[str, Any], set[str]]]:
    """Per (coalesced) output of a run: its digest entry and the digests it may carry in a record,
    as printed or with the run's own clocks masked (the kernel masks those inside its cell's window,
    which the run's window holds)."""
    plain = output_digests(outputs)
    masked = output_digests(outputs, clock_window=window) if window is not None else plain
    return [(m, {p["digest"], m["digest"]}) for p, m in zip(plain, masked, strict=True)]


def _first_mismatch(digests: list[Any], views: list[tuple[dict[str, Any], set[str]]]) -> int | None:
    """The index of the first output whose digest is not one of the run's views of it (None: all are)."""
    for i, (digest, (_entry, accepted)) in enumerate(zip(digests, views, strict=False)):
        if digest not in accepted:
            return i
    return None if len(digests) == len(views) else min(len(digests), len(views))


def _kinds(entries: list[Any]) -> str:
    shown = [
        str(e.get("output_type", "?")) + (f":{e['name']}" if e.get("name") else "")
        for e in entries
        if isinstance(e, dict)
    ]
    return ", ".join(shown[:4]) + (" …" if len(shown) > 4 else "") if shown else "none"


def capture_gap(
    new_record: dict[str, Any] | None, new_outputs: list[dict[str, Any]], window: tuple[float, float] | None
) -> str | None:
    """Why the new run's record does not hold the outputs Jupyter saved for the cell in that run
    (None: it does, or there is no record to check).  Where it does not, the kernel's capture missed
    something for this cell (an output that arrived after its record was made: a thread still
    printing, bytes still in ipykernel's pipe, a later cell's ``update_display``), so the recorded
    run's digests cannot be trusted to stand in for outputs cleared from the file either."""
    if new_record is None:
        return None
    memory = [o for o in new_record.get("outputs") or [] if isinstance(o, dict)]
    views = _digest_views(new_outputs, window)
    first = _first_mismatch([o.get("digest") for o in memory], views)
    if first is None:
        return None
    return (
        f"the kernel recorded {len(memory)} output(s) of this cell where Jupyter saved {len(views)} "
        f"(output {first + 1} differs; recorded: {_kinds(memory)}; saved: {_kinds([v[0] for v in views])})"
    )


def _cleared_outputs(
    old_record: dict[str, Any],
    new_record: dict[str, Any] | None,
    new_outputs: list[dict[str, Any]],
    window: tuple[float, float] | None,
) -> tuple[str, list[dict[str, Any]]]:
    """The saved file lost its outputs (nbstripout, --clear-output): the recorded digests stand in
    for them, compared with the outputs Jupyter saved now (never with the new record's digests).
    They can stand in only where the kernel's capture sees what Jupyter saves: checked on the new
    run, where both exist; where it does not, "unverified" (neither "same" nor "drift")."""
    gap = capture_gap(new_record, new_outputs, window)
    if gap is not None:
        detail = f"outputs cleared from the file and its record cannot stand in for them: {gap}"
        return "unverified", [{"kind": "output", "severity": "unverified", "detail": detail}]
    recorded = [o.get("digest") for o in old_record.get("outputs") or []]
    views = _digest_views(new_outputs, window)
    first = _first_mismatch(recorded, views)
    if first is None:
        return "same", []
    detail = (
        f"outputs were cleared from the file; the new outputs do not match the recorded digests "
        f"({len(recorded)} recorded, {len(views)} now; output {first + 1} differs first)"
    )
    return "drift", [{"kind": "output", "severity": "drift", "detail": detail}]


def _recorded_error(
    old_outputs: list[dict[str, Any]], old_record: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The error a cell raised when recorded, from its record where the file lost its outputs: a
    stripped notebook's deliberate error is not a new one."""
    error = (old_record or {}).get("error")
    if old_outputs or not isinstance(error, dict) or not error.get("ename"):
        return []
    return [{"output_type": "error", "ename": error["ename"], "evalue": error.get("evalue", "")}]


def _error_status(
    old_err: list[dict[str, Any]], new_err: list[dict[str, Any]], control: CellControl
) -> tuple[str, list[dict[str, Any]]] | None:
    if control.raises and new_err:
        # an expected exception: only its type must match the record (when there is one)
        if old_err and old_err[0].get("ename") != new_err[0].get("ename"):
            detail = f"expected {old_err[0].get('ename')}, got {new_err[0].get('ename')}"
            return "drift", [{"kind": "error", "severity": "drift", "detail": detail}]
        return None
    if new_err and not old_err:
        err = new_err[0]
        detail = f"raised {err.get('ename')}: {str(err.get('evalue'))[:300]}"
        return "error", [{"kind": "error", "severity": "drift", "detail": detail}]
    if old_err and not new_err and not control.raises:
        detail = f"the recorded run raised {old_err[0].get('ename')}; it no longer does"
        return "drift", [{"kind": "error", "severity": "drift", "detail": detail}]
    return None


def _state_differences(
    status: str,
    opts: CompareOptions,
    old_record: dict[str, Any] | None,
    new_record: dict[str, Any] | None,
    inherited: set[str] | frozenset[str],
    clock_names: set[str] | frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    changed = [n for n in state_differences(old_record, new_record) if n not in inherited]
    if not changed:
        return []
    opaque = [n for n in changed if not opts.strict_state and is_opaque(n, old_record, new_record)]
    clocked = [n for n in changed if n not in opaque and n in clock_names]
    valued = [n for n in changed if n not in opaque and n not in clocked]
    out = []
    if valued:
        severity = "within_tolerance" if status == "within_tolerance" else "drift"
        lead = "variables changed: "
        if status in ("same", "benign"):
            lead = "variables changed with no visible output change: "
        out.append(
            {
                "kind": "state",
                "severity": severity,
                "variables": valued[:50],
                "detail": lead + ", ".join(valued[:8]) + (" …" if len(valued) > 8 else ""),
            }
        )
    if opaque:
        out.append(
            _unverified_state(
                opaque,
                "cannot be compared by value (fingerprinted only through pickle bytes, which changed, "
                "or by another version of repro-jupyter); --strict-state counts this as drift",
            )
        )
    if clocked:
        out.append(
            _unverified_state(
                clocked, "assigned from the wall clock in this cell (differs on every run; not compared)"
            )
        )
    return out


def _unverified_state(names: list[str], why: str) -> dict[str, Any]:
    """Variables whose values cannot be judged, named (the first eight in the text) with the reason."""
    shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    return {
        "kind": "unverified_state",
        "severity": "unverified",
        "variables": names[:50],
        "detail": f"unverified state: {shown} {why}",
    }


def _by_severity(differences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst first, so every headline (CLI, reports, Lab) names the real drift, not the noise."""
    rank = {s: i for i, s in enumerate(("drift", "unverified", "within_tolerance", "benign"))}
    return sorted(differences, key=lambda d: rank.get(d.get("severity", "drift"), 0))


def judge_cell(
    old_cell: Any,
    new_cell: Any,
    control: CellControl,
    opts: CompareOptions,
    rules: Rules,
    old_record: dict[str, Any] | None,
    new_record: dict[str, Any] | None,
    inherited: set[str] | frozenset[str] = frozenset(),
) -> tuple[str, list[dict[str, Any]]]:
    """(status, differences) for one executed code cell.

    ``inherited`` holds variables that already differed before this cell ran: their
    difference is an earlier cell's drift, not this one's.
    """
    opts = opts.for_cell(control)
    old_outputs = list(old_cell.get("outputs", []))
    new_outputs = list(new_cell.get("outputs", []))
    old_err, new_err = _errors(old_outputs) or _recorded_error(old_outputs, old_record), _errors(new_outputs)
    inputs = _input_differences(changed_inputs(old_record, new_record))
    errored = _error_status(old_err, new_err, control)
    if errored is not None:
        status, differences = errored
        return status, _by_severity(differences + inputs)
    if control.raises and new_err:
        old_outputs = [o for o in old_outputs if o.get("output_type") != "error"]
        new_outputs = [o for o in new_outputs if o.get("output_type") != "error"]
    differences = []
    status = "same"
    if control.ignore_output:
        if old_outputs != new_outputs:
            differences.append({"kind": "output", "severity": "benign", "detail": "outputs ignored by tag"})
            status = "benign"
    elif not old_outputs and old_record is not None and old_record.get("outputs"):
        # all of them: the record holds a raised error too (a cell marked to raise included)
        saved_now = list(new_cell.get("outputs", []))
        status, differences = _cleared_outputs(old_record, new_record, saved_now, opts.run_windows.new)
    else:
        result = compare_outputs(old_outputs, new_outputs, opts, rules)
        status, differences = result.status, result.differences
    if opts.compare_state:
        clocked = clock_assigned(source_text(old_cell))
        for diff in _state_differences(status, opts, old_record, new_record, inherited, clocked):
            differences.append(diff)
            status = worst(status, diff["severity"])
    if inputs:
        differences.extend(inputs)
        status = worst(status, "drift")
    if source_changed(source_text(old_cell), (old_record or {}).get("source")):
        note = (
            "the code changed since it was recorded"
            + ("; its outputs and variables still match the record" if status in ("same", "benign") else "")
            + " (re-record with `jupyter repro run` to make this the reference)"
        )
        differences.append({"kind": "source", "severity": "unverified", "detail": note})
        status = worst(status, "unverified")
    return status, _by_severity(differences)
