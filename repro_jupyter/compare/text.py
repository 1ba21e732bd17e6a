"""Comparing two texts: the ladder same -> benign (noise) -> representation -> tolerance -> drift.

Shared by streams, error messages and every text mimetype of a display bundle, so one
rule set decides what counts as noise everywhere.  Noise is removed in two steps: the
rule table (``normalize.py``: volatile contexts, the same in the kernel's digests) and,
here only, the runs' own clocks (``clocks.py``: needs both texts and both run windows).
The headline (``detail``) always names the worst difference found, never the noise
around it.
"""

from __future__ import annotations

import difflib
from typing import Any

from .clocks import Masked, mask_run_clocks
from .normalize import MARKUP_RULES, Rules, looks_like_markup, normalize_text
from .numeric import NumericComparison, compare_text
from .representation import normalize_repr, same_literal_value
from .rules import CompareOptions

TEXT_LIMIT = 4000
MAX_DIFF_LINES = 20_000  # beyond this the headline is the first changed line, found linearly

# what each rule of the table removes, in words, for the "benign" headline
NOISE_LABELS = {
    "memory_address": "object addresses",
    "repr_address": "object addresses",
    "timeit": "timings",
    "timeit_old": "timings",
    "timeit_slowest": "timings",
    "timeit_compile": "timings",
    "cpu_times": "timings",
    "wall_time": "timings",
    "tqdm_rate": "durations",
    "keras_step_time": "durations",
    "duration_phrase": "durations",
    "pytest_duration": "durations",
    "temp_path": "temp paths",
    "ipykernel_pid": "temp paths",
    "figure_repr": "figure size",
    "styler_uuid": "markup ids",
    "uuid4": "markup ids",
    "altair_id": "markup ids",
}


def clip(text: str) -> str:
    """Text shown in a report, cut at ``TEXT_LIMIT`` characters with a note of how many were left out."""
    return (
        text
        if len(text) <= TEXT_LIMIT
        else text[:TEXT_LIMIT] + f"\n… ({len(text) - TEXT_LIMIT} more characters)"
    )


def first_changed_line(old: str, new: str) -> str:
    """The first added or removed line of a line diff (with its ``+``/``-``,
    at most 160 characters), for a one-line headline; "" when none differ."""
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
            return line[:160]
    return ""


def noise_found(old: str, new: str, rules: Rules, masked: Masked) -> list[str]:
    """What the normalisation removed, in words (for the reader of a "benign" verdict)."""
    table = rules + (MARKUP_RULES if looks_like_markup(old) or looks_like_markup(new) else [])
    found: list[str] = []
    for name, pattern, _repl in table:
        label = NOISE_LABELS.get(name, name)
        if label not in found and (pattern.search(old) or pattern.search(new)):
            found.append(label)
    if masked.clocks:
        found.append("the runs' own clock")
    if masked.listings:
        found.append("listings of files the run wrote")
    if "\r" in old or "\r" in new:
        found.append("line endings")
    return found or ["whitespace, paths or set order"]


def _numeric_detail(numeric: NumericComparison, opts: CompareOptions) -> str:
    if numeric.within:
        return (
            f"{len(numeric.deltas)} number(s) differ within tolerance "
            f"(max rel {numeric.max_rel:.2g}; rtol {opts.rtol:g})"
        )
    exact = [d for d in numeric.deltas if d.exact_required]
    outside = [d for d in numeric.deltas if d.exact_required or d.rel_delta > opts.rtol]
    worst_delta = exact[0] if exact else max(outside or numeric.deltas, key=lambda d: d.rel_delta)
    reason = " (integers must match exactly)"
    if not exact:
        reason = f" (rel {worst_delta.rel_delta:.2g} > rtol {opts.rtol:g})"
    return f"{len(numeric.deltas)} number(s) differ, e.g. {worst_delta.old} -> {worst_delta.new}{reason}"


def _numeric_diff(numeric: NumericComparison, opts: CompareOptions) -> dict[str, Any]:
    return {
        "max_abs": numeric.max_abs,
        "max_rel": numeric.max_rel if numeric.max_rel != float("inf") else "inf",
        "rtol": opts.rtol,
        "atol": opts.atol,
        "deltas": [d.as_dict() for d in numeric.deltas[:50]],
    }


def worst_line(old: str, new: str, opts: CompareOptions) -> str:
    """The headline for texts that differ in more than numbers: the first line that really drifts.

    Lines are aligned; a pair whose numbers are within tolerance (or only whitespace moved) is
    passed over, so the headline names a changed number or a changed line, never a benign one.
    """
    old_lines, new_lines = old.split("\n"), new.split("\n")
    if max(len(old_lines), len(new_lines)) > MAX_DIFF_LINES:
        return "text changed: " + first_changed_line(old, new)
    drifting: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed, added = old_lines[i1:i2], new_lines[j1:j2]
        paired = min(len(removed), len(added))  # a replaced block: line by line, then the rest
        for a, b in zip(removed[:paired], added[:paired], strict=True):
            numeric = compare_text(a, b, opts.rtol, opts.atol)
            if not numeric.comparable:
                drifting.append(f"text changed: -{a.strip()[:75]} +{b.strip()[:75]}")
            elif not numeric.within:
                drifting.append(f"{_numeric_detail(numeric, opts)} in line {b.strip()[:80]!r}")
        if removed[paired:]:
            drifting.append(f"{len(removed) - paired} line(s) gone: -{removed[paired].strip()[:150]}")
        if added[paired:]:
            drifting.append(f"{len(added) - paired} new line(s): +{added[paired].strip()[:150]}")
    if not drifting:  # only tolerable lines moved around: say where the text first differs
        return "text changed: " + first_changed_line(old, new)
    more = f" (and {len(drifting) - 1} more changed place(s))" if len(drifting) > 1 else ""
    return drifting[0] + more


def compare_texts(old: str, new: str, opts: CompareOptions, rules: Rules) -> tuple[str, dict[str, Any]]:
    """(severity, partial difference) for two texts: the whole ladder."""
    if old == new:
        return "same", {}
    masked = mask_run_clocks(normalize_text(old, rules), normalize_text(new, rules), opts.run_windows)
    norm_old, norm_new = masked.old, masked.new
    if norm_old == norm_new:
        noise = ", ".join(noise_found(old, new, rules, masked))
        return "benign", {
            "detail": f"differs only in benign noise ({noise})",
            "old": clip(old),
            "new": clip(new),
        }
    if opts.representation_is_benign:
        norm_old, norm_new = normalize_repr(norm_old), normalize_repr(norm_new)
        if norm_old == norm_new:
            return "benign", {
                "detail": "same values, different representation (library repr change)",
                "old": clip(old),
                "new": clip(new),
            }
        if same_literal_value(norm_old, norm_new):
            return "benign", {
                "detail": "same value, different order or layout",
                "old": clip(old),
                "new": clip(new),
            }
    numeric = compare_text(norm_old, norm_new, opts.rtol, opts.atol)
    diff: dict[str, Any] = {"old": clip(old), "new": clip(new)}
    if numeric.comparable and numeric.deltas:
        diff["numeric"] = _numeric_diff(numeric, opts)
        diff["detail"] = _numeric_detail(numeric, opts)
        return ("within_tolerance" if numeric.within else "drift"), diff
    if numeric.comparable:  # same numbers, only alignment whitespace moved
        return "benign", {**diff, "detail": "same values, different layout (whitespace)"}
    diff["detail"] = worst_line(norm_old, norm_new, opts)
    return "drift", diff
