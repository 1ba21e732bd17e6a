"""Per-cell overhead of recording, in-process and through a real kernel; baseline: the same cell unrecorded.

Scenarios (in-process IPython): ~100 small variables; plus a big array the cell does not touch;
plus the big array referenced but unchanged (compared with one raw xxh3 pass over its bytes);
plus the big array changed in place (foreground time until the cell returns).
"""

from __future__ import annotations

import copy
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from .common import fsync_write, timed

SMALL_STATE = (
    "import numpy as np\n"
    + "\n".join(f"v{i} = {i} * 1.5" for i in range(90))
    + "\nconfig = {'lr': 0.1, 'layers': [64, 32]}\nnames = ['a'] * 50\n"
)


def _per_cell(ip: Any, source: str, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        ip.run_cell(source, cell_id="bench-cell")
        samples.append(time.perf_counter() - start)
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 4),
        "min_ms": round(min(samples) * 1000, 4),
        "max_ms": round(max(samples) * 1000, 4),
        "n": len(samples),
    }


def _raw_write_fsync(array: Any, folder: str) -> None:
    path = Path(folder) / "raw.bin"
    fsync_write(path, lambda fh: fh.write(memoryview(array).cast("B")))
    path.unlink()


def _changed_in_place(ip: Any, big: Any) -> dict[str, Any]:
    """A cell that changes the big array in place: until the cell returns (writer idle), until the
    checkpoint is durable (vs a raw write+fsync of the same bytes), and cells back to back (the
    writer's backlog bound makes later cells wait: sustained rate, not latency)."""
    from repro_jupyter import kernel_runner

    raw = timed(lambda: _raw_write_fsync(big, os.getcwd()), 3)
    foreground, durable = [], []
    for _ in range(5):
        kernel_runner.flush_records(ip)  # writer idle, as when a person runs a cell now and then
        start = time.perf_counter()
        ip.run_cell("big[12345] += 1", cell_id="bench-change")
        foreground.append(time.perf_counter() - start)
        kernel_runner.flush_records(ip)
        durable.append(time.perf_counter() - start)
    back_to_back = _per_cell(ip, "big[12345] += 1", 5)
    kernel_runner.flush_records(ip)
    return {
        "big_changed_foreground": {"recorded": _summary(foreground), "target_ms": 200},
        "big_changed_durable": {
            "recorded": _summary(durable),
            "raw_write_fsync_ms": round(raw["median"] * 1000, 3),
            "ratio_to_raw_write_fsync": round(statistics.median(durable) / raw["median"], 3),
            "target_ratio": 1.3,
        },
        "big_changed_back_to_back": {"recorded": _summary(back_to_back)},
    }


def in_process(big_bytes: int, n: int) -> dict[str, Any]:
    from IPython.core.interactiveshell import InteractiveShell

    from repro_jupyter import magics

    os.chdir(tempfile.mkdtemp(prefix="bench-capture-"))
    ip = InteractiveShell.instance()
    ip.reset(new_session=False)
    ip.run_cell(SMALL_STATE)
    results: dict[str, Any] = {}
    base = _per_cell(ip, "y = 1", n)
    ip.run_line_magic("load_ext", "repro_jupyter")
    ip.run_line_magic("repro", "on --seed 1")
    rec = _per_cell(ip, "y = 1", n)
    results["small_state"] = {
        "baseline": _summary(base),
        "recorded": _summary(rec),
        "overhead_ms": round((statistics.median(rec) - statistics.median(base)) * 1000, 4),
        "target_ms": 1.0,
    }
    ip.run_cell(f"big = np.ones({big_bytes // 4}, dtype=np.float32)", cell_id="bench-big")
    untouched = _per_cell(ip, "y = 1", n)
    results["big_untouched"] = {
        "recorded": _summary(untouched),
        "big_bytes": big_bytes,
        "overhead_ms": round((statistics.median(untouched) - statistics.median(base)) * 1000, 4),
        "target_ms": 1.0,
    }
    big = ip.user_ns["big"]
    raw = timed(lambda: xxhash.xxh3_128(memoryview(big).cast("B")).digest(), 5)
    referenced = _per_cell(ip, "s = float(big[0])", 5)
    results["big_referenced_unchanged"] = {
        "recorded": _summary(referenced),
        "raw_xxh3_ms": round(raw["median"] * 1000, 3),
        "ratio_to_raw_xxh3": round(statistics.median(referenced) / raw["median"], 3),
        "target_ratio": 1.3,
    }
    results.update(_changed_in_place(ip, big))
    magics.unload(ip)
    ip.extension_manager.loaded.discard("repro_jupyter")
    ip.reset(new_session=False)  # free the big array before the next scenario
    return results


