"""Normalisation of benign output noise before digesting or comparing.

Rules are data: ``TEXT_RULES`` is a table of (name, pattern, replacement) applied to
every text output, so users extend it (``[tool.repro-jupyter] normalize`` in
``pyproject.toml``) without touching code.  Every rule matches a *volatile context*
(an object address, a ``%timeit`` line, a progress-bar rate, a kernel temp path), never
a bare value: a date, a clock time or a hex number on its own is a result and is
compared.  Clocks printed by the run itself are told apart from computed dates only
when comparing, where the runs' time windows are known (``compare/clocks.py``).
Binary outputs (images) are never rewritten here; they are compared by pixels.  The
kernel uses the same functions to digest outputs, so digests and comparisons agree.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable
from typing import Any

from ..canonical import digest_json

Replacement = str | Callable[[re.Match[str]], str]
Rules = list[tuple[str, re.Pattern[str], Replacement]]

# one duration as IPython's _format_time prints it: "2.61 s", "383 µs", "1e+03 ms", "1min 3s"
_UNIT = r"(?:ns|us|µs|μs|ms|s)"
_DUR = rf"(?:\d+(?:\.\d+)?(?:e[-+]?\d+)?\s?{_UNIT}|\d+(?:d|h|min|s)(?: \d+(?:d|h|min|s))*)"
_COUNT = r"\d[\d,]*"
_HEX_IN_REPR = re.compile(r"\b0x[0-9a-fA-F]{6,16}\b")


def _addresses_in_repr(match: re.Match[str]) -> str:
    """``<cdata 'int *' 0x55d0c3a0>``: a hex number inside an object repr is where it lives."""
    return _HEX_IN_REPR.sub("0x<ADDR>", match.group(0))


TEXT_RULES: Rules = [
    # object addresses: "<Foo object at 0x7f..>", "<function f at 0x..>", "<memory at 0x..>"
    ("memory_address", re.compile(r"\bat 0x[0-9a-fA-F]{4,16}\b"), "at 0x<ADDR>"),
    # any other 0x.. inside one <...> repr on one line (a bare 0xdeadbeef is a value: compared)
    (
        "repr_address",
        re.compile(r"<[^<>\n]{0,300}\b0x[0-9a-fA-F]{6,16}\b[^<>\n]{0,300}>"),
        _addresses_in_repr,
    ),
    # %timeit (IPython >= 5): "2.54 ms ± 383 µs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)"
    (
        "timeit",
        re.compile(
            rf"(?m)^(?:<TimeitResult : )?{_DUR} (?:±|\+-) {_DUR} per loop \(mean (?:±|\+-) std\. dev\. "
            rf"of {_COUNT} runs?, {_COUNT} loops? each\)>?[ \t]*$"
        ),
        "<TIMEIT>",
    ),
    # %timeit (IPython < 5): "100 loops, best of 3: 2.1 ms per loop"
    ("timeit_old", re.compile(rf"(?m)^{_COUNT} loops?, best of \d+: {_DUR} per loop[ \t]*$"), "<TIMEIT>"),
    # said only on some runs, so the line goes: "The slowest run took 4.52 times longer ... cached."
    (
        "timeit_slowest",
        re.compile(
            r"(?m)^The slowest run took [\d.]+ times longer than the fastest\. This could mean "
            r"that an intermediate result is being cached\.?[ \t]*(?:\n|$)"
        ),
        "",
    ),
    ("timeit_compile", re.compile(rf"(?m)^(?:Compiler time: [\d.]+ s|Parser   : {_DUR})[ \t]*(?:\n|$)"), ""),
    # %time: "CPU times: user 1.2 ms, sys: 0 ns, total: 1.2 ms" / "Wall time: 2 ms"
    (
        "cpu_times",
        re.compile(rf"(?m)^CPU times: (?:user {_DUR}, sys: {_DUR}, )?total: {_DUR}[ \t]*$"),
        "CPU times: <DURATION>",
    ),
    ("wall_time", re.compile(rf"(?m)^Wall time: *{_DUR}\.?[ \t]*$"), "Wall time: <DURATION>"),
    # progress bars: tqdm "[00:01<00:00,  9.53it/s]" / "[00:05<00:00, 1.23s/it, loss=0.5]" (postfix kept)
    (
        "tqdm_rate",
        re.compile(
            r"\[(?:\d+:)?\d{2}:\d{2}(?:<(?:(?:\d+:)?\d{2}:\d{2}|\?))?,\s*(?:[\d.]+|\?)\s?"
            r"(?:[a-zA-Z]+/s|s/[a-zA-Z]+)(,[^\]\n]*)?\]"
        ),
        r"[<RATE>\1]",
    ),
    # keras: "10/10 [=====] - 1s 35ms/step - loss: 0.5" (keras 3: "━━━━ 1s 35ms/step")
    (
        "keras_step_time",
        re.compile(rf"\b\d+(?:\.\d+)?{_UNIT}(?: \d+(?:\.\d+)?{_UNIT})?/(step|sample)\b"),
        r"<DURATION>/\1",
    ),
    # a duration in a log line that says it is one: "took 1.2 s", "elapsed: 3 s", "finished in 2 min"
    (
        "duration_phrase",
        re.compile(
            r"(?i)\b(took|elapsed|finished in|completed in|done in|time taken|train(?:ing)? time"
            r"(?: on \w+)?)(:?\s+)[\d.]+\s?(ms|s|sec|secs|seconds|min|mins|minutes)\b"
        ),
        r"\1\2<DURATION>",
    ),
    # pytest's summary line: "==== 9 passed in 2.22 seconds ====" / "==== 1 passed in 0.01s ===="
    (
        "pytest_duration",
        re.compile(r"(?m)^(=+ .*\bin )[\d.]+ ?(?:s|seconds)(?: \([\d:]+\))?( =+)"),
        r"\1<DURATION>\2",
    ),
    # kernel temp paths: warnings name /tmp/ipykernel_<pid>/<hash>.py
    ("temp_path", re.compile(r"(?:/private)?(?:/tmp|/var/folders/[\w]+/[\w]+/T)/[\w.-]+"), "<TMPPATH>"),
    ("ipykernel_pid", re.compile(r"\bipykernel_\d+\b"), "ipykernel_<PID>"),
    (
        "figure_repr",
        re.compile(r"<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with (\d+) Axes>"),
        r"<Figure with \1 Axes>",
    ),
]

# Volatile ids that renderers put into markup (HTML, SVG): they change every run and are no
# result.  Applied to text that looks like markup (``looks_like_markup``), never to plain text,
# where a uuid may be a seeded, reproducible value.
MARKUP_RULES: Rules = [
    # pandas Styler: <table id="T_b6817">, #T_b6817_row0_col0 { ... }
    ("styler_uuid", re.compile(r"(?<=[#\"'\s])T_[0-9a-f]{5,32}(?=[_\"'\s{,:.])"), "T_<ID>"),
    # plotly / bokeh / vega-embed divs and their script references: uuid4, with or without dashes
    (
        "uuid4",
        re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\b"),
        "<UUID>",
    ),
    ("altair_id", re.compile(r"\baltair-viz-[0-9a-f]{8,32}\b"), "altair-viz-<ID>"),
]

SVG_IDS = re.compile(r'(id="|url\(#|href="#)[^")]+')
_MARKUP = re.compile(r"<(?:[a-zA-Z][\w:-]*)(?:\s[^<>]*)?/?>")


def looks_like_markup(text: str) -> bool:
    """HTML or SVG (a closing tag or a self-closing one), not a repr like ``<Foo at 0x..>``."""
    return ("</" in text or "/>" in text) and _MARKUP.search(text) is not None


def compile_rules(extra: tuple[tuple[str, str, str], ...] = ()) -> Rules:
    """The default table plus user rules (from ``pyproject.toml``), in order; a pattern that does not
    compile is a one-line ``UsageError`` naming the rule, never a traceback from ``re``."""
    from ..errors import UsageError

    rules = list(TEXT_RULES)
    for name, pattern, repl in extra:
        try:
            rules.append((name, re.compile(pattern), repl))
        except (re.error, TypeError, OverflowError, RecursionError) as exc:
            shown = pattern[:60] + "…" if isinstance(pattern, str) and len(pattern) > 60 else pattern
            raise UsageError(
                f"normalize rule {str(name)[:60]!r}: bad regular expression {shown!r}: {exc}"
            ) from None
    return rules


def collapse_carriage_returns(text: str) -> str:
    """The text as JupyterLab shows and saves a stream (``processText`` of @jupyterlab/outputarea).

    ``\\r`` goes back to the start of the line and what follows overwrites (a shorter progress line
    leaves the end of the longer one: ``"loss 10.12\\rloss 9.87\\n"`` is ``"loss 9.872\\n"``), ``\\b``
    deletes as Lab does (the character before the cursor and the one under it, never a line feed), and
    ``\\n`` ends the line whatever the cursor.  A notebook saved by Lab holds this text already; a
    headless run's raw stream becomes the same, so the two compare equal.  Linear: each line is a
    buffer with a cursor (a regex rescanning long progress lines would be quadratic).
    """
    if "\r" not in text and "\b" not in text:
        return text
    return "\n".join(_overwrite(line) for line in text.split("\n"))


def _overwrite(line: str) -> str:
    if "\r" not in line and "\b" not in line:
        return line
    buffer: list[str] = []
    cursor = 0
    for piece in re.split(r"([\r\b])", line):
        if piece == "\r":
            cursor = 0
        elif piece == "\b":
            if cursor > 0:
                del buffer[cursor - 1 : cursor + 1]
                cursor -= 1
        elif piece:
            buffer[cursor : cursor + len(piece)] = piece
            cursor += len(piece)
    return "".join(buffer)


def normalize_text(text: str, rules: Rules | None = None) -> str:
    """Text with its volatile contexts replaced by placeholders (no clock windows: see clocks.py)."""
    text = collapse_carriage_returns(text)
    home = os.path.expanduser("~")
    if home and home != "/":
        text = text.replace(home, "~")
    table = TEXT_RULES if rules is None else rules
    if looks_like_markup(text):
        table = table + MARKUP_RULES
    for _name, pattern, replacement in table:
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
    """An nbformat text field as one string: a list of lines is joined, anything else goes through ``str``."""
    return "".join(value) if isinstance(value, list) else str(value)


def normalize_output(output: dict[str, Any], rules: Rules | None = None) -> dict[str, Any]:
    """An nbformat-shaped output reduced to what matters for reproducibility."""
    kind = output.get("output_type")
    if kind == "stream":
        return {
            "output_type": "stream",
            "name": output.get("name", "stdout"),
            "text": normalize_text(join_text(output.get("text", "")), rules),
        }
    if kind == "error":
        return {
            "output_type": "error",
            "ename": output.get("ename", ""),
            "evalue": normalize_text(str(output.get("evalue", "")), rules),
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
            data[mime] = normalize_text(SVG_IDS.sub(r"\1<ID>", join_text(value)), rules)
        else:
            data[mime] = normalize_text(join_text(value), rules)
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


def _mask_clocks(norm: dict[str, Any], window: tuple[float, float]) -> dict[str, Any]:
    from .clocks import mask_own_clocks

    if "text" in norm:
        return {**norm, "text": mask_own_clocks(norm["text"], window)}
    if "evalue" in norm:
        return {**norm, "evalue": mask_own_clocks(norm["evalue"], window)}
    data = {
        mime: mask_own_clocks(value, window)
        if isinstance(value, str) and not (mime.startswith("image/") and mime != "image/svg+xml")
        else value
        for mime, value in norm.get("data", {}).items()
    }
    return {**norm, "data": data}


def output_digests(
    outputs: list[dict[str, Any]], clock_window: tuple[float, float] | None = None
) -> list[dict[str, Any]]:
    """One digest per (coalesced, normalised) output: what the cell records and verify compares.

    Without ``clock_window`` a printed clock is part of the digest.  The kernel may pass the
    cell's own (start, now): clocks inside it are then masked, so a cell that prints the time
    keeps its digest from run to run (``clocks.mask_own_clocks``).
    """
    result = []
    for out in coalesce_streams(outputs):
        norm = normalize_output(out)
        if clock_window is not None:
            norm = _mask_clocks(norm, clock_window)
        entry: dict[str, Any] = {"output_type": norm["output_type"], "digest": digest_json(norm)}
        if norm["output_type"] == "stream":
            entry["name"] = norm["name"]
        elif "data" in norm:
            entry["mimetypes"] = sorted(norm["data"])
        result.append(entry)
    return result
