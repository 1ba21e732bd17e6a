"""JUnit XML for drift reports, so any CI system shows drifting cells as failed tests.

One ``<testsuite>`` per notebook and one ``<testcase>`` per code cell: CI dashboards
(GitHub, GitLab, Jenkins, Azure) already know how to list, count and link failed test
cases, so a drifting cell appears there with no plugin.  The failure body is plain text
written for the person reading the CI log: what differs, which numbers moved by how much,
and the ranked likely causes.

Only the standard library is used (``xml.etree.ElementTree`` does the escaping); the
text is additionally stripped of ANSI colour codes and of characters XML 1.0 cannot hold
(tracebacks carry both), or a strict consumer would reject the whole file.
"""

from __future__ import annotations

import difflib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from ..figures import format_percent
from ..numbering import cell_label
from ..redaction import redact_report

Report = Mapping[str, Any]

DIFF_LINES = 40  # unified-diff lines per difference in a failure body
DELTA_LINES = 10  # numeric deltas listed per difference

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def junit_xml(reports: Report | Sequence[Report]) -> str:
    """Render drift reports as one JUnit XML document (a ``<testsuites>`` root).

    Counts follow the JUnit convention consumers rely on: ``failures`` are drifting
    cells (an assertion, in test terms), ``errors`` are cells that raised or a notebook
    that could not be verified at all, ``skipped`` are skipped cells; benign and
    within-tolerance cells pass.
    """
    # every quoted source, output and message passes the redaction service first
    suites = [_suite(report) for report in redact_report(_as_list(reports))]
    root = ET.Element("testsuites", name="repro-jupyter verify")
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", _seconds(sum(float(s.get("time", "0")) for s in suites)))
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(reports: Report | Sequence[Report], path: str | os.PathLike[str]) -> None:
    """Write :func:`junit_xml` to ``path`` atomically (CI may collect it at any moment)."""
    from . import atomic_write_text  # the package imports this module first

    atomic_write_text(path, junit_xml(reports))


def _as_list(reports: Report | Sequence[Report]) -> list[Report]:
    return [reports] if isinstance(reports, Mapping) else list(reports)


def _suite(report: Report) -> ET.Element:
    notebook = str(report.get("notebook") or "notebook")
    classname = _clean(PurePosixPath(notebook.replace("\\", "/")).stem or notebook)
    cases: list[ET.Element] = []
    if report.get("status") == "error":
        cases.append(_notebook_error_case(report, classname))
    cases.extend(_cell_case(cell, classname) for cell in report.get("cells") or [])

    suite = ET.Element("testsuite", name=_clean(notebook))
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
    suite.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
    duration = report.get("duration_s")
    if not isinstance(duration, (int, float)):
        duration = sum(float(c.get("time", "0")) for c in cases)
    suite.set("time", _seconds(duration))
    properties = _properties(report)
    if len(properties):
        suite.append(properties)
    suite.extend(cases)
    return suite


def _properties(report: Report) -> ET.Element:
    """Suite properties: the verdict, the tolerances and the environment diff, one per key."""
    props = ET.Element("properties")

    def add(name: str, value: Any) -> None:
        ET.SubElement(props, "property", name=_clean(name), value=_clean(_text(value)))

    add("status", report.get("status"))
    if report.get("reason"):
        add("reason", report["reason"])
    if "recorded" in report:
        add("recorded", report["recorded"])
    for key, value in sorted((report.get("options") or {}).items()):
        add(f"option.{key}", value)
    for section, rows in (report.get("environment_diff") or {}).items():
        for row in rows or []:
            add(
                f"environment.{section}.{row.get('key')}",
                f"{_text(row.get('old'), '(absent)')} -> {_text(row.get('new'), '(absent)')}",
            )
    return props


def _notebook_error_case(report: Report, classname: str) -> ET.Element:
    reason = _text(report.get("reason") or "the notebook could not be verified")
    case = ET.Element("testcase", classname=classname, name="notebook", time=_seconds(0))
    error = ET.SubElement(case, "error", message=_clean(_first_line(reason)), type="verify_error")
    error.text = _clean(reason)
    return case


