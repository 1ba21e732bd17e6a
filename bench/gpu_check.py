"""GPU check (issue 15 §4): what a CUDA machine does to reproducibility, as one JSON object on stdout.

    python bench/gpu_check.py [--tensor-gib 1] [--runs 2]

- ``nvml``: the environment's NVML capture (``repro_jupyter.environment.gpu.gpu_info``).
- ``training``: the same small training cell, each run in a fresh interpreter (deterministic mode
  needs ``CUBLAS_WORKSPACE_CONFIG`` before the CUDA context exists), ``--runs`` times with and
  without deterministic mode; the digests of the final weights and whether they are identical.
  The cell uses operations with atomic-add backward passes (embedding, ``index_add_``) so that the
  nondeterministic mode has something to differ on; identical digests there are reported as such.
- ``fingerprint``: a ``--tensor-gib`` CUDA tensor fingerprinted the way the recorder does it
  (copy to host, xxh3: ``repro_jupyter.fingerprint``) vs a checksum computed on the device and only
  the result copied back; wall seconds and whether each agrees with itself on a second pass.

Without CUDA (no torch, or ``torch.cuda.is_available()`` false) it prints ``{"cuda": false, ...}``
and exits 0, so CI can run it anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TRAINING_CELL = """
import hashlib, torch
torch.manual_seed(0)
dev = "cuda"
emb = torch.nn.Embedding(512, 64).to(dev)
net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(dev)
opt = torch.optim.Adam(list(emb.parameters()) + list(net.parameters()), lr=1e-2)
g = torch.Generator(device="cpu").manual_seed(1)
for step in range(30):
    idx = torch.randint(0, 512, (4096,), generator=g).to(dev)       # many repeated rows: atomic adds
    target = torch.randint(0, 10, (4096,), generator=g).to(dev)
    h = emb(idx)
    pooled = torch.zeros(256, 64, device=dev).index_add_(0, idx % 256, h)  # atomics on CUDA
    logits = net(h) + net(pooled)[idx % 256]
    loss = torch.nn.functional.cross_entropy(logits, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
torch.cuda.synchronize()
d = hashlib.sha256()
for p in list(emb.parameters()) + list(net.parameters()):
    d.update(p.detach().cpu().contiguous().numpy().tobytes())
print("DIGEST", d.hexdigest(), float(loss))
"""

DETERMINISTIC_PREFIX = """
import torch
torch.use_deterministic_algorithms(True, warn_only=True)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
"""


def cuda_status() -> tuple[bool, str]:
    """(usable, reason): never raises, never needs a GPU."""
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    try:
        if not torch.cuda.is_available():
            return False, f"torch {torch.__version__}: torch.cuda.is_available() is false"
    except Exception as exc:  # a broken driver install
        return False, f"CUDA unusable: {type(exc).__name__}: {exc}"[:300]
    return True, f"torch {torch.__version__}, CUDA {torch.version.cuda}"


def _train_once(deterministic: bool, timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    code = TRAINING_CELL
    if deterministic:
        env["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # read when the CUDA context is created
        code = DETERMINISTIC_PREFIX + code
    else:
        env.pop("CUBLAS_WORKSPACE_CONFIG", None)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    seconds = round(time.perf_counter() - start, 3)
    for line in proc.stdout.splitlines():
        if line.startswith("DIGEST "):
            _, digest, loss = line.split()
            return {"digest": digest, "loss": float(loss), "seconds": seconds}
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
    return {"error": tail[0][:300], "seconds": seconds}


def training(runs: int, timeout: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, deterministic in (("deterministic", True), ("default", False)):
        results = [_train_once(deterministic, timeout) for _ in range(runs)]
        digests = [r.get("digest") for r in results]
        out[mode] = {
            "runs": results,
            "identical": None if None in digests else len(set(digests)) == 1,
        }
    return out


def _device_checksum(t: Any, torch: Any, chunk_elems: int = 1 << 26) -> str:
    """A position-weighted checksum of the tensor's bytes computed on the device (int32 words),
    with only 16 bytes per chunk copied back; a sketch of an on-device fingerprint, not xxh3."""
    words = t.reshape(-1).view(torch.int32)
    parts = []
    for start in range(0, words.numel(), chunk_elems):
        w = words[start : start + chunk_elems].to(torch.int64)
        pos = torch.arange(start, start + w.numel(), device=w.device, dtype=torch.int64)
        weight = (pos * 2654435761 + 97) % 2147483647
        parts.append(torch.stack([(w * weight).sum(), (w ^ pos).sum()]))
    host = torch.stack(parts).cpu().numpy().tobytes()
    return hashlib.sha256(host).hexdigest()


def fingerprint_check(gib: float) -> dict[str, Any]:
    import torch

    sys.path.insert(0, str(ROOT))
    from repro_jupyter.fingerprint import fingerprint

    n = int(gib * (1 << 30)) // 4
    t = torch.randn(n, device="cuda", generator=torch.Generator(device="cuda").manual_seed(0))
    torch.cuda.synchronize()
    out: dict[str, Any] = {"bytes": n * 4}
    for name, func in (
        ("host_copy_xxh3", lambda: fingerprint(t)["digest"]),
        ("on_device_checksum", lambda: _device_checksum(t, torch)),
    ):
        times, digests = [], []
        for _ in range(2):
            torch.cuda.synchronize()
            start = time.perf_counter()
            digests.append(func())
            torch.cuda.synchronize()
            times.append(round(time.perf_counter() - start, 4))
        out[name] = {"seconds": times, "stable": digests[0] == digests[1], "digest": digests[0]}
    host = out["host_copy_xxh3"]["seconds"][-1]
    device = out["on_device_checksum"]["seconds"][-1]
    out["speedup_on_device"] = round(host / device, 2) if device > 0 else None
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tensor-gib", type=float, default=1.0)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=240.0, help="seconds per training run")
    args = p.parse_args(argv)
    usable, reason = cuda_status()
    if not usable:
        print(json.dumps({"cuda": False, "skipped": True, "reason": reason}))
        return 0
    sys.path.insert(0, str(ROOT))
    from repro_jupyter.environment.gpu import gpu_info

    report: dict[str, Any] = {"cuda": True, "torch": reason, "nvml": gpu_info()}
    report["training"] = training(args.runs, args.timeout)
    report["fingerprint"] = fingerprint_check(args.tensor_gib)
    print(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
