"""Comparing one cell's recorded outputs with its new outputs.

Each output pair climbs a ladder and stops at the first rung that holds:
same (identical) -> benign (equal after normalisation) -> within_tolerance
(numbers within rtol/atol; images only where the rendering libraries differ or
the user asked for perceptual tolerance) -> drift.
The cell's status is the worst rung of its outputs; every non-identical pair
becomes a listed difference with what is needed to show it to a person.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from .images import LOCAL_SSIM_FLOOR, compare_images
from .markup import html_text
from .normalize import Rules, coalesce_streams, join_text, normalize_output
from .rules import CompareOptions
from .text import clip as _clip
from .text import compare_texts

LADDER = ("same", "benign", "within_tolerance", "unverified", "drift")


def worst(*statuses: str) -> str:
    """The most severe of ``statuses`` by ``LADDER`` (same < benign
    < within_tolerance < unverified < drift); "same" for none."""
    return max(statuses, key=LADDER.index) if statuses else "same"


@dataclass
class OutputsComparison:
    """A cell's outputs judged so far: the worst status seen and
    the differences (every non-"same" one) to show a person."""

    status: str = "same"
    differences: list[dict[str, Any]] = field(default_factory=list)

    def add(self, severity: str, difference: dict[str, Any]) -> None:
        """Record one output pair's verdict: raises the overall status to
        ``severity`` if worse, and lists the difference unless it is "same"."""
        self.status = worst(self.status, severity)
        if severity != "same":
            self.differences.append({**difference, "severity": severity})


RASTER = ("image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp")
WIDGET = "application/vnd.jupyter.widget-view+json"
# content-bearing text: each is compared in full when present on both sides (a changed HTML table
# or Markdown text is a changed result even when the text/plain fallback stays the same)
SCRIPTS = ("application/javascript", "text/javascript")
RICH_TEXT = ("text/html", "text/markdown", "text/latex", "image/svg+xml", "application/json")


def _difference(index: int, kind: str, mime: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "output",
        "output_index": index,
        "mimetype": mime,
        **extra,
        "detail": f"{kind} {mime}: {detail}",
    }


def _compare_bundle(
    index: int,
    kind: str,
    old: dict[str, Any],
    new: dict[str, Any],
    opts: CompareOptions,
    rules: Rules,
    result: OutputsComparison,
) -> None:
    """Every representation present on both sides is compared; the worst one decides.

    Exceptions, where one representation is only a rendering of another: a raster image beside
    LaTeX/HTML/Markdown (sympy's PNG of its LaTeX) follows the text, and the text/plain repr of a
    figure (``<Figure size ... with 1 Axes>``) follows the pixels.
    """
    old_data, new_data = old.get("data") or {}, new.get("data") or {}
    if old_data == new_data:
        return
    common = sorted(set(old_data) & set(new_data))
    if not common or (set(old_data) & set(RICH_TEXT + RASTER)) - set(new_data):
        # a lost content representation (HTML gone, only text/plain left) is a changed result
        result.add(
            "drift",
            {
                "kind": "output",
                "output_index": index,
                "detail": f"{kind}: representations changed {sorted(old_data)} -> {sorted(new_data)}",
            },
        )
        if not common:
            return
    elif set(old_data) ^ set(new_data):
        only = sorted(set(old_data) ^ set(new_data))
        result.add(
            "benign",
            {
                "kind": "output",
                "output_index": index,
                "detail": f"{kind}: representations present on one side only: {only}",
            },
        )
    rasters = [m for m in common if m in RASTER or (m.startswith("image/") and m != "image/svg+xml")]
    scripts = [m for m in common if m in SCRIPTS]
    rich = [
        m
        for m in common
        if m in RICH_TEXT or (m not in rasters and m not in (WIDGET, "text/plain", *SCRIPTS))
    ]
    for mime in scripts:  # code that draws (nbagg's JS), not a result: its data travels in other mimetypes
        if join_text(old_data[mime]) != join_text(new_data[mime]):
            result.add(
                "benign", _difference(index, kind, mime, "script changed (code that renders, not a result)")
            )
    source_of_image = [m for m in rich if m in ("text/latex", "text/html", "text/markdown")]
    for mime in rich:
        _compare_text_mime(index, kind, mime, old_data[mime], new_data[mime], opts, rules, result)
    if WIDGET in common and old_data[WIDGET] != new_data[WIDGET]:
        result.add("benign", _difference(index, kind, WIDGET, "widget model id changed"))
    for mime in rasters:
        if source_of_image:  # the text is the result, the image only its rendering
            if join_text(old_data[mime]) != join_text(new_data[mime]):
                result.add(
                    "benign",
                    _difference(
                        index, kind, mime, f"rendering of {source_of_image[0]} changed (text compared)"
                    ),
                )
        else:
            _compare_image(index, kind, mime, old_data[mime], new_data[mime], opts, result)
    if "text/plain" in common:
        old_text, new_text = join_text(old_data["text/plain"]), join_text(new_data["text/plain"])
        if rasters and not source_of_image:
            severity, diff = compare_texts(old_text, new_text, opts, rules)
            if severity != "same":  # a figure's repr: the pixels are the result
                result.add(
                    "benign",
                    {
                        **_difference(index, kind, "text/plain", ""),
                        **diff,
                        "detail": "text repr of an image changed (ignored)",
                    },
                )
        else:
            _compare_text_mime(index, kind, "text/plain", old_text, new_text, opts, rules, result)


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
    if isinstance(old, (dict, list)) or isinstance(new, (dict, list)):
        import json

        old, new = json.dumps(old, sort_keys=True, indent=1), json.dumps(new, sort_keys=True, indent=1)
    if mime == "image/svg+xml":
        old, new = (
            normalize_output({"data": {mime: old}}, rules)["data"][mime],
            normalize_output({"data": {mime: new}}, rules)["data"][mime],
        )
    old_text, new_text = join_text(old), join_text(new)
    severity, diff = compare_texts(old_text, new_text, opts, rules)
    if severity == "drift" and mime == "text/html" and opts.renderers_differ:
        # another pandas/IPython may wrap the same table in other markup: judge the text it shows
        text_severity, text_diff = compare_texts(html_text(old_text), html_text(new_text), opts, rules)
        if text_severity in ("same", "benign"):
            severity, diff = (
                "benign",
                {**diff, "detail": "same text, other markup (rendering libraries differ)"},
            )
        else:
            severity, diff = text_severity, {**diff, **text_diff}
    if severity != "same":
        result.add(
            severity,
            {**_difference(index, kind, mime, ""), **diff, "detail": f"{kind} {mime}: {diff['detail']}"},
        )


def _compare_image(
    index: int, kind: str, mime: str, old: Any, new: Any, opts: CompareOptions, result: OutputsComparison
) -> None:
    perceptual = opts.perceptual_images or opts.renderers_differ
    cmp = compare_images(join_text(old), join_text(new), make_heatmap=True)
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
    if cmp.changed_box:
        image["changed_box"] = list(cmp.changed_box)
    if cmp.problem is None and cmp.pixels_equal:
        severity, detail = "benign", "same pixels, other encoding (PNG bytes differ)"
    elif cmp.problem is not None:
        severity, detail = "drift", cmp.problem
    elif not perceptual:
        severity = "drift"
        detail = (
            f"image changed: {cmp.changed_pixels} pixel(s) differ{_box_text(cmp.changed_box)} "
            f"(SSIM {cmp.ssim:.4f}); same rendering libraries, so pixels must be equal"
        )
    elif cmp.ssim >= opts.ssim_threshold and cmp.min_local_ssim >= LOCAL_SSIM_FLOOR:
        severity = "within_tolerance"
        detail = (
            f"image differs slightly (SSIM {cmp.ssim:.4f} >= {opts.ssim_threshold}, "
            f"no region below {LOCAL_SSIM_FLOOR})"
        )
    else:
        severity = "drift"
        if cmp.ssim >= opts.ssim_threshold:
            detail = (
                f"image changed in one region{_box_text(cmp.changed_box)}: local SSIM "
                f"{cmp.min_local_ssim:.3f} < {LOCAL_SSIM_FLOOR} "
                f"(text or marks changed; overall SSIM {cmp.ssim:.4f})"
            )
        else:
            detail = f"image changed (SSIM {cmp.ssim:.4f} < {opts.ssim_threshold})"
    result.add(severity, {**_difference(index, kind, mime, detail), "image": image})


def _box_text(box: tuple[int, int, int, int] | None) -> str:
    return f" in the box x {box[0]}-{box[2]}, y {box[1]}-{box[3]}" if box else ""


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