def _cell_case(cell: Mapping[str, Any], classname: str) -> ET.Element:
    name = cell_label(cell.get("index")) + (f" {cell['id']}" if cell.get("id") else "")
    case = ET.Element("testcase", classname=classname, name=_clean(name))
    case.set("time", _seconds(cell.get("duration_s") or 0))
    status = cell.get("status")
    differences = cell.get("differences") or []
    if status == "drift":
        message = _headline(differences, "drift") or "outputs drifted"
        failure = ET.SubElement(case, "failure", message=_clean(message), type="drift")
        failure.text = _clean(_body(cell))
    elif status == "error":
        message = _headline(differences, None) or "the cell raised"
        error = ET.SubElement(case, "error", message=_clean(message), type="cell_error")
        error.text = _clean(_body(cell))
    elif status == "skipped":
        ET.SubElement(case, "skipped", message=_clean(_headline(differences, None) or "skipped"))
    elif status == "unverified":
        case.append(_property_list("repro_status", "unverified"))
        ET.SubElement(case, "system-out").text = _clean("UNVERIFIED\n" + _body(cell))
    elif status in ("within_tolerance", "benign") and differences:
        ET.SubElement(case, "system-out").text = _clean(_body(cell))
    return case


def _headline(differences: Sequence[Mapping[str, Any]], severity: str | None) -> str:
    """The first difference of the given severity (or any), as a one-line message."""
    ranked = [d for d in differences if severity is None or d.get("severity") == severity] or list(
        differences
    )
    return _first_line(_text(ranked[0].get("detail"))) if ranked else ""


def _body(cell: Mapping[str, Any]) -> str:
    """Readable text for a CI log: differences, numeric deltas, causes, then the source."""
    lines = [f"{cell_label(cell.get('index'))} {cell.get('id') or ''}".rstrip() + f": {cell.get('status')}"]
    if cell.get("flaky"):
        lines.append("flaky: outputs also differed between repeated runs in this environment")
    for diff in cell.get("differences") or []:
        lines.extend(_difference_lines(diff))
    causes = sorted(cell.get("causes") or [], key=lambda c: -float(c.get("score", 0)))
    if causes:
        lines.append("likely causes:")
        lines.extend(f"  {float(c.get('score', 0)):.2f}  {c.get('kind')}: {c.get('detail')}" for c in causes)
    if cell.get("source"):
        lines.append("source:")
        lines.extend("  " + line for line in str(cell["source"]).splitlines())
    return "\n".join(lines) + "\n"


def _difference_lines(diff: Mapping[str, Any]) -> list[str]:
    where = str(diff.get("kind", "")).replace("_", " ")
    if "output_index" in diff:
        where += f" {diff['output_index']}" if where.endswith("output") else f" output {diff['output_index']}"
    if diff.get("mimetype"):
        where += f" ({diff['mimetype']})"
    if diff.get("severity"):
        where += f" [{diff['severity']}]"
    lines = [f"- {where}: {diff.get('detail', '')}"]
    numeric = diff.get("numeric") or {}
    if numeric:
        lines.append(
            f"    max abs {_num(numeric.get('max_abs'))}, max rel {format_percent(numeric.get('max_rel'))}"
            f" (rtol {_num(numeric.get('rtol'))}, atol {_num(numeric.get('atol'))})"
        )
        deltas = list(numeric.get("deltas") or [])
        for delta in deltas[:DELTA_LINES]:
            exact = " (integers must match)" if delta.get("exact") else ""
            lines.append(
                f"    {delta.get('old')} -> {delta.get('new')}  abs {_num(delta.get('abs'))}"
                f" rel {format_percent(delta.get('rel'))}{exact}"
            )
        if len(deltas) > DELTA_LINES:
            lines.append(f"    ... {len(deltas) - DELTA_LINES} more")
    image = diff.get("image") or {}
    if "ssim" in image:
        lines.append(f"    SSIM {float(image['ssim']):.4f} (threshold {_num(image.get('threshold'))})")
    if diff.get("variables"):
        lines.append("    variables: " + ", ".join(map(str, diff["variables"])))
    if "old" in diff or "new" in diff:
        old, new = _strip_ansi(_text(diff.get("old"))), _strip_ansi(_text(diff.get("new")))
        unified = list(
            difflib.unified_diff(old.splitlines(), new.splitlines(), "recorded", "new", n=2, lineterm="")
        )
        lines.extend("    " + line for line in unified[:DIFF_LINES])
        if len(unified) > DIFF_LINES:
            lines.append(f"    ... {len(unified) - DIFF_LINES} more diff lines")
    return lines


def _text(value: Any, none: str = "") -> str:
    if value is None:
        return none
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _num(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else _text(value)


def _seconds(value: Any) -> str:
    return f"{float(value):.3f}"


def _first_line(text: str) -> str:
    stripped = _strip_ansi(text).strip()
    return stripped.splitlines()[0] if stripped else ""


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _clean(text: str) -> str:
    """Text XML 1.0 can carry: no ANSI escapes, no control characters or lone surrogates."""
    return _NOT_XML.sub("", _strip_ansi(text))


def _property_list(name: str, value: str) -> ET.Element:
    props = ET.Element("properties")
    ET.SubElement(props, "property", name=name, value=value)
    return props
