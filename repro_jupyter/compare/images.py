"""Perceptual image comparison: SSIM (scikit-image) with a threshold, plus a diff heatmap.

PNG bytes change with library versions (compression, metadata chunks) while the
picture stays the same, so images are compared as pixels: identical bytes are
"same", SSIM at or above the threshold is "within tolerance", anything else is
drift.  The heatmap (absolute difference, amplified) shows where they differ.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import Any

DEFAULT_SSIM_THRESHOLD = 0.99


@dataclass
class ImageComparison:
    identical: bool
    ssim: float
    old_size: tuple[int, int] | None
    new_size: tuple[int, int] | None
    heatmap_png: bytes | None = None
    problem: str | None = None


def decode(data: str | bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    return base64.b64decode("".join(data.split()), validate=False)


def _load(raw: bytes) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as img:
        rgba = img.convert("RGBA")
        arr = np.asarray(rgba, dtype=np.float64) / 255.0
    # composite on white so transparent regions compare as what a person sees
    alpha = arr[..., 3:4]
    return arr[..., :3] * alpha + (1.0 - alpha)


def compare_images(old: str | bytes, new: str | bytes, make_heatmap: bool = True) -> ImageComparison:
    try:
        old_raw, new_raw = decode(old), decode(new)
    except (binascii.Error, ValueError) as exc:
        return ImageComparison(False, 0.0, None, None, problem=f"undecodable image data: {exc}")
    if old_raw == new_raw:
        return ImageComparison(True, 1.0, None, None)
    try:
        a, b = _load(old_raw), _load(new_raw)
    except Exception as exc:  # PIL raises many types for garbage
        return ImageComparison(False, 0.0, None, None, problem=f"unreadable image: {type(exc).__name__}")
    old_size, new_size = (a.shape[1], a.shape[0]), (b.shape[1], b.shape[0])
    if a.shape != b.shape:
        return ImageComparison(
            False, 0.0, old_size, new_size, problem=f"size changed {old_size} -> {new_size}"
        )
    from skimage.metrics import structural_similarity

    win = min(7, a.shape[0], a.shape[1])
    if win % 2 == 0:
        win -= 1
    if win < 3:
        score = 1.0 if (a == b).all() else 0.0
    else:
        score = float(structural_similarity(a, b, channel_axis=2, data_range=1.0, win_size=win))
    heat = _heatmap(a, b) if make_heatmap else None
    return ImageComparison(False, score, old_size, new_size, heatmap_png=heat)


def _heatmap(a: Any, b: Any) -> bytes:
    import numpy as np
    from PIL import Image

    diff = np.abs(a - b).max(axis=2)
    scale = diff.max() or 1.0
    level = (diff / scale) ** 0.5  # amplify small differences
    rgb = np.stack([np.ones_like(level), 1.0 - level, 1.0 - level], axis=2)  # white -> red
    img = Image.fromarray((rgb * 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
