"""Drift reports for people and for CI: JSON (the contract), JUnit XML and one HTML page.

``jupyter repro verify`` produces one ``driftReport`` dict per notebook (see
``$defs/driftReport`` in ``record.v1.json``).  This package only *renders* those dicts;
it never re-runs or re-compares anything, so the CLI, the pytest plugin and the server
can all hand it the same reports and get the same files.

Every writer replaces its target atomically: a CI job that is killed mid-write, or a
browser that reloads the page while ``verify --watch`` rewrites it, never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import schema
from ..redaction import redact_report
from .html import render_html, write_html
from .junit import junit_xml, write_junit

__all__ = [
    "atomic_write_text",
    "junit_xml",
    "render_html",
    "write_html",
    "write_json",
    "write_junit",
]

Report = Mapping[str, Any]


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling and ``os.replace``.

    The temporary file lives in the target's directory so the rename never crosses a
    file system (where it would stop being atomic).  ``mkstemp`` creates it private
    (0600); the result gets the replaced file's mode, or 0644 for a new file, because
    reports are meant to be read by CI artifact uploaders and web servers.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(report_or_reports: Report | Sequence[Report], path: str | os.PathLike[str]) -> None:
    """Validate each report against the schema, then write them as stable JSON.

    Validation happens here, at the boundary, because the JSON file is what other tools
    (and later versions of this one) read back; a report that breaks the contract must
    fail the run that made it rather than the tool that loads it next week.  A single
    dict is written as an object, a sequence as an array.  ``sort_keys`` keeps the file
    diffable between runs.
    """
    single = isinstance(report_or_reports, Mapping)
    # every quoted source, output and message passes the redaction service first
    reports = redact_report([report_or_reports] if single else list(report_or_reports))
    for report in reports:
        schema.validate("driftReport", report)
    payload: Any = reports[0] if single else reports
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True) + "\n")
