"""Python, OS, CPU, memory and thread settings: the machine facts that change numerics."""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> list[str]:
    """SIMD features decide which BLAS kernels run, so they can change the last bits."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                    return [f for f in wanted if f in flags]
    except OSError:
        pass
    return []


def _memory_total() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def python_info() -> dict[str, Any]:
    """Interpreter version, implementation and compiler (a
    compiler change can change floating-point results)."""
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "compiler": platform.python_compiler(),
    }


def os_info() -> dict[str, Any]:
    """OS name, kernel release, machine and, where ``/etc/os-release`` exists, the distribution."""
    info: dict[str, Any] = {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
    }
    try:
        release = platform.freedesktop_os_release()
        info["distribution"] = release.get("PRETTY_NAME") or release.get("NAME")
    except OSError:
        pass
    return info


def cpu_info() -> dict[str, Any]:
    """CPU model, logical and usable (affinity) counts, the
    SIMD flags that choose BLAS kernels, and byte order."""
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "model": _cpu_model(),
        "count": os.cpu_count(),
        "usable": len(affinity(0)) if affinity else os.cpu_count(),
        "flags": _cpu_flags(),
        "byteorder": sys.byteorder,
    }


def memory_info() -> dict[str, Any]:
    """Physical memory in bytes (``total_bytes`` None where the OS does not say)."""
    return {"total_bytes": _memory_total()}


def threads_info() -> dict[str, Any]:
    """BLAS and framework thread counts (only for libraries already imported)."""
    info: dict[str, Any] = {}
    np = sys.modules.get("numpy")
    if np is not None:
        try:
            config = np.show_config(mode="dicts")
            blas = config.get("Build Dependencies", {}).get("blas", {})
            info["numpy_blas"] = {k: blas.get(k) for k in ("name", "version") if blas.get(k)}
        except Exception:
            pass
    threadpoolctl = sys.modules.get("threadpoolctl")
    if threadpoolctl is not None:
        try:
            pools = [
                {k: p.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")}
                for p in threadpoolctl.threadpool_info()
            ]
            # threadpoolctl lists pools in library load order, which is not a fact about the machine:
            # sorted, two identical runs record the same environment (and the same digest)
            info["threadpools"] = sorted(pools, key=lambda p: json.dumps(p, sort_keys=True, default=str))
        except Exception:
            pass
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            info["torch_num_threads"] = torch.get_num_threads()
            info["torch_num_interop_threads"] = torch.get_num_interop_threads()
        except Exception:
            pass
    return info


def torch_info() -> dict[str, Any] | None:
    """torch/CUDA/cuDNN versions and the settings that change results (TF32, cuDNN autotuning,
    deterministic kernels, ``CUBLAS_WORKSPACE_CONFIG``), only if the notebook imported torch
    (never import it here).  The settings are recorded on CPU-only machines too: a notebook
    recorded on CPU and verified on a GPU then shows which of them differ."""
    from ..seeding import torch_settings

    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "__version__"):
        return None
    info: dict[str, Any] = {"version": str(torch.__version__)}
    settings: dict[str, Any] = torch_settings(torch)
    settings["cublas_workspace_config"] = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    info["settings"] = settings
    try:
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        info["cuda_available"] = bool(torch.cuda.is_available())
        if info["cuda_available"]:
            info["devices"] = [
                {
                    "name": torch.cuda.get_device_name(i),
                    "capability": ".".join(map(str, torch.cuda.get_device_capability(i))),
                }
                for i in range(torch.cuda.device_count())
            ]
    except Exception as exc:  # a half-broken CUDA install is itself worth recording
        info["error"] = f"{type(exc).__name__}: {exc}"[:200]
    return info
