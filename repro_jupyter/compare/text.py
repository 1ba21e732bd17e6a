"""Comparing two texts: the ladder same -> benign (noise) -> representation -> tolerance -> drift.

Shared by streams, error messages and every text mimetype of a display bundle, so one
rule set decides what counts as noise everywhere.
"""

from __future__ import annotations

import difflib
from typing import Any

from .normalize import Rules, normalise_text
from .numeric import compare_text
from .representation import normalise_repr, same_literal_value
from .rules import CompareOptions

TEXT_LIMIT = 4000


def clip(text: str) -> str:
    return (
        text
        if len(text) <= TEXT_LIMIT
        else text[:TEXT_LIMIT] + f"\n… ({len(text) - TEXT_LIMIT} more characters)"
    )


def first_changed_line(old: str, new: str) -> str:
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
            return line[:160]
    return ""


def compare_texts(old: str, new: str, opts: CompareOptions, rules: Rules) -> tuple[str, dict[str, Any]]:
    """(severity, partial difference) for two texts: the whole ladder."""
    if old == new:
        return "same", {}
    norm_old, norm_new = normalise_text(old, rules), normalise_text(new, rules)
    if norm_old == norm_new:
        return "benign", {
            "detail": "differs only in benign noise (addresses, times, paths, order)",
            "old": clip(old),
            "new": clip(new),
        }
    if opts.representation_is_benign:
        norm_old, norm_new = normalise_repr(norm_old), normalise_repr(norm_new)
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
        diff["numeric"] = {
            "max_abs": numeric.max_abs,
            "max_rel": numeric.max_rel if numeric.max_rel != float("inf") else "inf",
            "rtol": opts.rtol,
            "atol": opts.atol,
            "deltas": [d.as_dict() for d in numeric.deltas[:50]],
        }
        if numeric.within:
            diff["detail"] = (
                f"{len(numeric.deltas)} number(s) differ within tolerance "
                f"(max rel {numeric.max_rel:.2g}; rtol {opts.rtol:g})"
            )
            return "within_tolerance", diff
        exact = [d for d in numeric.deltas if d.exact_required]
        worst_delta = exact[0] if exact else max(numeric.deltas, key=lambda d: d.rel_delta)
        reason = (
            " (integers must match exactly)"
            if exact
            else f" (rel {worst_delta.rel_delta:.2g} > rtol {opts.rtol:g})"
        )
        diff["detail"] = (
            f"{len(numeric.deltas)} number(s) differ, e.g. {worst_delta.old} -> {worst_delta.new}{reason}"
        )
        return "drift", diff
    if numeric.comparable:  # same numbers, only alignment whitespace moved
        return "benign", {**diff, "detail": "same values, different layout (whitespace)"}
    diff["detail"] = "text changed: " + first_changed_line(norm_old, norm_new)
    return "drift", diff
