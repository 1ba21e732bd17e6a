"""The collected nodes of ``pytest --repro``: a notebook file and one item per code cell.

The notebook is verified once, lazily, by whichever of its items runs first; the drift report is kept on
the :class:`ReproNotebook` node and every :class:`ReproCellItem` reads its own cell's entry from it.
Failures are explained in plain text (source, diffs, numeric deltas, tolerance, ranked causes), never as
a traceback through the plugin.
"""

from __future__ import annotations

import difflib
import re
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from .errors import ReproError
from .figures import format_percent
from .notebook_io import read_notebook
from .numbering import cell_label, cell_number
from .redaction import redact_report
from .verify import VerifyOptions, verify_notebook

OPTIONS_KEY = pytest.StashKey[VerifyOptions]()
PASSING = ("same", "benign", "within_tolerance", "unverified")


class ReproUnverified(UserWarning):
    """A cell passed, but something in it changed that could not be judged by value."""


SOURCE_LINES = 15
DIFF_LINES = 12
DELTAS_SHOWN = 5
CAUSES_SHOWN = 4


class ReproNotebook(pytest.File):
    """One ``.ipynb`` file; verified at most once per session (per xdist worker)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._report: dict[str, Any] | None = None
        self._error_reported = False

    def collect(self) -> Iterator[ReproCellItem]:
        """One item per code cell, named by its number and id; an
        unreadable notebook is a one-line collection error."""
        try:
            nb = read_notebook(self.path)
        except ReproError as exc:
            raise self.CollectError(str(exc)) from None  # shown as this one line, no traceback
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell_id = cell.get("id")
            name = item_name(index, cell_id)
            yield ReproCellItem.from_parent(self, name=name, index=index, cell_id=cell_id)

    @property
    def options(self) -> VerifyOptions:
        """The session's ``--repro`` options (set in ``pytest_configure``), or the defaults."""
        return self.config.stash.get(OPTIONS_KEY, None) or VerifyOptions()

    def report(self) -> dict[str, Any]:
        """The drift report, computed on first use.  The engine reports its own failures; anything
        else it raises (a bug) becomes an error report carrying the short traceback from here down."""
        if self._report is None:
            try:
                self._report = verify_notebook(self.path, self.options)
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [""])[0]
                self._report = {
                    "status": "error",
                    "reason": f"{type(exc).__name__}: {first}",
                    "cells": [],
                    "traceback": "".join(traceback.format_exception(exc)),  # not part of the schema
                }
            # every failure text, report section and warning quotes this report: redact it once, here
            self._report = redact_report(self._report)
        return self._report

    def take_error_turn(self) -> bool:
        """True for the first item that reports a could-not-verify error (it shows the details)."""
        first = not self._error_reported
        self._error_reported = True
        return first


def item_name(index: int, cell_id: str | None) -> str:
    """``cell[3-a1b2c3d4]`` (the third cell): one bracket at the end, like a parametrized test (pytest
    9.2 parses node ids that way: ``cell[3]-id`` would come back from an xdist worker as ``cell[3]-id]``)."""
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", cell_id or "")
    number = cell_number(index)  # the cell's position as people see it (see numbering.py)
    return f"cell[{number}-{safe_id}]" if safe_id else f"cell[{number}]"


class ReproCellFailure(Exception):
    """Raised by a cell item; carries the already formatted explanation."""

    def __init__(self, text: str) -> None:
        super().__init__(text.splitlines()[0] if text else "")
        self.text = text


