"""Normalisation of benign output noise before digesting or comparing.

Rules are data: ``TEXT_RULES`` is a table of (name, pattern, replacement) applied to
every text output, so users extend it (``[tool.repro-jupyter] normalize`` in
``pyproject.toml``) without touching code.  Binary outputs (images) are never
rewritten here; they are compared perceptually by the drift engine.  The kernel
uses the same functions to digest outputs, so digests and comparisons agree.
"""

from __future__ import annotations

import ast
import os
import re
from typing import Any

from ..canonical import digest_json

Rules = list[tuple[str, re.Pattern[str], str]]

_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"

TEXT_RULES: Rules = [
    ("memory_address", re.compile(r"\bat 0x[0-9a-fA-F]{4,16}\b"), "at 0x<ADDR>"),
    ("hex_id", re.compile(r"\b0x[0-9a-fA-F]{8,16}\b"), "0x<ADDR>"),
    (
        "iso_timestamp",
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b"),
        "<TIMESTAMP>",
    ),
    (
        "ctime_date",
        re.compile(rf"\b{_DAY},? {_MONTH}\s+\d{{1,2}},? \d{{2}}:\d{{2}}:\d{{2}}(?: \d{{4}})?\b"),
        "<TIMESTAMP>",
    ),
    (
        "datetime_repr",
        re.compile(r"\bdatetime\.(?:datetime|date)\(\d{4}(?:, \d{1,6}){2,6}(?:, tzinfo=[^)]*\))?\)"),
        "<DATETIME>",
    ),
    ("iso_date", re.compile(r"\b(?:19|20)\d{2}-[01]\d-[0-3]\d\b"), "<DATE>"),
    ("clock_time", re.compile(r"\b[0-2]\d:[0-5]\d:[0-5]\d(?:\.\d+)?\b"), "<TIME>"),
    ("wall_time", re.compile(r"(?m)^(CPU times|Wall time):.*$"), r"\1: <DURATION>"),
    ("timeit", re.compile(r"(?m)^[\d.]+ [nµum]?s ± [\d.]+ [nµum]?s per loop.*$"), "<TIMEIT>"),
    ("tqdm_rate", re.compile(r"\[[\d:]+<[\d:?]+,\s*[\d.?]+\s?[a-zA-Z]+/s\]"), "[<RATE>]"),
    (
        "duration_phrase",
        re.compile(
            r"(?i)\b(took|elapsed|duration|runtime|finished in|completed in)(:?\s+)[\d.]+\s?"
            r"(ms|s|sec|secs|seconds|min|mins|minutes)\b"
        ),
        r"\1\2<DURATION>",
    ),
    ("temp_path", re.compile(r"(?:/private)?(?:/tmp|/var/folders/[\w]+/[\w]+/T)/[\w.-]+"), "<TMPPATH>"),
    (
        "figure_repr",
        re.compile(r"<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with (\d+) Axes>"),
        r"<Figure with \1 Axes>",
    ),
]

SVG_IDS = re.compile(r'(id="|url\(#|href="#)[^")]+')


def compile_rules(extra: tuple[tuple[str, str, str], ...] = ()) -> Rules:
    """The default table plus user rules (from ``pyproject.toml``), in order."""
    return TEXT_RULES + [(name, re.compile(pattern), repl) for name, pattern, repl in extra]


def collapse_carriage_returns(text: str) -> str:
    """Keep what a terminal would show: text after the last ``\\r`` of each line (progress bars)."""
    text = text.replace("\r\n", "\n")
    if "\r" not in text:
        return text
    # per line, linear: a regex like ``[^\n]*\r`` rescans a long line from every offset (quadratic)
    return "\n".join(line.rpartition("\r")[2] for line in text.split("\n"))


def normalise_text(text: str, rules: Rules | None = None) -> str:
    text = collapse_carriage_returns(text)
    home = os.path.expanduser("~")
    if home and home != "/":
        text = text.replace(home, "~")
    for _name, pattern, replacement in TEXT_RULES if rules is None else rules:
        text = pattern.sub(replacement, text)
    return sort_set_repr("\n".join(line.rstrip() for line in text.split("\n")))


def sort_set_repr(text: str) -> str:
    """``{'b', 'a'}`` prints in hash order (random per process for str): sort a whole-output set repr."""
    stripped = text.strip()
    if not stripped.endswith("}") or not stripped.startswith(("{", "frozenset({")) or len(stripped) > 100_000:
        return text
    inner = stripped[len("frozenset(") : -1] if stripped.startswith("frozenset(") else stripped
    try:
        value = ast.literal_eval(inner)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if not isinstance(value, (set, frozenset)):
        return text
    try:
        items = sorted(value)
    except TypeError:
        items = sorted(value, key=repr)
    body = "{" + ", ".join(repr(v) for v in items) + "}"
    return f"frozenset({body})" if stripped.startswith("frozenset(") else body


def join_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def normalise_output(output: dict[str, Any], rules: Rules | None = None) -> dict[str, Any]:
    """An nbformat-shaped output reduced to what matters for reproducibility."""
    kind = output.get("output_type")
    if kind == "stream":
        return {
            "output_type": "stream",
            "name": output.get("name", "stdout"),
            "text": normalise_text(join_text(output.get("text", "")), rules),
        }
    if kind == "error":
        return {
            "output_type": "error",
            "ename": output.get("ename", ""),
            "evalue": normalise_text(str(output.get("evalue", "")), rules),
        }
    data: dict[str, Any] = {}
    for mime, value in sorted((output.get("data") or {}).items()):
        if mime.startswith("image/") and mime != "image/svg+xml":
            data[mime] = join_text(value).replace("\n", "")  # base64: line breaks are not content
        elif mime == "application/vnd.jupyter.widget-view+json":
            data[mime] = {"model_id": "<WIDGET>"}
        elif isinstance(value, (dict, list)) and mime.endswith("json"):
            data[mime] = value
        elif mime == "image/svg+xml":
            data[mime] = normalise_text(SVG_IDS.sub(r"\1<ID>", join_text(value)), rules)
        else:
            data[mime] = normalise_text(join_text(value), rules)
    return {"output_type": kind, "data": data}


def coalesce_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge consecutive stream outputs of the same name, as notebook frontends do."""
    merged: list[dict[str, Any]] = []
    for out in outputs:
        if (
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            merged[-1] = {
                **merged[-1],
                "text": join_text(merged[-1]["text"]) + join_text(out.get("text", "")),
            }
        else:
            merged.append(dict(out))
    return merged


def output_digests(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One digest per (coalesced, normalised) output: what the cell records and verify compares."""
    result = []
    for out in coalesce_streams(outputs):
        norm = normalise_output(out)
        entry: dict[str, Any] = {"output_type": norm["output_type"], "digest": digest_json(norm)}
        if norm["output_type"] == "stream":
            entry["name"] = norm["name"]
        elif "data" in norm:
            entry["mimetypes"] = sorted(norm["data"])
        result.append(entry)
    return result
