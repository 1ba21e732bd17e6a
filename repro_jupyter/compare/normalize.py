"""Normalisation of benign output noise before digesting or comparing.

Rules are data: ``TEXT_RULES`` is a table of (name, pattern, replacement) applied to
every text output, so the verify engine can extend or switch them off by name
without touching code.  Binary outputs (images) are never rewritten here; they are
compared perceptually by the drift engine.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..canonical import digest_json

TEXT_RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("memory_address", re.compile(r"\bat 0x[0-9a-fA-F]{4,16}\b"), "at 0x<ADDR>"),
    ("hex_id", re.compile(r"\b0x[0-9a-fA-F]{8,16}\b"), "0x<ADDR>"),
    (
        "iso_timestamp",
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b"),
        "<TIMESTAMP>",
    ),
    ("wall_time", re.compile(r"(?m)^(CPU times|Wall time):.*$"), r"\1: <DURATION>"),
    ("timeit", re.compile(r"(?m)^[\d.]+ [nµum]?s ± [\d.]+ [nµum]?s per loop.*$"), "<TIMEIT>"),
    (
        "figure_repr",
        re.compile(r"<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with (\d+) Axes>"),
        r"<Figure with \1 Axes>",
    ),
]

_CARRIAGE = re.compile(r"[^\n]*\r(?!\n)")


def collapse_carriage_returns(text: str) -> str:
    """Keep what a terminal would show: text after the last ``\\r`` of each line (progress bars)."""
    return _CARRIAGE.sub("", text.replace("\r\n", "\n"))


def normalise_text(text: str, rules: list[tuple[str, re.Pattern[str], str]] | None = None) -> str:
    text = collapse_carriage_returns(text)
    home = os.path.expanduser("~")
    if home and home != "/":
        text = text.replace(home, "~")
    for _name, pattern, replacement in TEXT_RULES if rules is None else rules:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def normalise_output(output: dict[str, Any]) -> dict[str, Any]:
    """An nbformat-shaped output reduced to what matters for reproducibility."""
    kind = output.get("output_type")
    if kind == "stream":
        return {
            "output_type": "stream",
            "name": output.get("name", "stdout"),
            "text": normalise_text(_join(output.get("text", ""))),
        }
    if kind == "error":
        return {
            "output_type": "error",
            "ename": output.get("ename", ""),
            "evalue": normalise_text(str(output.get("evalue", ""))),
        }
    data = {}
    for mime, value in sorted((output.get("data") or {}).items()):
        if mime.startswith("image/") and mime != "image/svg+xml":
            data[mime] = _join(value).replace("\n", "")  # base64: line breaks are not content
        elif mime == "application/vnd.jupyter.widget-view+json":
            data[mime] = {"model_id": "<WIDGET>"}
        elif isinstance(value, (dict, list)) and mime.endswith("json"):
            data[mime] = value
        else:
            data[mime] = normalise_text(_join(value))
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
            merged[-1] = {**merged[-1], "text": _join(merged[-1]["text"]) + _join(out.get("text", ""))}
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