class ReproCellItem(pytest.Item):
    """One code cell: its verdict is its entry in the notebook's drift report."""

    parent: ReproNotebook

    def __init__(self, *, index: int, cell_id: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index
        self.cell_id = cell_id
        # Keep a notebook's cells on one xdist worker (with --dist loadgroup): it runs once, there.
        self.add_marker(pytest.mark.xdist_group(name=self.parent.nodeid))

    def runtest(self) -> None:
        """Pass or fail by the cell's status in the notebook's report (computed once): unverified passes
        with a warning, skipped skips, and a could-not-verify error is detailed on the first item only."""
        notebook = self.parent
        report = notebook.report()
        if report["status"] == "error":
            reason = report.get("reason") or "unknown reason"
            if notebook.take_error_turn():
                raise ReproCellFailure(format_notebook_error(report, notebook.options, self.location[0]))
            raise ReproCellFailure(f"notebook could not be verified: {reason}")
        entry = next((c for c in report["cells"] if c["index"] == self.index), None)
        if entry is None:
            raise ReproCellFailure(f"{cell_label(self.index)} is missing from the drift report")
        status = entry["status"]
        self.user_properties.append(("repro_status", status))
        if status == "skipped":
            details = [d.get("detail", "") for d in entry.get("differences", [])]
            pytest.skip(f"{cell_label(self.index)}: {details[0] if details else 'skipped'}")
        if status == "within_tolerance":
            self.add_report_section("call", "repro", "\n".join(describe_differences(entry, report)))
        if status == "unverified":  # passes, but never silently: a warning shows in pytest's summary
            lines = describe_differences(entry, report)
            self.add_report_section("call", "repro", "\n".join(lines))
            warnings.warn(
                ReproUnverified(f"{cell_label(self.index)} unverified: " + " | ".join(lines)[:500]),
                stacklevel=1,
            )
        if status not in PASSING:
            raise ReproCellFailure(format_cell_failure(entry, report, self.location[0]))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """Our failures print their prepared text, not a
        traceback; anything else (a bug) keeps pytest's repr."""
        if isinstance(excinfo.value, ReproCellFailure):
            return PlainFailure(excinfo.value.text)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        """Where pytest says the item is: the notebook file, no line, ``cell N``."""
        return self.path, None, cell_label(self.index)


class PlainFailure:
    """A failure shown as plain lines, coloured like a diff on a terminal; its first line is the
    summary pytest prints after the test id (``-ra``) and JUnit's failure message."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.reprcrash = _Summary(text.splitlines()[0] if text else "")

    def toterminal(self, tw: Any) -> None:
        """Write the text with diff colours on a terminal: ``+`` lines green, ``-`` red, file headers bold."""
        for line in self.text.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("+++", "---")):
                tw.line(line, bold=True)
            elif stripped.startswith("+"):
                tw.line(line, green=True)
            elif stripped.startswith("-"):
                tw.line(line, red=True)
            else:
                tw.line(line)

    def __str__(self) -> str:
        return self.text


class _Summary:
    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return self.message


# -- formatting (pure functions of the report, unit-tested on their own) ------------------------------


def _number(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def format_source(source: str, limit: int = SOURCE_LINES) -> list[str]:
    """The cell's source indented for a failure message, cut after ``limit`` lines with the count left out."""
    lines = source.splitlines() or [""]
    shown = [f"    {line}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"    ... ({len(lines) - limit} more lines)")
    return shown


def text_diff(old: str, new: str, limit: int = DIFF_LINES) -> list[str]:
    """A unified diff (recorded vs re-executed, one line of context)
    indented for a failure message, cut after ``limit`` lines."""
    diff = list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), "recorded", "re-executed", lineterm="", n=1)
    )
    shown = [f"      {line}" for line in diff[:limit]]
    if len(diff) > limit:
        shown.append(f"      ... ({len(diff) - limit} more diff lines)")
    return shown


def format_delta(delta: dict[str, Any], rtol: Any, atol: Any) -> str:
    """``0.25 -> 0.35 (rel 40%, rtol 1e-05)``; integers must match exactly."""
    if delta.get("exact"):
        return f"{delta['old']} -> {delta['new']} (integers must match exactly)"
    rel, abs_ = delta.get("rel"), delta.get("abs")
    if (isinstance(rel, (int, float)) and rel > 0) or not isinstance(abs_, (int, float)):
        return f"{delta['old']} -> {delta['new']} (rel {format_percent(rel)}, rtol {_number(rtol)})"
    return f"{delta['old']} -> {delta['new']} (abs {_number(abs_)}, atol {_number(atol)})"


