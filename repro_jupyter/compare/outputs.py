"""Comparing one cell's recorded outputs with its new outputs.

Each output pair climbs a ladder and stops at the first rung that holds:
same (identical) -> benign (equal after normalisation) -> within_tolerance
(numbers within rtol/atol, images with SSIM above the threshold) -> drift.
The cell's status is the worst rung of its outputs; every non-identical pair
becomes a listed difference with what is needed to show it to a person.
"""

from __future__ import annotations

import base64
import difflib
from dataclasses import dataclass, field
from typing import Any

from .images import compare_images
from .normalize import Rules, coalesce_streams, join_text, normalise_output, normalise_text
from .numeric import compare_text
from .representation import normalise_repr, same_literal_value
from .rules import CompareOptions

LADDER = ("same", "benign", "within_tolerance", "drift")
TEXT_LIMIT = 4000
SEMANTIC_TEXT = ("text/latex", "text/html", "text/markdown", "application/json")
TEXT_MIMES_PREFERENCE = ("text/latex", "text/plain", "text/markdown", "application/json", "text/html")


def worst(*statuses: str) -> str:
    return max(statuses, key=LADDER.index) if statuses else "same"


@dataclass
class OutputsComparison:
    status: str = "same"
    differences: list[dict[str, Any]] = field(default_factory=list)

    def add(self, severity: str, difference: dict[str, Any]) -> None:
        self.status = worst(self.status, severity)
        if severity != "same":
            self.differences.append({**difference, "severity": severity})


def _clip(text: str) -> str:
    return (
        text
        if len(text) <= TEXT_LIMIT
        else text[:TEXT_LIMIT] + f"\n… ({len(text) - TEXT_LIMIT} more characters)"
    )


def _first_changed_line(old: str, new: str) -> str:
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
            "old": _clip(old),
            "new": _clip(new),
        }
    if opts.representation_is_benign:
        norm_old, norm_new = normalise_repr(norm_old), normalise_repr(norm_new)
        if norm_old == norm_new:
            return "benign", {
                "detail": "same values, different representation (library repr change)",
                "old": _clip(old),
                "new": _clip(new),
            }
        if same_literal_value(norm_old, norm_new):
            return "benign", {
                "detail": "same value, different order or layout",
                "old": _clip(old),
                "new": _clip(new),
            }
    numeric = compare_text(norm_old, norm_new, opts.rtol, opts.atol)
    diff: dict[str, Any] = {"old": _clip(old), "new": _clip(new)}
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
    diff["detail"] = "text changed: " + _first_changed_line(norm_old, norm_new)
    return "drift", diff


def _compare_bundle(
    index: int,
    kind: str,
    old: dict[str, Any],
    new: dict[str, Any],
    opts: CompareOptions,
    rules: Rules,
    result: OutputsComparison,
) -> None:
    old_data, new_data = old.get("data") or {}, new.get("data") or {}
    if old_data == new_data:
        return
    common = sorted(set(old_data) & set(new_data))
    if not common:
        result.add(
            "drift",
            {
                "kind": "output",
                "output_index": index,
                "detail": f"{kind}: mimetypes changed {sorted(old_data)} -> {sorted(new_data)}",
            },
        )
        return
    only = sorted(set(old_data) ^ set(new_data))
    if only:
        result.add(
            "benign",
            {
                "kind": "output",
                "output_index": index,
                "detail": f"{kind}: representations present on one side only: {only}",
            },
        )
    images = [m for m in common if m.startswith("image/") and m != "image/svg+xml"]
    texts = [m for m in common if m not in images]
    ranked = sorted(texts, key=lambda m: TEXT_MIMES_PREFERENCE.index(m) if m in TEXT_MIMES_PREFERENCE else 99)
    semantic = [m for m in ranked if m in SEMANTIC_TEXT]
    if semantic or not images:
        # the text is the result (an image beside LaTeX/HTML is only its rendering)
        if ranked:
            _compare_text_mime(
                index, kind, ranked[0], old_data[ranked[0]], new_data[ranked[0]], opts, rules, result
            )
        for mime in images:
            if join_text(old_data[mime]) != join_text(new_data[mime]):
                result.add(
                    "benign",
                    {
                        "kind": "output",
                        "output_index": index,
                        "mimetype": mime,
                        "detail": f"{kind} {mime}: rendering of {ranked[0]} changed (text compared)",
                    },
                )
        return
    for mime in images:  # a figure: the pixels are the result, its text repr is noise
        _compare_image(index, kind, mime, old_data[mime], new_data[mime], opts, result)
    if ranked:
        severity, diff = compare_texts(
            join_text(old_data[ranked[0]]), join_text(new_data[ranked[0]]), opts, rules
        )
        if severity != "same":
            result.add(
                "benign",
                {
                    "kind": "output",
                    "output_index": index,
                    "mimetype": ranked[0],
                    **diff,
                    "detail": "text repr of an image changed (ignored)",
                },
            )


