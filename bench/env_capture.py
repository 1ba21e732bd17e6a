"""Environment capture: first capture in a fresh process and the per-cell re-check, vs ``pip freeze``
and watermark (``%watermark -v -m -p numpy``), measured in the same run."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from .common import ratio, timed

FIRST = (
    "import time; t = time.perf_counter(); from repro_jupyter.environment import EnvironmentTracker; "
    "EnvironmentTracker('.').current(); print(time.perf_counter() - t)"
)
WATERMARK = (
    "import time; t = time.perf_counter(); import watermark; "
    "watermark.watermark(python=True, machine=True, packages='numpy'); print(time.perf_counter() - t)"
)


def _inside(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _stat(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"median": values[len(values) // 2], "min": values[0], "max": values[-1], "n": len(values)}


def run(quick: bool, repeats: int) -> dict[str, Any]:
    reps = max(3, repeats)
    first = _stat([_inside(FIRST) for _ in range(reps)])
    from repro_jupyter.environment import EnvironmentTracker

    tracker = EnvironmentTracker(".")
    tracker.current()
    recheck = timed(tracker.current, 200)
    freeze = timed(
        lambda: subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, check=True), reps
    )
    try:
        watermark = _stat([_inside(WATERMARK) for _ in range(reps)])
    except subprocess.CalledProcessError:
        watermark = None
    return {
        "first_capture_s": first,
        "per_cell_recheck_s": recheck,
        "pip_freeze_s": freeze,
        "watermark_s": watermark,
        "summary": {
            "first_capture_ms": round(first["median"] * 1000, 1),
            "per_cell_recheck_us": round(recheck["median"] * 1e6, 2),
            "pip_freeze_over_first_capture": ratio(freeze, first),
            "watermark_over_first_capture": ratio(watermark, first) if watermark else None,
        },
    }
