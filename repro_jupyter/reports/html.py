"""One self-contained HTML page for drift reports: what a person opens instead of the JSON.

Layout, top to bottom: an overview of the notebooks (when there are several), then per
notebook a header (status badge, reason, counts, link to the first drifting cell), the
environment diff as a table, and one card per code cell with its source, its ranked
causes and, for every difference, recorded | new side by side.  Cards of cells that
reproduced (same, benign) start collapsed so the drift is what the eye lands on.

Outputs are untrusted text: everything that comes from a report goes through
:func:`.html_diff.esc` (``html.escape`` minus control characters); :mod:`.html_diff`
and :mod:`.html_media` render the diffs and the images.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..figures import format_percent
from ..numbering import cell_label
from ..redaction import redact_report
from .html_diff import ANSI, NumberMarks, esc, fmt_number, side_by_side
from .html_media import image_block
from .html_style import CSS, SCRIPT

Report = Mapping[str, Any]

CELL_STATUSES = ("same", "benign", "within_tolerance", "drift", "error", "skipped")
COLLAPSED = frozenset({"same", "benign"})
DELTA_ROWS = 12


def render_html(reports: Report | Sequence[Report], base_dir: str | os.PathLike[str] | None = None) -> str:
    """The whole page as a string.

    ``base_dir`` is the directory the page will be saved in: relative heatmap paths are
    read from there and embedded.  Without it heatmaps are left out, because a path
    relative to nowhere cannot be resolved.
    """
    # every quoted source, output and message passes the redaction service first
    items = redact_report([reports] if isinstance(reports, Mapping) else list(reports))
    base = Path(base_dir) if base_dir is not None else None
    sections = "".join(_notebook(n, report, base) for n, report in enumerate(items))
    overview = _overview(items) if len(items) > 1 else ""
    reproduced = sum(r.get("status") == "reproduced" for r in items)
    title = f"repro-jupyter: {reproduced}/{len(items)} notebooks reproduced"
    if len(items) == 1:
        title = f"repro-jupyter: {items[0].get('notebook', 'notebook')} — {_nb_status_label(items[0])}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f'<h1>Drift report</h1><p class="muted">{esc(title.removeprefix("repro-jupyter: "))}</p>'
        '<div class="toolbar"><label><input type="checkbox" id="only-problems">'
        " show only drift and errors</label>"
        '<button type="button" id="expand-all">expand all</button>'
        '<button type="button" id="collapse-all">collapse all</button></div>'
        f"{overview}{sections}"
        f"<footer>repro-jupyter {esc(__version__)}</footer></main>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_html(reports: Report | Sequence[Report], path: str | os.PathLike[str]) -> None:
    """Write :func:`render_html` to ``path`` atomically, embedding heatmaps found next to it."""
    from . import atomic_write_text  # the package imports this module first

    target = Path(path)
    atomic_write_text(target, render_html(reports, base_dir=target.parent))


def _overview(reports: Sequence[Report]) -> str:
    rows = "".join(
        f'<tr><td><a href="#nb{n}">{esc(str(r.get("notebook", "")))}</a></td><td>{_nb_badge(r)}</td>'
        f"<td>{_counts_inline(r)}</td><td>{esc(_one_line(r.get('reason')))}</td></tr>"
        for n, r in enumerate(reports)
    )
    return (
        '<table class="overview"><thead><tr><th>notebook</th><th>status</th><th>cells</th><th>reason</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _notebook(n: int, report: Report, base: Path | None) -> str:
    status = str(report.get("status", "error"))
    cells = list(report.get("cells") or [])
    parts = [f'<section class="notebook" id="nb{n}"><div class="nb-head s-{esc(status)}">']
    parts.append(
        f'<div class="title"><h2>{esc(str(report.get("notebook", "")))}</h2>{_nb_badge(report)}</div>'
    )
    if report.get("reason"):
        parts.append(f'<p class="reason">{esc(_one_line(report["reason"]))}</p>')
    if cells:
        parts.append(_counts(report))
    meta = []
    first = report.get("first_drift")
    if isinstance(first, Mapping):
        label = cell_label(first.get("index")) + (f" {first['id']}" if first.get("id") else "")
        meta.append(f'first drift: <a href="#nb{n}-cell{_anchor(first.get("index"))}">{esc(label)}</a>')
    if report.get("recorded") is False:
        meta.append("the notebook carries no repro-jupyter record")
    options = report.get("options") or {}
    if options:
        meta.append(" · ".join(f"{esc(str(k))} {esc(fmt_number(v))}" for k, v in sorted(options.items())))
    if isinstance(report.get("duration_s"), (int, float)):
        meta.append(f"verified in {report['duration_s']:.1f} s")
    if not cells:
        meta.append("no code cells were compared")
    if meta:
        parts.append(f'<p class="meta">{"<br>".join(meta)}</p>')
    parts.append("</div>")
    parts.append(_environment(report.get("environment_diff")))
    parts.extend(_cell(n, cell, options, base) for cell in cells)
    parts.append("</section>")
    return "".join(parts)


def _environment(env_diff: Any) -> str:
    if not isinstance(env_diff, Mapping) or not any(env_diff.values()):
        return ""
    rows = "".join(
        f'<tr><td>{esc(str(section))}</td><td class="mono">{esc(str(row.get("key", "")))}</td>'
        f'<td class="mono old">{_value(row.get("old"))}</td>'
        f'<td class="mono new">{_value(row.get("new"))}</td></tr>'
        for section, entries in env_diff.items()
        for row in entries or []
        if isinstance(row, Mapping)
    )
    return (
        '<h3>Environment: what changed since the record</h3><table class="env"><thead><tr><th>section</th>'
        f"<th>key</th><th>recorded</th><th>now</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _cell(n: int, cell: Mapping[str, Any], options: Mapping[str, Any], base: Path | None) -> str:
    status = str(cell.get("status", ""))
    differences = list(cell.get("differences") or [])
    headline = next((str(d.get("detail", "")) for d in differences if d.get("severity") == "drift"), "")
    headline = headline or (str(differences[0].get("detail", "")) if differences else "")
    label = cell_label(cell.get("index")) + (f" {cell['id']}" if cell.get("id") else "")
    flaky = '<span class="badge b-flaky" title="outputs differed between repeated runs here">flaky</span>'
    duration = cell.get("duration_s")
    summary = (
        f'<summary><b class="mono">{esc(label)}</b>{_badge(status, status.replace("_", " "))}'
        + (flaky if cell.get("flaky") else "")
        + f'<span class="headline">{esc(_one_line(headline))}</span>'
        + (f'<span class="dur">{duration:.2f} s</span>' if isinstance(duration, (int, float)) else "")
        + "</summary>"
    )
    body = []
    if cell.get("source"):
        body.append(f'<pre class="src">{esc(str(cell["source"]))}</pre>')
    body.append(_causes(cell.get("causes") or []))
    body.extend(_difference(d, options, base) for d in differences)
    opened = "" if status in COLLAPSED else " open"
    return (
        f'<details class="cell st-{esc(status)}" id="nb{n}-cell{_anchor(cell.get("index"))}"{opened}>'
        f'{summary}<div class="cell-body">{"".join(body)}</div></details>'
    )


def _causes(causes: Sequence[Mapping[str, Any]]) -> str:
    if not causes:
        return ""
    ranked = sorted(causes, key=lambda c: -_score(c))
    items = "".join(
        f'<li><span class="bar" title="score {_score(c):.2f}">'
        f'<span style="width:{_score(c) * 100:.0f}%"></span></span>'
        f'<span class="score">{_score(c):.2f}</span>'
        f'<span class="kind">{esc(str(c.get("kind", "")).replace("_", " "))}</span>'
        f"<span>{esc(str(c.get('detail', '')))}</span></li>"
        for c in ranked
    )
    return f'<h3>Likely causes</h3><ul class="causes">{items}</ul>'


def _difference(diff: Mapping[str, Any], options: Mapping[str, Any], base: Path | None) -> str:
    kind, severity = str(diff.get("kind", "")), str(diff.get("severity", ""))
    where = kind.replace("_", " ")
    if "output_index" in diff:
        where += f" {diff['output_index']}"
    if diff.get("mimetype"):
        where += f" · {diff['mimetype']}"
    parts = [
        '<div class="difference"><p class="what">'
        + (
            f'<span class="sev sev-{esc(severity)}">{esc(severity.replace("_", " "))}</span> '
            if severity
            else ""
        )
        + f"<b>{esc(where)}</b> — {esc(_one_line(diff.get('detail')))}</p>"
    ]
    if diff.get("variables"):
        names = ", ".join(f"<code>{esc(str(v))}</code>" for v in diff["variables"])
        parts.append(f'<p class="vars">variables: {names}</p>')
    if isinstance(diff.get("numeric"), Mapping):
        parts.append(_numeric(diff["numeric"]))
    if isinstance(diff.get("image"), Mapping):
        parts.append(image_block(diff["image"], base))
    if "old" in diff or "new" in diff:
        marks = NumberMarks.from_difference(diff, options)
        parts.append(side_by_side(str(diff.get("old") or ""), str(diff.get("new") or ""), marks))
    parts.append("</div>")
    return "".join(parts)


def _numeric(numeric: Mapping[str, Any]) -> str:
    head = (
        f'<p class="numeric">max abs <b>{esc(fmt_number(numeric.get("max_abs")))}</b>, '
        f"max rel <b>{esc(format_percent(numeric.get('max_rel')))}</b> "
        f'<span class="muted">(rtol {esc(fmt_number(numeric.get("rtol")))}, '
        f"atol {esc(fmt_number(numeric.get('atol')))})</span></p>"
    )
    deltas = [d for d in numeric.get("deltas") or [] if isinstance(d, Mapping)]
    if not deltas:
        return head
    rows = "".join(
        f'<tr><td class="mono">{esc(str(d.get("old")))}</td>'
        f'<td class="mono">{esc(str(d.get("new")))}</td>'
        f"<td>{esc(fmt_number(d.get('abs')))}</td><td>{esc(format_percent(d.get('rel')))}</td>"
        f"<td>{'integer' if d.get('exact') else ''}</td></tr>"
        for d in deltas[:DELTA_ROWS]
    )
    more = (
        f'<tr><td colspan="5" class="muted">… {len(deltas) - DELTA_ROWS} more</td></tr>'
        if len(deltas) > DELTA_ROWS
        else ""
    )
    return (
        f'{head}<table class="deltas"><thead><tr><th>recorded</th><th>new</th><th>abs</th><th>rel</th>'
        f"<th></th></tr></thead><tbody>{rows}{more}</tbody></table>"
    )


def _counts(report: Report) -> str:
    counts = _summary(report)
    items = "".join(
        ("<li>" if counts.get(s) else '<li class="zero">')
        + f"<b>{counts.get(s, 0)}</b> {s.replace('_', ' ')}</li>"
        for s in CELL_STATUSES
    )
    return f'<ul class="counts">{items}</ul>'


def _counts_inline(report: Report) -> str:
    counts = _summary(report)
    return esc(", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in CELL_STATUSES if counts.get(s)))


def _summary(report: Report) -> dict[str, int]:
    """The report's own summary, or one counted from the cells when it has none."""
    given = report.get("summary")
    if isinstance(given, Mapping) and given:
        return {str(k): int(v) for k, v in given.items()}
    counts: dict[str, int] = {}
    for cell in report.get("cells") or []:
        counts[str(cell.get("status"))] = counts.get(str(cell.get("status")), 0) + 1
    return counts


def _nb_status_label(report: Report) -> str:
    return {"reproduced": "reproduced", "drift": "drift", "error": "could not verify"}.get(
        str(report.get("status")), str(report.get("status"))
    )


def _nb_badge(report: Report) -> str:
    status = str(report.get("status"))
    return _badge("error-nb" if status == "error" else status, _nb_status_label(report))


def _badge(cls: str, text: str) -> str:
    return f'<span class="badge b-{esc(cls)}">{esc(text)}</span>'


def _value(value: Any) -> str:
    return '<span class="muted">—</span>' if value is None else esc(str(value))


def _score(cause: Mapping[str, Any]) -> float:
    try:
        return min(1.0, max(0.0, float(cause.get("score", 0))))
    except (TypeError, ValueError):
        return 0.0


def _anchor(index: Any) -> str:
    return esc(str(index))


def _one_line(text: Any) -> str:
    stripped = ANSI.sub("", "" if text is None else str(text)).strip()
    return stripped.splitlines()[0] if stripped else ""
