"""Load check: does a milestone reload in a fresh process and give the outputs it gave on its probe batch?

``checkpoint(..., probe=batch)`` stored the model's outputs on ``batch`` (eval mode, no gradients, RNGs as
saved).  ``jupyter repro check NB --checkpoint NAME`` runs ``python -m repro_jupyter.milestones.loadcheck``
in a new interpreter (nothing of the checking process leaks in: no imported module, no patched class), which
rebuilds the model, loads the weights (verified, shape-checked), restores the saved RNG states, runs the
probe and compares: bit-identical is ``same``; within ``rtol``/``atol`` is ``within_tolerance``; else
``drift``.

Rebuilding needs code, and honesty about where it comes from: the manifest names a factory
(``factory="module:callable"`` given to ``checkpoint``) or an importable class, imported with the notebook's
folder on ``sys.path`` as in its kernel.  A class defined in the notebook itself (``__main__``) exists only in
that kernel; the check says so in one line (exit 2) instead of guessing a class or replaying cells.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import ReproError
from .errors import MilestoneError


def _resolve(target: str) -> Any:
    module_name, _, qualname = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for attr in qualname.split("."):
            obj = getattr(obj, attr)
    except Exception as exc:
        raise MilestoneError(f"cannot import {target}: {type(exc).__name__}: {exc}") from None
    return obj


def rebuild_model(entry: dict[str, Any]) -> Any:
    """The model, from the manifest's ``model`` entry; one line saying why not when it cannot be."""
    how = entry.get("rebuild")
    if how is None:
        raise MilestoneError(
            f"cannot rebuild the model outside its notebook: {entry.get('why', 'no factory')}"
        )
    target = entry["factory"] if how == "factory" else entry["class"]
    kwargs = entry.get("factory_kwargs") or {}
    try:
        return _resolve(target)(**kwargs)
    except MilestoneError:
        raise
    except Exception as exc:
        hint = "" if how == "factory" else "; pass factory='module:callable' to checkpoint()"
        raise MilestoneError(f"{target}(**{kwargs}) failed: {type(exc).__name__}: {exc}{hint}") from None


def compare(expected: Any, actual: Any, rtol: float, atol: float, where: str = "outputs") -> dict[str, Any]:
    """The worst of the leaves: same < within_tolerance < drift, with the largest absolute difference."""
    import torch

    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor) or expected.shape != actual.shape:
            return {"status": "drift", "detail": f"{where}: shape {list(expected.shape)} -> {_shape(actual)}"}
        if expected.dtype != actual.dtype:
            return {"status": "drift", "detail": f"{where}: dtype {expected.dtype} -> {actual.dtype}"}
        a, b = expected.detach().cpu(), actual.detach().cpu()
        if torch.equal(a, b):
            return {"status": "same", "max_abs": 0.0}
        diff = float((a.double() - b.double()).abs().max()) if a.numel() else 0.0
        ok = torch.allclose(b.double(), a.double(), rtol=rtol, atol=atol, equal_nan=True)
        status = "within_tolerance" if ok else "drift"
        return {"status": status, "max_abs": diff, "detail": f"{where}: max |difference| {diff:.3g}"}
    if (
        isinstance(expected, (list, tuple))
        and isinstance(actual, (list, tuple))
        and len(expected) == len(actual)
    ):
        pairs = enumerate(zip(expected, actual, strict=True))
        results = [compare(e, a, rtol, atol, f"{where}[{i}]") for i, (e, a) in pairs]
        return _worst(results)
    if isinstance(expected, dict) and isinstance(actual, dict) and set(expected) == set(actual):
        return _worst(
            [compare(expected[k], actual[k], rtol, atol, f"{where}[{k!r}]") for k in sorted(expected)]
        )
    if expected == actual and type(expected) is type(actual):
        return {"status": "same", "max_abs": 0.0}
    return {"status": "drift", "detail": f"{where}: {type(expected).__name__} -> {type(actual).__name__}"}


def _shape(value: Any) -> Any:
    return list(value.shape) if hasattr(value, "shape") else type(value).__name__


def _worst(results: list[dict[str, Any]]) -> dict[str, Any]:
    order = {"same": 0, "within_tolerance": 1, "drift": 2}
    if not results:
        return {"status": "same", "max_abs": 0.0}
    worst = max(results, key=lambda r: (order[r["status"]], r.get("max_abs", 0.0)))
    return {**worst, "max_abs": max(r.get("max_abs", 0.0) for r in results)}


def check_in_this_process(directory: Path, digest: str, rtol: float, atol: float) -> dict[str, Any]:
    """The child's work: rebuild, load, probe, compare (``directory``: the notebook's folder)."""
    from ..store import open_store
    from . import states
    from .restore import read_manifest, read_part
    from .save import _probe_outputs

    os.chdir(directory)
    sys.path.insert(0, str(directory))
    store = open_store(directory, create=False)
    try:
        manifest = read_manifest(store, digest)
        if "probe" not in manifest["parts"]:
            raise MilestoneError(
                f"milestone {manifest.get('name')!r} has no probe (save it with checkpoint(..., probe=batch))"
            )
        if not manifest.get("model"):
            raise MilestoneError(f"milestone {manifest.get('name')!r} holds no model")
        weights = read_part(store, manifest, "weights")
        probe = read_part(store, manifest, "probe")
        rng = read_part(store, manifest, "rng")
    finally:
        store.close()
    model = rebuild_model(manifest["model"])
    states.check_weights(weights, model)
    states.apply_weights(weights, model)
    states.apply_rng(rng)
    outputs = _probe_outputs(model, probe["inputs"])
    return compare(probe["outputs"], outputs, rtol, atol)


def run_load_check(directory: Path, digest: str, rtol: float, atol: float, timeout: float) -> dict[str, Any]:
    """Run ``check_in_this_process`` in a fresh interpreter; its one JSON line is the result."""
    cmd = [
        sys.executable,
        "-m",
        "repro_jupyter.milestones.loadcheck",
        str(directory),
        digest,
        repr(rtol),
        repr(atol),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=directory)
    except subprocess.TimeoutExpired:
        raise MilestoneError(f"the load check did not finish in {timeout:g} s") from None
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise MilestoneError(f"the load check process failed: {tail}") from None
    if result.get("status") == "error":
        raise MilestoneError(result.get("detail", "the load check failed"))
    return result


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro_jupyter.milestones.loadcheck")
    parser.add_argument("directory", type=Path)
    parser.add_argument("digest")
    parser.add_argument("rtol", type=float)
    parser.add_argument("atol", type=float)
    args = parser.parse_args(argv)
    try:
        result = check_in_this_process(args.directory, args.digest, args.rtol, args.atol)
    except ReproError as exc:
        result = {"status": "error", "detail": " ".join(str(exc).split())}
    except Exception as exc:  # the user's model code: one line, not a traceback through ours
        result = {"status": "error", "detail": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
