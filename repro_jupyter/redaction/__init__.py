"""The one redaction service: every exit where data leaves the kernel's memory goes through here.

Exits: store writes (cell records, environment snapshots, catalog rows), notebook and cell metadata, reports
(JSON, JUnit, HTML, pytest's output), server responses, exports (MLflow) and the console.  Each redacts by
*pattern* (``patterns``: known token formats, credentials in URLs, ``password=`` pairs, Azure connection
strings, GCP service-account keys, PEM blocks, JWTs) and by *value* (``known``: the literal values of the
secret-looking environment variables of the process that writes, which is the kernel for records and the
verifying process for reports).  Checkpoints are bytes and cannot be redacted: ``holds_secret`` and
``bytes_hold_secret`` decide that a variable is withheld instead.

Three levels, from the narrowest:

- ``redact_text(text)``: patterns and known values in one string.
- ``redact_data(value)``: ``redact_text`` on every string (keys too) of JSON-like data, nothing else changed:
  for whole records, reports and responses, whose structure and digests must survive.
- ``redact_report(report)``: ``redact_data`` with the secret literals of the report's notebook (``db_pass =
  "..."`` in a source: see ``notebook``), for what quotes a notebook's outputs.
- ``redact_value(name, value)``: ``redact_data`` plus redaction *by name*: the value of a secret-looking name
  (``db_pass``, ``{"pw": ...}``) is ``<redacted>`` whatever it looks like.  For hyperparameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from .known import MIN_LITERAL_SECRET, known_secret_values, register_secret
from .notebook import notebook_secrets, source_secrets
from .patterns import REDACTED, is_secret_name, redact_patterns
from .scan import bytes_hold_secret, chunks_hold_secret, holds_secret, text_holds_secret

WITHHELD = "withheld: holds a secret"


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret value (this process's environment, plus ``extra``: the secret literals
    of the notebook being quoted) and every secret shape replaced by ``<redacted>``."""
    if not isinstance(text, str) or not text:
        return text
    return _redact(text, known_secret_values(), tuple(extra))


def _redact(text: str, literals: tuple[str, ...], extra: tuple[str, ...]) -> str:
    for value in (*literals, *extra):  # each list longest first
        if value in text:
            text = text.replace(value, REDACTED)
    return redact_patterns(text)


def looks_secret(text: str) -> bool:
    """Whether ``text`` holds something ``redact_text`` would remove."""
    return isinstance(text, str) and text_holds_secret(text)


def redact_data(value: Any, extra: Iterable[str] = ()) -> Any:
    """Every string inside JSON-like ``value`` (dict keys included) passed through ``redact_text``.

    Tuples and sets become lists and dataclasses dicts (the shapes JSON has); other objects are kept as they
    are.  Names do not matter here: a record's ``{"api_key": {"digest": ...}}`` keeps its fingerprint.
    """
    literals, extra = known_secret_values(), tuple(sorted(set(extra), key=lambda v: (-len(v), v)))

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return _redact(item, literals, extra) if item else item
        if isinstance(item, Mapping):
            return {
                _redact(k, literals, extra) if isinstance(k, str) else k: walk(v) for k, v in item.items()
            }
        if isinstance(item, (list, tuple, set, frozenset)):
            return [walk(v) for v in item]
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return walk(dataclasses.asdict(item))
        return item

    return walk(value)


def redact_report(report: Any) -> Any:
    """A drift report (or a list of them) redacted, with the secret literals of each report's notebook."""
    if isinstance(report, Mapping):
        return redact_data(report, notebook_secrets(report.get("notebook") or ""))
    return [redact_report(r) for r in report]


def redact_value(name: str, value: Any) -> Any:
    """A named value redacted by name first (the whole value of ``db_pass``), then by content, recursively."""
    if is_secret_name(name) and value not in (None, "", [], {}) and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {redact_text(str(k)): redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact_value(name, v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return redact_value(name, dataclasses.asdict(value))
    return value


def redact_bytes_text(data: bytes) -> bytes:
    """UTF-8 text (a report, a notebook file) redacted; bytes that are not UTF-8 are returned unchanged."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return redact_text(text).encode("utf-8")


__all__ = [
    "REDACTED",
    "WITHHELD",
    "MIN_LITERAL_SECRET",
    "redact_text",
    "redact_data",
    "redact_report",
    "notebook_secrets",
    "source_secrets",
    "redact_value",
    "redact_bytes_text",
    "looks_secret",
    "is_secret_name",
    "known_secret_values",
    "register_secret",
    "holds_secret",
    "bytes_hold_secret",
    "chunks_hold_secret",
]
