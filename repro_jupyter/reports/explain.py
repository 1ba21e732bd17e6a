"""The explain report (``$defs/explainReport``) as JSON and as one self-contained HTML page.

The page says the conclusion first, marks a cause *proven* (a trial showed it) apart from the
*likely* causes verify ranked by heuristics, then lists every trial: what was put back, the
trial environment's digest and pins, the result and the time.  Everything quoted goes
through the redaction service and :func:`.html_diff.esc`, as in the drift report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import __version__, schema
from ..numbering import cell_label
from ..redaction import redact_report
from .html_diff import esc
from .html_style import CSS

STATUS = {"no_drift": "no drift", "proven": "cause proven", "not_proven": "no cause proven"}
BADGE = {"no_drift": "reproduced", "proven": "drift", "not_proven": "error-nb"}
KIND = {"verify": "verify", "same_seed_again": "the same seed again", "packages": "distributions put back"}


def explain_json(report: Mapping[str, Any]) -> str:
    """Redacted, validated against the schema, stable (sorted keys)."""
    clean = redact_report(dict(report))
    schema.validate("explainReport", clean)
    return json.dumps(clean, indent=1, sort_keys=True) + "\n"


def render_explain_html(report: Mapping[str, Any]) -> str:
    """The explain report as one self-contained, redacted HTML
    page (no scripts: its CSP allows inline styles only)."""
    r = redact_report(dict(report))
    status = str(r.get("status", ""))
    title = f"repro-jupyter explain: {r.get('notebook', '')} — {STATUS.get(status, status)}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>Why did it drift?</h1>{explain_section(r)}"
        f"<footer>repro-jupyter {esc(__version__)}</footer></main></body></html>\n"
    )


def explain_section(r: Mapping[str, Any]) -> str:
    """The explain report as one ``<section>`` (also usable inside the drift report's page)."""
    status = str(r.get("status", ""))
    parts = [f'<section class="notebook explain"><div class="nb-head s-{esc(BADGE.get(status, status))}">']
    parts.append(
        f'<div class="title"><h2>{esc(str(r.get("notebook", "")))}</h2>'
        f'<span class="badge b-{esc(BADGE.get(status, "error-nb"))}">'
        f"{esc(STATUS.get(status, status))}</span></div>"
    )
    parts.append(f'<p class="reason">{esc(str(r.get("conclusion", "")))}</p>')
    drift = r.get("first_drift")
    meta = []
    if isinstance(drift, Mapping):
        meta.append(f"first drifting cell: {esc(cell_label(drift.get('index')))}")
    if isinstance(r.get("duration_s"), (int, float)):
        meta.append(f"explained in {r['duration_s']:.1f} s")
    bisection = r.get("bisection")
    if isinstance(bisection, Mapping):
        meta.append(
            f"{esc(str(bisection.get('candidates')))} changed distribution(s), "
            f"{esc(str(bisection.get('trials')))} package trial(s)"
            + (" (stopped at --max-trials)" if bisection.get("exhausted") else "")
        )
    if meta:
        parts.append(f'<p class="meta">{"<br>".join(meta)}</p>')
    parts.append("</div>")
    cause = r.get("cause")
    if isinstance(cause, Mapping):
        rows = "".join(
            f'<tr><td class="mono">{esc(str(p.get("name", "")))}</td>'
            f'<td class="mono old">{esc(str(p.get("recorded") or "—"))}</td>'
            f'<td class="mono new">{esc(str(p.get("now") or "—"))}</td></tr>'
            for p in cause.get("put_back") or []
        )
        parts.append(
            f'<h3>Proven cause <span class="badge b-drift">proven</span></h3><table class="env"><thead><tr>'
            f"<th>{esc(str(cause.get('kind')))}</th><th>recorded</th><th>now</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    likely = r.get("likely") or []
    if likely and status != "proven":
        items = "".join(
            f"<li><b>{esc(str(c.get('kind')))}</b> {esc(str(c.get('detail', '')))} "
            f'<span class="muted">(likely, score {esc(str(c.get("score")))})</span></li>'
            for c in likely
        )
        parts.append(f"<h3>Likely causes (heuristic, not proven)</h3><ul>{items}</ul>")
    parts.append(_trials(r.get("trials") or []))
    notes = r.get("notes") or []
    if notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{esc(str(n))}</li>" for n in notes) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def _trials(trials: list[Any]) -> str:
    rows = []
    for t in trials:
        env = t.get("environment") or {}
        digest = str(env.get("digest", "")).split(":")[-1][:12]
        pins = ", ".join(env.get("pins") or [])
        where = f'<span class="mono">{esc(digest)}</span> {esc(pins)}' if env else "the kernel's own"
        if env.get("reused"):
            where += ' <span class="muted">(cached)</span>'
        put = "; ".join(map(str, t.get("put_back") or [])) or "—"
        if isinstance(t.get("from_cell"), int):
            put += f" (from the checkpoint of {cell_label(t['from_cell'])})"
        result = str(t.get("result", ""))
        badge = {"reproduced": "reproduced", "drift": "drift"}.get(result, "error-nb")
        rows.append(
            f"<tr><td>{esc(KIND.get(str(t.get('kind')), str(t.get('kind'))))}</td><td>{esc(put)}</td>"
            f'<td>{where}</td><td><span class="badge b-{badge}">{esc(result)}</span></td>'
            f"<td>{float(t.get('seconds', 0)):.1f} s</td></tr>"
        )
    return (
        '<h3>Trials</h3><table class="env"><thead><tr><th>trial</th><th>put back</th><th>environment</th>'
        f"<th>result</th><th>time</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
