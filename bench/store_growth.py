"""Store growth over many cells: N one-line cells (``x{i} = {i}``) through ``jupyter repro run``.

Every record used to hold the fingerprints of all live variables, so the store grew
quadratically (1,000 such cells made 51 MB, 2,000 made 173 MB).  Records now hold only
what changed since the previous record of the kernel session, chained by digest, so the
store grows with what changed.  Target: 10,000 cells recorded in under 5 minutes with a
store under 50 MB.  The per-cell record size of the first and last tenth shows the growth
is linear (equal sizes), whatever the total.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

FULL_CELLS = 10_000
QUICK_CELLS = 1_000


def _notebook(path: Path, n: int) -> Path:
    cells = [new_code_cell(f"x{i} = {i}") for i in range(n)]
    for i, cell in enumerate(cells):
        cell.id = f"c{i}"
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _bytes(folder: Path, on_disk: bool = False) -> int:
    """File sizes (what the store holds), or blocks allocated (small files each take a 4 KiB block)."""
    stats = [p.stat() for p in folder.rglob("*") if p.is_file()]
    return sum(s.st_blocks * 512 if on_disk else s.st_size for s in stats)


def run(quick: bool, repeats: int) -> dict[str, Any]:
    """One run (a 10,000-cell notebook is minutes: repeats would not change the claim)."""
    from repro_jupyter import METADATA_KEY
    from repro_jupyter.cli import main as cli
    from repro_jupyter.store import open_store

    n = QUICK_CELLS if quick else FULL_CELLS
    folder = Path(tempfile.mkdtemp(prefix="store-growth-"))
    src = _notebook(folder / "growth.ipynb", n)
    start = time.perf_counter()
    code = cli(["run", str(src), "-q", "--seed", "1", "--timeout", "120"])
    seconds = time.perf_counter() - start
    if code != 0:
        return {"cells": n, "error": f"jupyter repro run exited {code}"}
    store = open_store(folder, create=False)
    digests = [c.metadata[METADATA_KEY]["record"] for c in nbformat.read(src, 4).cells]
    sizes = [store.objects.path_for(d).stat().st_size for d in digests]
    tenth = max(1, n // 10)
    store_mb = _bytes(folder / ".repro") / 1e6
    disk_mb = _bytes(folder / ".repro", on_disk=True) / 1e6
    first, last = sum(sizes[1 : tenth + 1]) / tenth, sum(sizes[-tenth:]) / tenth
    return {
        "cells": n,
        "seconds": round(seconds, 1),
        "store_MB": round(store_mb, 2),
        "store_on_disk_MB": round(disk_mb, 2),
        "objects": sum(1 for p in (folder / ".repro" / "objects").rglob("*") if p.is_file()),
        "record_bytes_first_tenth": round(first),
        "record_bytes_last_tenth": round(last),
        "summary": {
            "cells": n,
            "run_s": round(seconds, 1),
            "store_MB": round(store_mb, 2),
            "record_growth_last_over_first": round(last / first, 3),
        },
    }
