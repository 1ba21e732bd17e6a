"""bench/gpu_check.py (issue 15 §4): a clean JSON skip without CUDA; the on-device checksum is a function
of every word (checked on CPU, where the same torch code runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "gpu_check.py"


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def test_without_cuda_prints_a_skip_json_and_exits_0():
    if _cuda():
        pytest.skip("a CUDA machine runs the full check (bench/gpu_check.py), not this test")
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["cuda"] is False and report["skipped"] is True
    assert "cuda" in report["reason"].lower() or "torch" in report["reason"].lower()


def test_device_checksum_is_stable_and_sees_one_changed_word():
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(ROOT))
    from bench.gpu_check import _device_checksum

    t = torch.randn(10_000, generator=torch.Generator().manual_seed(0))
    first = _device_checksum(t, torch, chunk_elems=4096)
    assert first == _device_checksum(t.clone(), torch, chunk_elems=4096)
    t[5000] = float(t[5000]) + 1e-6  # the last bits of one element
    assert _device_checksum(t, torch, chunk_elems=4096) != first
    swapped = t.clone()
    swapped[[1, 2]] = swapped[[2, 1]]  # same words, other positions
    assert _device_checksum(swapped, torch, chunk_elems=4096) != _device_checksum(t, torch, chunk_elems=4096)