def through_kernel(cells: int, repeats: int) -> dict[str, Any]:
    """Plain nbclient vs the recording runner on notebooks of N and 3N small cells.

    The difference of the two lengths gives the per-cell cost; what is left is the fixed
    cost per kernel (importing the extension, the first environment capture).
    """
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    from repro_jupyter.headless import run_notebook

    folder = Path(tempfile.mkdtemp(prefix="bench-kernel-"))

    def notebook(n: int) -> Any:
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(SMALL_STATE)]
            + [nbformat.v4.new_code_cell(f"y{i} = {i}") for i in range(n)]
        )
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        return nb

    out: dict[str, Any] = {}
    for n in (cells, 3 * cells):
        nb = notebook(n)
        path = folder / f"cells{n}.ipynb"
        nbformat.write(nb, path)
        plain = timed(
            lambda nb=nb: NotebookClient(
                copy.deepcopy(nb), kernel_name="python3", record_timing=False
            ).execute(),
            repeats,
        )
        recorded = timed(
            lambda nb=nb, path=path: run_notebook(path, path, nb=copy.deepcopy(nb), seed=1), repeats
        )
        out[n] = {
            "plain_s": plain,
            "recorded_s": recorded,
            "ratio": round(recorded["median"] / plain["median"], 3),
        }
    extra_small = out[cells]["recorded_s"]["median"] - out[cells]["plain_s"]["median"]
    extra_large = out[3 * cells]["recorded_s"]["median"] - out[3 * cells]["plain_s"]["median"]
    per_cell = (extra_large - extra_small) / (2 * cells)
    return {
        "runs": {str(k): v for k, v in out.items()},
        "overhead_per_cell_ms": round(per_cell * 1000, 3),
        "fixed_overhead_per_kernel_ms": round((extra_small - per_cell * (cells + 1)) * 1000, 1),
    }


def run(quick: bool, repeats: int) -> dict[str, Any]:
    big = (256 if quick else 1024) * 1024 * 1024
    return {
        "in_process": in_process(big, 100 if quick else 300),
        "through_kernel": through_kernel(20 if quick else 60, max(repeats, 3)),
        "summary": {},
    }


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    ip = result["in_process"]
    return {
        "small_state_overhead_ms": ip["small_state"]["overhead_ms"],
        "big_untouched_overhead_ms": ip["big_untouched"]["overhead_ms"],
        "big_referenced_ratio_to_raw_xxh3": ip["big_referenced_unchanged"]["ratio_to_raw_xxh3"],
        "big_changed_foreground_ms": ip["big_changed_foreground"]["recorded"]["median_ms"],
        "big_changed_durable_over_raw_write": ip["big_changed_durable"]["ratio_to_raw_write_fsync"],
        "big_changed_back_to_back_ms": ip["big_changed_back_to_back"]["recorded"]["median_ms"],
        "kernel_overhead_per_cell_ms": result["through_kernel"]["overhead_per_cell_ms"],
        "kernel_fixed_overhead_ms": result["through_kernel"]["fixed_overhead_per_kernel_ms"],
        "np": np.__version__,
    }
