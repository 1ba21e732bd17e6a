"""Typed numeric tolerance: numbers are parsed out of text and compared as numbers.

Text is split into alternating literal and numeric tokens.  Two texts match
within tolerance when their literal skeletons are equal and every pair of
numbers is close: floats by ``|a - b| <= atol + rtol * |b|``, integers (and
counts) exactly.  Nothing is rounded with regexes, so ``0.30000000000000004``
and ``0.3`` match at the default tolerance while ``10`` and ``11`` never do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# A number not glued to a word (so "x1", "fp16", "0x1f" and ids stay literal text).
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan))(?![\w.])",
    re.IGNORECASE,
)

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8


@dataclass(frozen=True)
class Number:
    """One number found in text: its spelling, its value, and
    whether it is an integer (integers must match exactly)."""

    text: str
    value: float
    is_int: bool


def tokenize(text: str) -> tuple[list[str], list[Number]]:
    """Literal skeleton (with a placeholder per number) and the numbers in order."""
    parts = _NUMBER.split(text)  # literal, number, literal, ..., literal (one capturing group)
    numbers = [Number(raw, float(raw), raw.lstrip("+-").isdigit()) for raw in parts[1::2]]
    return parts[0::2], numbers


@dataclass
class NumericDelta:
    """One pair of numbers that differ, with absolute and relative
    difference; ``exact_required`` when both are integers."""

    old: str
    new: str
    abs_delta: float
    rel_delta: float
    exact_required: bool

    def as_dict(self) -> dict[str, object]:
        """The report's JSON form; an infinite or NaN difference
        becomes its repr, since JSON has no such numbers."""
        return {
            "old": self.old,
            "new": self.new,
            "abs": _finite(self.abs_delta),
            "rel": _finite(self.rel_delta),
            "exact": self.exact_required,
        }


def _finite(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)


@dataclass
class NumericComparison:
    """The result of ``compare_text``: ``comparable`` False when the texts differ in more than
    their numbers, else whether every number is within tolerance and the largest differences."""

    comparable: bool  # same skeleton and the same count of numbers
    within: bool  # every number within tolerance
    deltas: list[NumericDelta]  # numbers that differ at all (within tolerance or not)
    max_abs: float = 0.0
    max_rel: float = 0.0


def close(a: Number, b: Number, rtol: float, atol: float) -> bool:
    """Whether two numbers match: integers exactly, NaN equals NaN, infinities
    only themselves, floats by ``|a - b| <= atol + rtol * |b|``."""
    if a.is_int and b.is_int:
        return int(a.text) == int(b.text)
    if math.isnan(a.value) and math.isnan(b.value):
        return True
    if math.isinf(a.value) or math.isinf(b.value):
        return a.value == b.value
    return abs(a.value - b.value) <= atol + rtol * abs(b.value)


_SPACE = re.compile(r"\s+")


def _shape(skeleton: list[str]) -> list[str]:
    """Literal text without alignment whitespace (numpy/pandas pad columns to the widest number)."""
    return [_SPACE.sub(" ", part).strip() for part in skeleton]


def compare_text(
    old: str, new: str, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> NumericComparison:
    """Compare two texts number-aware; ``old`` is the recorded reference."""
    skel_old, nums_old = tokenize(old)
    skel_new, nums_new = tokenize(new)
    if _shape(skel_old) != _shape(skel_new) or len(nums_old) != len(nums_new):
        return NumericComparison(False, False, [])
    deltas: list[NumericDelta] = []
    within = True
    max_abs = max_rel = 0.0
    for a, b in zip(nums_old, nums_new, strict=True):
        if a.text == b.text:
            continue
        exact = a.is_int and b.is_int
        ok = close(a, b, rtol, atol)
        within = within and ok
        diff = abs(a.value - b.value) if math.isfinite(a.value) and math.isfinite(b.value) else math.inf
        rel = (
            diff / abs(a.value)
            if a.value not in (0.0,) and math.isfinite(diff)
            else (0.0 if diff == 0 else math.inf)
        )
        max_abs, max_rel = max(max_abs, diff), max(max_rel, rel)
        deltas.append(NumericDelta(a.text, b.text, diff, rel, exact))
    return NumericComparison(True, within, deltas, max_abs, max_rel)
