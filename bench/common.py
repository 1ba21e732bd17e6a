"""Timing helpers shared by the scenarios."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def fsync_write(path: Path, writer: Any) -> None:
    """``writer(fh)`` into ``path``, then flush and fsync: the durable-write baseline."""
    with open(path, "wb") as fh:
        writer(fh)
        fh.flush()
        os.fsync(fh.fileno())


def timed(func: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Median/min/max wall seconds of ``repeats`` calls (no warm-up: kernels start cold each time)."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "n": repeats}


def ratio(a: dict[str, float], b: dict[str, float]) -> float:
    return round(a["median"] / b["median"], 3) if b["median"] else float("inf")


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(),
        "commit": commit.stdout.strip() or None,
        "date": time.strftime("%Y-%m-%d"),
    }


def write_results(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