def _compare_text_mime(
    index: int,
    kind: str,
    mime: str,
    old: Any,
    new: Any,
    opts: CompareOptions,
    rules: Rules,
    result: OutputsComparison,
) -> None:
    if mime == "application/vnd.jupyter.widget-view+json":
        if old != new:
            result.add(
                "benign",
                {
                    "kind": "output",
                    "output_index": index,
                    "mimetype": mime,
                    "detail": "widget model id changed",
                },
            )
        return
    if isinstance(old, (dict, list)) or isinstance(new, (dict, list)):
        import json

        old, new = json.dumps(old, sort_keys=True, indent=1), json.dumps(new, sort_keys=True, indent=1)
    if mime == "image/svg+xml":
        old, new = (
            normalise_output({"data": {mime: old}}, rules)["data"][mime],
            normalise_output({"data": {mime: new}}, rules)["data"][mime],
        )
    severity, diff = compare_texts(join_text(old), join_text(new), opts, rules)
    if severity != "same":
        result.add(
            severity,
            {
                "kind": "output",
                "output_index": index,
                "mimetype": mime,
                **diff,
                "detail": f"{kind} {mime}: {diff['detail']}",
            },
        )


def _compare_image(
    index: int, kind: str, mime: str, old: Any, new: Any, opts: CompareOptions, result: OutputsComparison
) -> None:
    cmp = compare_images(join_text(old), join_text(new))
    if cmp.identical:
        return
    image: dict[str, Any] = {
        "ssim": round(cmp.ssim, 6),
        "threshold": opts.ssim_threshold,
        "old_png": join_text(old).replace("\n", ""),
        "new_png": join_text(new).replace("\n", ""),
    }
    if cmp.old_size:
        image["old_size"], image["new_size"] = list(cmp.old_size), list(cmp.new_size or ())
    if cmp.heatmap_png:
        image["heatmap_png"] = base64.b64encode(cmp.heatmap_png).decode()
    if cmp.problem is None and cmp.ssim >= opts.ssim_threshold:
        severity, detail = (
            "within_tolerance",
            f"image differs slightly (SSIM {cmp.ssim:.4f} >= {opts.ssim_threshold})",
        )
    else:
        severity = "drift"
        detail = cmp.problem or f"image changed (SSIM {cmp.ssim:.4f} < {opts.ssim_threshold})"
    result.add(
        severity,
        {
            "kind": "output",
            "output_index": index,
            "mimetype": mime,
            "detail": f"{kind} {mime}: {detail}",
            "image": image,
        },
    )


def compare_outputs(
    old_outputs: list[dict[str, Any]], new_outputs: list[dict[str, Any]], opts: CompareOptions, rules: Rules
) -> OutputsComparison:
    """Compare a cell's recorded outputs (``old``) with its new ones."""
    result = OutputsComparison()
    old_list, new_list = coalesce_streams(old_outputs), coalesce_streams(new_outputs)
    if opts.stderr_is_benign:
        old_err = [o for o in old_list if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        new_err = [o for o in new_list if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        old_list = [o for o in old_list if o not in old_err]
        new_list = [o for o in new_list if o not in new_err]
        old_text = "".join(join_text(o.get("text", "")) for o in old_err)
        new_text = "".join(join_text(o.get("text", "")) for o in new_err)
        if old_text != new_text:
            result.add(
                "benign",
                {
                    "kind": "output",
                    "detail": "stderr changed (warnings are not results)",
                    "old": _clip(old_text),
                    "new": _clip(new_text),
                },
            )
        old_list, new_list = coalesce_streams(old_list), coalesce_streams(new_list)
    for index in range(max(len(old_list), len(new_list))):
        if index >= len(new_list):
            result.add(
                "drift",
                {
                    "kind": "missing_output",
                    "output_index": index,
                    "detail": f"recorded output {index} ({old_list[index].get('output_type')}) is missing",
                },
            )
            continue
        if index >= len(old_list):
            new = new_list[index]
            text = join_text(new.get("text", "")) if new.get("output_type") == "stream" else ""
            result.add(
                "drift",
                {
                    "kind": "extra_output",
                    "output_index": index,
                    "new": _clip(text),
                    "detail": f"new output {index} ({new.get('output_type')}) was not recorded",
                },
            )
            continue
        old, new = old_list[index], new_list[index]
        old_kind, new_kind = old.get("output_type"), new.get("output_type")
        if old_kind != new_kind and {old_kind, new_kind} != {"display_data", "execute_result"}:
            result.add(
                "drift",
                {
                    "kind": "output",
                    "output_index": index,
                    "detail": f"output {index} changed type: {old_kind} -> {new_kind}",
                },
            )
            continue
        if old_kind == "stream":
            severity, diff = compare_texts(
                join_text(old.get("text", "")), join_text(new.get("text", "")), opts, rules
            )
            if old.get("name") != new.get("name"):
                severity, diff = "drift", {**diff, "detail": f"stream {old.get('name')} -> {new.get('name')}"}
            if severity != "same":
                result.add(
                    severity,
                    {
                        "kind": "output",
                        "output_index": index,
                        **diff,
                        "detail": f"{old.get('name')}: {diff['detail']}",
                    },
                )
        elif old_kind == "error":
            if old.get("ename") != new.get("ename"):
                result.add(
                    "drift",
                    {
                        "kind": "error",
                        "output_index": index,
                        "detail": f"error changed: {old.get('ename')} -> {new.get('ename')}: "
                        f"{str(new.get('evalue'))[:200]}",
                    },
                )
            else:
                severity, diff = compare_texts(
                    str(old.get("evalue", "")), str(new.get("evalue", "")), opts, rules
                )
                if severity != "same":
                    result.add(
                        severity,
                        {
                            "kind": "error",
                            "output_index": index,
                            **diff,
                            "detail": f"{old.get('ename')} message: {diff['detail']}",
                        },
                    )
        else:
            _compare_bundle(index, str(new_kind), old, new, opts, rules, result)
    return result
