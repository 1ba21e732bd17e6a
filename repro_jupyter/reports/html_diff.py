"""Side-by-side text diff for the HTML report: recorded on the left, new on the right.

This is the part of the report a reader actually studies, so it does three things a
plain ``difflib.HtmlDiff`` does not: long unchanged runs fold to a "N unchanged lines"
row; inside a changed line only the changed tokens are highlighted; and a number that
moved is wrapped in ``<mark>`` whose tooltip gives the absolute and relative delta,
coloured by whether it stayed within tolerance.  Numbers are found with the same
tokenizer the comparison uses (:func:`repro_jupyter.compare.numeric.tokenize`), so the
marks agree with the verdict.

Every piece of output text is untrusted: it goes through :func:`esc` (``html.escape``
after dropping terminal escapes and control characters) and nothing else.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from itertools import zip_longest
from typing import Any

from ..compare.numeric import DEFAULT_ATOL, DEFAULT_RTOL, tokenize
from ..figures import format_percent

CONTEXT_LINES = 3  # unchanged lines kept around each change
MAX_ROWS = 600  # a report is for reading; the full text is in the JSON

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_WORD = re.compile(r"\w+|\s+|[^\w\s]")
_NUM_KEY = "\x00number"  # a token no text contains (control characters are dropped first)
SIMILAR = 0.4  # below this token similarity two lines are shown whole, not token by token


@dataclass
class NumberMarks:
    """What the report knows about numbers that moved: the producer's deltas and tolerances."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    deltas: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_difference(cls, diff: Mapping[str, Any], options: Mapping[str, Any]) -> NumberMarks:
        """The marks for one output difference: the producer's numeric deltas, and
        its tolerances (the report's options where the difference names none)."""
        numeric = diff.get("numeric") or {}
        rtol = _float(numeric.get("rtol"), _float(options.get("rtol"), DEFAULT_RTOL))
        atol = _float(numeric.get("atol"), _float(options.get("atol"), DEFAULT_ATOL))
        deltas = {(str(d.get("old")), str(d.get("new"))): d for d in numeric.get("deltas") or []}
        return cls(rtol, atol, deltas)

    def mark(self, old: str, new: str) -> tuple[str, str]:
        """(css class, tooltip) for a number that changed from ``old`` to ``new``.

        The producer's delta is used when it listed this pair; otherwise (it may cap the
        list) the delta is recomputed, so every moved number still gets a tooltip.
        """
        delta = self.deltas.get((old, new))
        a, b = _float(old, math.nan), _float(new, math.nan)
        both_int = bool(re.fullmatch(r"[-+]?\d+", old) and re.fullmatch(r"[-+]?\d+", new))
        if delta is not None:
            abs_delta, rel_delta = delta.get("abs"), delta.get("rel")
            exact = bool(delta.get("exact", both_int))
        else:
            abs_delta = abs(a - b)
            rel_delta = abs_delta / abs(a) if a else (0.0 if abs_delta == 0 else math.inf)
            exact = both_int
        within = (
            not exact
            and math.isfinite(a)
            and math.isfinite(b)
            and abs(a - b) <= self.atol + self.rtol * abs(b)
        )
        title = f"abs {fmt_number(abs_delta)}, rel {format_percent(rel_delta)}"
        if exact:
            title += " (integers must match)"
        return ("tol" if within else "moved"), title


