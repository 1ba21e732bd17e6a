"""Judging one code cell: outputs, errors and state, into one status with differences.

Status order for a cell: skipped, same, benign, within_tolerance, drift, error.
"error" means the cell raised now where the record did not (or the reverse); a
state difference (a variable whose fingerprint changed) is drift even when the
outputs agree, unless the outputs themselves moved within tolerance, in which
case changed numbers in the state are expected.
"""

from __future__ import annotations

from typing import Any

from .normalize import Rules
from .outputs import compare_outputs, worst
from .rules import CellControl, CompareOptions


def _errors(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in outputs if o.get("output_type") == "error"]


def state_differences(old_record: dict[str, Any] | None, new_record: dict[str, Any] | None) -> list[str]:
    """Names whose fingerprint differs between two records (both must hold state)."""
    old_vars = ((old_record or {}).get("state") or {}).get("variables")
    new_vars = ((new_record or {}).get("state") or {}).get("variables")
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
    old_outputs = list(old_cell.get("outputs", []))
    new_outputs = list(new_cell.get("outputs", []))
    old_err, new_err = _errors(old_outputs), _errors(new_outputs)
    differences: list[dict[str, Any]] = []
    if control.raises and new_err:
        # an expected exception: only its type must match the record (when there is one)
        if old_err and old_err[0].get("ename") != new_err[0].get("ename"):
            return "drift", [
                {
                    "kind": "error",
                    "severity": "drift",
                    "detail": f"expected {old_err[0].get('ename')}, got {new_err[0].get('ename')}",
                }
            ]
        old_outputs = [o for o in old_outputs if o.get("output_type") != "error"]
        new_outputs = [o for o in new_outputs if o.get("output_type") != "error"]
    elif new_err and not old_err:
        err = new_err[0]
        return "error", [
            {
                "kind": "error",
                "severity": "drift",
                "detail": f"raised {err.get('ename')}: {str(err.get('evalue'))[:300]}",
            }
        ]
    elif old_err and not new_err and not control.raises:
        return "drift", [
            {
                "kind": "error",
                "severity": "drift",
                "detail": f"the recorded run raised {old_err[0].get('ename')}; it no longer does",
            }
        ]
    status = "same"
    if control.ignore_output:
        if old_outputs != new_outputs:
            differences.append({"kind": "output", "severity": "benign", "detail": "outputs ignored by tag"})
            status = "benign"
    else:
        result = compare_outputs(old_outputs, new_outputs, opts, rules)
        status, differences = result.status, result.differences
    if opts.compare_state:
        changed = [n for n in state_differences(old_record, new_record) if n not in inherited]
        if changed:
            severity = "within_tolerance" if status == "within_tolerance" else "drift"
            if status in ("same", "benign"):
                detail = "variables changed with no visible output change: "
            else:
                detail = "variables changed: "
            differences.append(
                {
                    "kind": "state",
                    "severity": severity,
                    "variables": changed[:50],
                    "detail": detail + ", ".join(changed[:8]) + (" …" if len(changed) > 8 else ""),
                }
            )
            status = worst(status, severity)
    return status, differences