def describe_differences(entry: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """Each difference: its one-line detail, a small diff, numeric deltas, image similarity."""
    options = report.get("options") or {}
    lines: list[str] = []
    for diff in entry.get("differences", []):
        where = diff["kind"] + (f" {diff['output_index']}" if "output_index" in diff else "")
        severity = f" [{diff['severity']}]" if diff.get("severity") else ""
        lines.append(f"  {where}{severity}: {diff['detail']}")
        if "old" in diff or "new" in diff:
            lines.extend(text_diff(diff.get("old", ""), diff.get("new", "")))
        numeric = diff.get("numeric") or {}
        deltas = numeric.get("deltas") or []
        rtol = numeric.get("rtol", options.get("rtol"))
        atol = numeric.get("atol", options.get("atol"))
        for n, delta in enumerate(deltas[:DELTAS_SHOWN]):
            lines.append(f"    {'numbers: ' if n == 0 else '         '}{format_delta(delta, rtol, atol)}")
        if len(deltas) > DELTAS_SHOWN:
            lines.append(f"             ... {len(deltas) - DELTAS_SHOWN} more")
        image = diff.get("image") or {}
        if "ssim" in image:
            lines.append(f"    image: SSIM {image['ssim']:.4f} (threshold {_number(image.get('threshold'))})")
    return lines


def _tolerance(entry: dict[str, Any], report: dict[str, Any]) -> str:
    options = report.get("options") or {}
    rtol, atol = options.get("rtol"), options.get("atol")
    for diff in entry.get("differences", []):  # a repro-rtol= / repro-atol= tag overrides per cell
        numeric = diff.get("numeric") or {}
        rtol, atol = numeric.get("rtol", rtol), numeric.get("atol", atol)
    text = f"tolerance: rtol {_number(rtol)}, atol {_number(atol)}"
    images = [d["image"] for d in entry.get("differences", []) if d.get("image")]
    threshold = images[0].get("threshold", options.get("ssim_threshold")) if images else None
    if threshold is not None:
        text += f", image SSIM >= {_number(threshold)}"
    return text


def _summary_line(entry: dict[str, Any], path: str) -> str:
    first = entry["differences"][0]["detail"] if entry.get("differences") else entry["status"]
    line = f"{path} {cell_label(entry['index'])} {entry['status']}: {first[:160]}"
    if entry.get("causes"):
        top = entry["causes"][0]
        line += f"; likely {top['kind']}: {top['detail'][:120]}"
    return line


def format_cell_failure(entry: dict[str, Any], report: dict[str, Any], path: str) -> str:
    """The whole explanation of a drifting or failing cell, first line a one-line summary."""
    ident = f" (id {entry['id']})" if entry.get("id") else ""
    lines = [_summary_line(entry, path), "", f"{cell_label(entry['index'])}{ident}:"]
    lines += format_source(entry.get("source", ""))
    first = report.get("first_drift")
    if first and first.get("index") != entry["index"]:
        lines.append(f"downstream of the first drift, at {cell_label(first['index'])}")
    lines.append("differences:")
    lines += describe_differences(entry, report)
    lines.append(_tolerance(entry, report))
    if entry.get("flaky"):
        lines.append("flaky: this cell's output changed between re-executions here")
    for n, cause in enumerate(entry.get("causes", [])[:CAUSES_SHOWN]):
        label = "likely cause:" if n == 0 else "        also:"
        lines.append(f"{label} {cause['score']:.2f} {cause['kind']}: {cause['detail']}")
    env = report.get("environment_diff") or {}
    changes = [(section, c) for section, items in env.items() for c in items]
    if changes:
        shown = ", ".join(f"{c['key']} {c.get('old')} -> {c.get('new')}" for _, c in changes[:4])
        more = f" (+{len(changes) - 4} more)" if len(changes) > 4 else ""
        lines.append(f"environment changed: {shown}{more}")
    return "\n".join(lines)


def format_notebook_error(report: dict[str, Any], options: VerifyOptions, path: str) -> str:
    """Why a notebook could not be verified at all (shown in full by its first item)."""
    reason = report.get("reason") or "unknown reason"
    recorded = report.get("recorded")
    kinds: dict[object, str] = {
        True: " (recorded with repro-jupyter)",
        False: " (compared with its saved outputs)",
    }
    kind = kinds.get(recorded, "")
    compare = options.compare
    lines = [
        f"notebook could not be verified: {reason}",
        f"  notebook: {path}{kind}",
        f"  options:  rtol {compare.rtol:g}, atol {compare.atol:g}, timeout {options.timeout}s, "
        f"kernel {options.kernel or 'from the notebook'}, runs {options.runs}",
        "  every cell of this notebook fails with this reason",
    ]
    if report.get("traceback"):
        lines += ["", "the verifier crashed (a bug in repro-jupyter; please report it):", report["traceback"]]
    return "\n".join(lines)
