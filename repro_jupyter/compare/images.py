"""Image comparison: pixels first, SSIM (scikit-image) only where tolerance is allowed, plus a heatmap.

PNG bytes change with library versions (compression, metadata chunks) while the
picture stays the same, so images are compared as pixels.  In one rendering
environment matplotlib's Agg output is deterministic, so the judge requires equal
pixels there; SSIM is only consulted when the renderers differ or the user opts
in, and even then a single region that changed a lot (a title's digits, a
marker's colour) fails: global SSIM averages it away (a changed title keeps SSIM
at 0.9995), so the lowest *local* SSIM over tiles is checked as well.  The
heatmap (absolute difference, amplified) shows where they differ.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import Any

DEFAULT_SSIM_THRESHOLD = 0.99
LOCAL_SSIM_FLOOR = 0.9  # the lowest mean SSIM a TILE×TILE tile may have where tolerance applies
TILE = 16


@dataclass
class ImageComparison:
    """How two images compare: byte-identical, or pixel-equal, or SSIM (global and
    lowest local tile) with the changed region and an optional difference heatmap;
    ``problem`` says why they could not be compared (undecodable, size changed)."""

    identical: bool
    ssim: float
    old_size: tuple[int, int] | None
    new_size: tuple[int, int] | None
    heatmap_png: bytes | None = None
    problem: str | None = None
    pixels_equal: bool = False
    changed_pixels: int = 0
    changed_box: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 of the differing pixels
    min_local_ssim: float = 1.0


def decode(data: str | bytes) -> bytes:
    """Image bytes from an output bundle's base64 text (whitespace
    allowed); bytes pass through; binascii.Error on bad base64."""
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
    """Compare an old and a new image (base64 text or bytes) as pixels composited on white;
    never raises on bad data (``problem`` says why); the heatmap only when ``make_heatmap``."""
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
    import numpy as np
    from skimage.metrics import structural_similarity

    changed = np.abs(a - b).max(axis=2) > 0
    count = int(changed.sum())
    if count == 0:
        return ImageComparison(False, 1.0, old_size, new_size, pixels_equal=True)
    ys, xs = np.nonzero(changed)
    box = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
    win = min(7, a.shape[0], a.shape[1])
    if win % 2 == 0:
        win -= 1
    if win < 3:
        score, local = 0.0, 0.0
    else:
        score_raw, full = structural_similarity(a, b, channel_axis=2, data_range=1.0, win_size=win, full=True)
        score, local = float(score_raw), _min_tile_mean(full.mean(axis=2))
    heat = _heatmap(a, b) if make_heatmap else None
    return ImageComparison(
        False,
        score,
        old_size,
        new_size,
        heatmap_png=heat,
        changed_pixels=count,
        changed_box=box,
        min_local_ssim=local,
    )


def _min_tile_mean(ssim_map: Any) -> float:
    """The lowest mean SSIM over TILE×TILE tiles: a small changed region shows here, not in the mean."""
    import numpy as np

    h, w = ssim_map.shape
    th, tw = max(1, min(TILE, h)), max(1, min(TILE, w))
    rows, cols = h // th, w // tw
    tiles = ssim_map[: rows * th, : cols * tw].reshape(rows, th, cols, tw).mean(axis=(1, 3))
    return float(np.min(tiles))


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
