"""Fingerprint throughput vs raw xxh3-128 (the limit), sha256, and pickle+sha256 (the naive path)."""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

import numpy as np
import xxhash

from repro_jupyter.fingerprint import fingerprint

from .common import ratio, timed


def run(quick: bool, repeats: int) -> dict[str, Any]:
    nbytes = (100 if quick else 1024) * 1024 * 1024
    arr = np.random.default_rng(0).random(nbytes // 4, dtype=np.float32)
    reps = max(3, repeats)
    ours = timed(lambda: fingerprint(arr), reps)
    raw = timed(lambda: xxhash.xxh3_128(memoryview(arr).cast("B")).digest(), reps)
    sha = timed(lambda: hashlib.sha256(memoryview(arr).cast("B")).digest(), 1 if not quick else reps)
    naive = timed(lambda: hashlib.sha256(pickle.dumps(arr, protocol=5)).digest(), 1 if not quick else reps)
    gbps = lambda t: round(nbytes / t["median"] / 1e9, 2)  # noqa: E731
    result = {
        "bytes": nbytes,
        "ours_s": ours,
        "raw_xxh3_s": raw,
        "sha256_s": sha,
        "pickle_sha256_s": naive,
        "ours_GBps": gbps(ours),
        "raw_xxh3_GBps": gbps(raw),
    }
    torch_result = None
    try:
        import torch

        tensor = torch.from_numpy(arr.copy())
        t_ours = timed(lambda: fingerprint(tensor), reps)
        torch_result = {"ours_s": t_ours, "ratio_raw_over_ours": ratio(raw, t_ours)}
    except ImportError:
        pass
    result["torch_tensor"] = torch_result
    result["summary"] = {
        "ours_vs_raw_xxh3": ratio(raw, ours),
        "target_vs_raw": 0.8,
        "speedup_vs_naive": ratio(naive, ours),
        "target_vs_naive": 10.0,
        "speedup_vs_sha256": ratio(sha, ours),
    }
    return result
