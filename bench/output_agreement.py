"""Do the kernel's output digests agree with the outputs Jupyter saved?  (issue 17, "outputs captured once")

Records notebooks headlessly (``jupyter repro run`` on a scratch copy) and compares, per code cell, the
record's ``outputs`` digests (what the kernel saw) with ``output_digests`` of the nbformat outputs the run
saved (what Jupyter saw), both masked with the run's clock window.  A disagreeing cell is one whose
recorded digests could not stand in for its outputs in a notebook saved without them.

    .venv/bin/python -m bench.output_agreement [--corpus] [NB.ipynb ...]

Prints one line per disagreeing cell (why: counts, kinds) and a total.  Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from repro_jupyter.compare.normalize import output_digests
from repro_jupyter.errors import StoreError
from repro_jupyter.schema import METADATA_KEY
from repro_jupyter.store import open_store

from .common import CORPUS, ROOT

# a small notebook with every output kind, and the writes a stdout tee cannot see
PROBE = [
    "print('stream')",
    "from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))",
    "41 + 1",
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.show()",
    "import os\nos.system('echo from a shell')",
    "import threading\nt = threading.Thread(target=lambda: print('from a thread'))\nt.start(); t.join()",
    "import sys\nsys.__stdout__.write('to the real stdout\\n'); sys.__stdout__.flush()",
    "from IPython.display import clear_output\nprint('gone'); clear_output(); print('kept')",
    "h = display(HTML('v1'), display_id=True)\nh.update(HTML('v2'))",
    "raise ValueError('on purpose')",
]


def _corpus_notebooks() -> list[tuple[Path, list[Path]]]:
    real = CORPUS / "real_world"
    config = json.loads((real / "config.json").read_text())
    return [(real / c["notebook"], [real / s for s in c["support"]]) for c in config]


def _kinds(digests: list[dict[str, Any]]) -> str:
    return ",".join(d["output_type"][:6] + (":" + d["name"] if "name" in d else "") for d in digests) or "-"


def measure(source: Path, support: list[Path], scratch: Path) -> tuple[int, list[str]]:
    """(code cells compared, one line per disagreeing cell) for one notebook; StoreError when the run
    recorded nothing."""
    work = scratch / source.stem
    work.mkdir(parents=True)
    path = work / source.name
    shutil.copy(source, path)
    for extra in support:
        target = work / extra.relative_to(source.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(extra, target)
    started = time.time()
    command = ["repro", "run", str(path), "-q", "--allow-errors", "--timeout", "120"]
    done = subprocess.run(
        [str(ROOT / ".venv/bin/jupyter"), *command],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    window = (started, time.time())
    nb = nbformat.read(path, 4)
    try:
        store = open_store(work, create=False)
    except StoreError:
        raise StoreError(f"not recorded: {done.stderr.strip()[-300:]}") from None
    compared, lines = 0, []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get(METADATA_KEY) if cell.cell_type == "code" else None
        if not meta or not meta.get("record"):
            continue
        compared += 1
        recorded = store.objects.get_record(meta["record"]).get("outputs") or []
        saved = output_digests(list(cell.outputs), clock_window=window)
        if [d["digest"] for d in recorded] != [d["digest"] for d in saved]:
            lines.append(
                f"{source.name} cell {index + 1}: kernel {len(recorded)} [{_kinds(recorded)}] "
                f"vs saved {len(saved)} [{_kinds(saved)}]"
            )
    return compared, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--corpus", action="store_true", help="the real-world corpus notebooks")
    parser.add_argument("--probe", action="store_true", help="a notebook with every output kind")
    args = parser.parse_args(argv)
    todo = [(p, []) for p in args.notebooks]
    if args.corpus:
        todo += _corpus_notebooks()
    total, disagree = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if args.probe:
            probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in PROBE])
            probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
            (scratch / "src").mkdir()
            nbformat.write(probe, scratch / "src" / "probe.ipynb")
            todo.append((scratch / "src" / "probe.ipynb", []))
        for source, support in todo:
            try:
                compared, lines = measure(source, support, scratch)
            except StoreError as exc:
                print(f"{source.name}: {exc}", flush=True)
                continue
            total += compared
            disagree += len(lines)
            print(f"{source.name}: {len(lines)}/{compared} cells disagree", flush=True)
            for line in lines:
                print("  " + line)
    print(f"total: {disagree} of {total} recorded code cells disagree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
