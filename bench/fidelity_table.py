"""The fidelity table (markdown) and the list of what others must fix, from the harness's rows."""

from __future__ import annotations

from typing import Any

KINDS = ("constant", "seed", "data", "param")
HEAD = (
    "| notebook | record | verify | false drift | unverified | (a) constant | (b) seed | (c) data "
    "| (d) param |\n|---|---|---|---|---|---|---|---|---|"
)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _injection(result: dict[str, Any] | None) -> str:
    if not result:
        return "—"
    status = result["status"]
    if status == "ok":
        return "ok" if result.get("expected_cell") is not None else "ok (no change)"
    if status == "n/a":
        return "n/a"
    return f"{status.upper()}({_short(result.get('why', ''), 110)})"


def _row(row: dict[str, Any]) -> str:
    if row.get("harness_error"):
        return (
            f"| {row['id']} | HARNESS ERROR: {_short(row['harness_error'], 90)} | — | — | — | — | — | — | — |"
        )
    if row.get("skip"):
        return f"| {row['id']} | skipped: {_short(row['skip'], 90)} | — | — | — | — | — | — | — |"
    record = row["record"]
    if record["exit"] != 0:
        said = " (expected)" if record["exit"] == record.get("expected_exit", 0) else ""
        cells = [f"{record['exit']}{said}: {_short(record['message'], 90)}"] + ["—"] * 7
        return f"| {row['id']} | " + " | ".join(cells) + " |"
    verify = row["verify"]
    drifts = verify["false_drifts"]
    drift = f"{len(drifts)} (first {drifts[0]['cell']})" if drifts else "0"
    if verify["exit"] not in (0, 1) and not drifts:
        drift = f"? ({_short(verify['message'], 50)})"
    unverified = str(len(verify["unverified"]))
    want = record.get("expected_exit", 0)
    cells = [
        f"{record['exit']}" + (f" (want {want})" if want else ""),
        str(verify["exit"]),
        drift,
        unverified,
    ]
    cells += [_injection(row["injections"].get(k)) for k in KINDS]
    return f"| {row['id']} | " + " | ".join(cells) + " |"


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    run = [r for r in rows if not r.get("skip") and not r.get("harness_error")]
    recorded = [r for r in run if r["record"]["exit"] == 0]
    out: dict[str, Any] = {
        "notebooks": len(rows),
        "skipped": sum(1 for r in rows if r.get("skip")),
        "harness_errors": sum(1 for r in rows if r.get("harness_error")),
        "recorded": len(recorded),
        "verify_exit0": sum(1 for r in recorded if r["verify"]["exit"] == 0),
        "false_drift_cells": sum(len(r["verify"]["false_drifts"]) for r in recorded),
        "false_drift_notebooks": sum(
            1 for r in recorded if r["verify"]["false_drifts"] or r["verify"]["exit"]
        ),
        "unverified_cells": sum(len(r["verify"]["unverified"]) for r in recorded),
    }
    for kind in KINDS:
        statuses = [r["injections"][kind]["status"] for r in recorded]
        out[kind] = {s: statuses.count(s) for s in ("ok", "FAIL", "n/a", "error")}
    return out


def _totals_row(t: dict[str, Any]) -> str:
    def inj(kind: str) -> str:
        c = t[kind]
        return f"{c['ok']} ok, {c['FAIL']} FAIL, {c['n/a']} n/a" + (
            f", {c['error']} error" if c["error"] else ""
        )

    return (
        f"| **total** ({t['notebooks']}, {t['skipped']} skipped) | {t['recorded']} recorded | "
        f"{t['verify_exit0']}/{t['recorded']} exit 0 | {t['false_drift_cells']} cells in "
        f"{t['false_drift_notebooks']} notebooks | {t['unverified_cells']} | "
        + " | ".join(inj(k) for k in KINDS)
        + " |"
    )


def details(rows: list[dict[str, Any]]) -> list[str]:
    """Every false drift, failed record and failed injection, with cells, differences and causes."""
    lines: list[str] = []
    for row in rows:
        if row.get("harness_error"):
            lines.append(f"- {row['id']}: HARNESS ERROR (not the tool's): {row['harness_error']}")
        if row.get("skip") or row.get("harness_error"):
            continue
        record = row["record"]
        if record["exit"] != record.get("expected_exit", 0):
            lines.append(f"- {row['id']}: record exit {record['exit']}: {record['message']}")
        if record["exit"] != 0:
            continue
        verify = row["verify"]
        if verify["exit"] != 0 and not verify["false_drifts"]:
            lines.append(
                f"- {row['id']}: verify exit {verify['exit']} ({verify['status']}): {verify['message']}"
            )
        for d in verify["false_drifts"]:
            lines.append(
                f"- {row['id']}: FALSE DRIFT at cell {d['cell']} [{d['status']}] `{_short(d['source'], 60)}`"
                f": {' // '.join(d['differences']) or '(no difference listed)'}; top cause {d['top_cause']}"
            )
        for kind in KINDS:
            result = row["injections"][kind]
            if result["status"] in ("FAIL", "error"):
                got = result.get("got", {})
                lines.append(
                    f"- {row['id']}: ({kind}) {result['status']}: {result.get('why')}."
                    f" Change: {result.get('change')}."
                    f" Expected {result.get('expected')} cause {result.get('expected_cause')}; got exit "
                    f"{got.get('exit')}, first drift {got.get('where')}, top cause {got.get('top_cause')}: "
                    f"{_short(got.get('cause_detail') or '', 160)}; differences: "
                    f"{' // '.join(got.get('differences') or []) or 'none'}"
                    + (f"; oracle: {result['oracle']}" if result.get("oracle") else "")
                )
    return lines


def render(rows: list[dict[str, Any]]) -> tuple[str, bool]:
    """The markdown table, totals and details; and whether everything held (no false drift, no FAIL)."""
    t = totals(rows)
    text = "\n".join([HEAD, *(_row(r) for r in rows), _totals_row(t)])
    found = details(rows)
    if found:
        text += "\n\nFalse drifts, failed records and failed injections:\n" + "\n".join(found)
    notes = [f"- {r['id']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        text += "\n\nNotes:\n" + "\n".join(notes)
    clean = not found
    return text, clean
