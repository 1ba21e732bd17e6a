"""GPU facts through NVML (the ``nvidia-ml-py`` distribution, module ``pynvml``).

NVML is optional: without the binding, the library or a GPU the snapshot holds
a clean ``{"available": false, "reason": ...}`` record instead of an error.
"""

from __future__ import annotations

import sys
from typing import Any


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Modules this probe imported itself: they must not count as "imported by the notebook".
PROBE_MODULES: set[str] = set()


def gpu_info() -> dict[str, Any]:
    """NVIDIA GPUs, driver and CUDA driver version via NVML; never raises:
    ``{"available": False, "reason": ...}`` without the binding, the library or a GPU."""
    already = "pynvml" in sys.modules
    try:
        import pynvml
    except ImportError:
        return {"available": False, "reason": "nvidia-ml-py not installed"}
    if not already:
        PROBE_MODULES.add("pynvml")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return {"available": False, "reason": f"NVML unavailable: {exc}"}
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda = pynvml.nvmlSystemGetCudaDriverVersion_v2()
        devices = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            devices.append(
                {
                    "index": index,
                    "name": _text(pynvml.nvmlDeviceGetName(handle)),
                    "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
                    "memory_total_bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                    "compute_capability": f"{major}.{minor}",
                }
            )
        return {
            "available": bool(devices),
            "driver_version": driver,
            "cuda_driver_version": f"{cuda // 1000}.{(cuda % 1000) // 10}",
            "devices": devices,
            **({} if devices else {"reason": "no GPU visible to NVML"}),
        }
    except pynvml.NVMLError as exc:
        return {"available": False, "reason": f"NVML query failed: {exc}"}
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
