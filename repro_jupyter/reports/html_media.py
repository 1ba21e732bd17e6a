"""Images in the HTML report: recorded | new side by side, plus the SSIM heatmap.

The report must stay one self-contained file (it is mailed, attached to CI runs and
opened offline), so every image becomes a ``data:`` URI.  Only real PNG bytes are
embedded: the base64 strings come from notebook outputs and the heatmap path from the
report, so both are checked (decodable, PNG signature, heatmap inside the report's
directory) before they reach an ``src`` attribute.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from .html_diff import fmt_number

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_HEATMAP_BYTES = 8 * 1024 * 1024


def png_data_uri(b64: Any) -> str | None:
    """A ``data:image/png`` URI for base64 PNG text, or None when it is not a PNG."""
    if not isinstance(b64, str) or not b64:
        return None
    compact = "".join(b64.split())  # nbformat stores base64 with line breaks
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(PNG_SIGNATURE):
        return None
    return "data:image/png;base64," + compact


def heatmap_data_uri(ref: Any, base_dir: Path | None) -> str | None:
    """Embed the heatmap file ``ref`` (relative to the HTML file's directory) if it is there.

    Anything that escapes ``base_dir``, is missing, is too large or is not a PNG is
    skipped: the report is still useful without its heatmap.
    """
    if not isinstance(ref, str) or not ref or base_dir is None:
        return None
    root = base_dir.resolve()
    candidate = (root / ref).resolve()
    try:
        candidate.relative_to(root)
        if not candidate.is_file() or candidate.stat().st_size > MAX_HEATMAP_BYTES:
            return None
        raw = candidate.read_bytes()
    except (OSError, ValueError):
        return None
    if not raw.startswith(PNG_SIGNATURE):
        return None
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")


def image_block(image: Mapping[str, Any], base_dir: Path | None) -> str:
    """The recorded and new images next to each other, the heatmap third, SSIM above."""
    ssim, threshold = image.get("ssim"), image.get("threshold")
    verdict = ""
    if isinstance(ssim, (int, float)):
        below = isinstance(threshold, (int, float)) and ssim < threshold
        verdict = (
            f'<p class="ssim {"bad" if below else "ok"}">SSIM <b>{ssim:.4f}</b>'
            + (
                f" {'&lt;' if below else '&ge;'} threshold {fmt_number(threshold)}"
                if threshold is not None
                else ""
            )
            + "</p>"
        )
    figures = [
        _figure("recorded", png_data_uri(image.get("old_png")), image.get("old_size")),
        _figure("new", png_data_uri(image.get("new_png")), image.get("new_size")),
    ]
    heatmap = heatmap_data_uri(image.get("heatmap"), base_dir) or png_data_uri(image.get("heatmap_png"))
    if heatmap:
        figures.append(_figure("difference heatmap", heatmap, None))
    return f'{verdict}<div class="images">{"".join(figures)}</div>'


def _figure(caption: str, uri: str | None, size: Any) -> str:
    dims = ""
    if isinstance(size, (list, tuple)) and len(size) >= 2:
        dims = f' <span class="muted">{escape(str(size[0]))}×{escape(str(size[1]))}</span>'
    body = f'<img alt="{escape(caption)}" src="{uri}">' if uri else '<div class="noimg">not available</div>'
    return f"<figure>{body}<figcaption>{escape(caption)}{dims}</figcaption></figure>"