def side_by_side(old: str, new: str, marks: NumberMarks) -> str:
    """An HTML table: line numbers and text, recorded | new, changes highlighted."""
    left, right = _plain(old).splitlines(), _plain(new).splitlines()
    rows: list[tuple[str, int | None, str, int | None, str]] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(
                ("same", i + 1, esc(left[i]), j + 1, esc(right[j]))
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        pairs = zip_longest(range(i1, i2), range(j1, j2))
        for i, j in pairs:
            if i is not None and j is not None:
                old_html, new_html = inline_diff(left[i], right[j], marks)
                rows.append(("chg", i + 1, old_html, j + 1, new_html))
            elif i is not None:
                rows.append(("del", i + 1, _wrap("del", left[i]), None, ""))
            elif j is not None:
                rows.append(("ins", None, "", j + 1, _wrap("ins", right[j])))
    folded = _fold(rows)
    body = "".join(_row(row) for row in folded[:MAX_ROWS])
    if len(folded) > MAX_ROWS:
        body += _fold_row(f"{len(folded) - MAX_ROWS} more rows not shown (the JSON report has them)")
    return (
        '<table class="diff"><colgroup><col class="ln"><col><col class="ln"><col></colgroup>'
        '<thead><tr><th colspan="2">recorded</th><th colspan="2">new</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def inline_diff(old_line: str, new_line: str, marks: NumberMarks) -> tuple[str, str]:
    """Both lines as HTML, with only the tokens that changed highlighted.

    Tokens are words, runs of space, single punctuation marks and numbers.  The lines are
    aligned with every number as the same placeholder, so numbers line up by position in
    the text around them (as the comparison pairs them); a pair whose text differs
    becomes a ``<mark>`` with its delta.  Lines with too little in common are returned
    whole: highlighting every token of them says less than the row colour does.
    """
    a, b = _tokens(old_line), _tokens(new_line)
    keys_a, keys_b = ([_NUM_KEY if num else t for t, num in side] for side in (a, b))
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    if matcher.ratio() < SIMILAR:
        return esc(old_line), esc(new_line)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for (ta, _), (tb, _) in zip(a[i1:i2], b[j1:j2], strict=True):
                if ta == tb:
                    left.append(esc(ta))
                    right.append(esc(tb))
                    continue
                cls, title = marks.mark(ta, tb)
                attrs = f'class="{cls}" title="{esc(title)}"'
                left.append(f"<mark {attrs}>{esc(ta)}</mark>")
                right.append(f"<mark {attrs}>{esc(tb)}</mark>")
        else:
            left.append(_wrap("del", "".join(t for t, _ in a[i1:i2])))
            right.append(_wrap("ins", "".join(t for t, _ in b[j1:j2])))
    return "".join(left), "".join(right)


def fmt_number(value: Any) -> str:
    """Three significant digits for a float; non-finite values arrive as strings."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    return f"{value:.3g}"


def esc(text: object) -> str:
    """Escape untrusted text for HTML, dropping ANSI colour codes and control characters.

    Tracebacks carry both; a browser would show them as boxes, and lone surrogates would
    make the page impossible to encode as UTF-8.
    """
    return escape(_plain("" if text is None else str(text)))


def _plain(text: str) -> str:
    return _CONTROL.sub("", ANSI.sub("", text))


def _tokens(line: str) -> list[tuple[str, bool]]:
    skeleton, numbers = tokenize(line)
    tokens: list[tuple[str, bool]] = []
    for i, literal in enumerate(skeleton):
        tokens.extend((word, False) for word in _WORD.findall(literal))
        if i < len(numbers):
            tokens.append((numbers[i].text, True))
    return tokens


def _fold(rows: list[tuple[str, int | None, str, int | None, str]]) -> list[Any]:
    """Keep ``CONTEXT_LINES`` unchanged lines around each change; fold the rest."""
    changed = [k for k, row in enumerate(rows) if row[0] != "same"]
    if not changed:
        return list(rows)
    keep = {k for c in changed for k in range(c - CONTEXT_LINES, c + CONTEXT_LINES + 1)}
    folded: list[Any] = []
    hidden = 0
    for k, row in enumerate(rows):
        if k in keep:
            if hidden:
                folded.append(hidden)
                hidden = 0
            folded.append(row)
        else:
            hidden += 1
    if hidden:
        folded.append(hidden)
    return folded


def _row(row: Any) -> str:
    if isinstance(row, int):
        return _fold_row(f"{row} unchanged line{'s' if row != 1 else ''}")
    kind, i, old_html, j, new_html = row
    left_cls = "l" if i is not None else "l empty"
    right_cls = "r" if j is not None else "r empty"
    return (
        f'<tr class="{kind}"><td class="ln">{i or ""}</td><td class="{left_cls}">{old_html}</td>'
        f'<td class="ln">{j or ""}</td><td class="{right_cls}">{new_html}</td></tr>'
    )


def _fold_row(text: str) -> str:
    return f'<tr class="fold"><td colspan="4">⋯ {esc(text)}</td></tr>'


def _wrap(cls: str, text: str) -> str:
    return f'<span class="{cls}">{esc(text)}</span>' if text else ""


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
