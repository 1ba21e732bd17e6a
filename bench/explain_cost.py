"""Explain cost: ``explain`` vs plain ``verify`` on the demo with one changed distribution, warm cache.

The demo (torch + numpy training loop) gets one dependency on a tiny local distribution
(``tinypkg``: 1.0 scales the data noise by 0.5, 2.0 by 0.25), is recorded in a user
environment layered over this interpreter's with 1.0, then the user environment gets 2.0.
``verify`` and ``explain`` (second run: the trial environment is cached) are timed in the
same run.  ``--late`` puts the dependency in the last cell instead (the worst case: every
trial runs the whole notebook).  Run: ``python -m bench.explain_cost [--repeats N] [--late]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

from .common import ratio, timed

ROOT = Path(__file__).resolve().parent.parent


def _setup(work: Path, late: bool) -> tuple[Any, Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    import test_explain as t  # the hermetic wheelhouse and layered user environment of the tests

    world = t.World(work)
    os.environ["JUPYTER_PATH"] = world.jupyter_path
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    world.install("1.0", ["tinypkg"])
    folder = work / "demo"
    folder.mkdir()
    nb = nbformat.read(ROOT / "examples" / "demo.ipynb", 4)
    nb.metadata["kernelspec"] = {"name": t.KERNEL, "display_name": "user", "language": "python"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[0].source += "\nimport tinypkg"
    if late:
        code[-1].source += "\nprint('noise scale', tinypkg.VALUE)"
    else:
        code[1].source = code[1].source.replace("0.1 * np.random", "0.2 * tinypkg.VALUE * np.random")
        assert "tinypkg.VALUE" in code[1].source
    path = folder / "demo.ipynb"
    nbformat.write(nb, path)
    t.record(path)
    world.install("2.0", ["tinypkg"])
    return world, path


def run(repeats: int = 3, late: bool = False) -> dict[str, Any]:
    from repro_jupyter.cli import main
    from repro_jupyter.explain import ExplainOptions, Sources, explain_notebook
    from repro_jupyter.verify import VerifyOptions, verify_notebook

    work = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    try:
        world, path = _setup(work, late)
        import test_explain as t

        verify_options = VerifyOptions(kernel=t.KERNEL, timeout=300)
        options = ExplainOptions(verify=verify_options, sources=Sources((str(world.wheels),)))
        first = explain_notebook(path, options)  # builds the trial environment (cold)
        assert first["status"] == "proven", first["conclusion"]
        verify = timed(lambda: verify_notebook(path, verify_options), repeats)
        explain = timed(lambda: explain_notebook(path, options), repeats)
        last = explain_notebook(path, options)
        assert main(["explain", "--clean"]) == 0
        return {
            "late": late,
            "verify_s": verify,
            "explain_s": explain,
            "explain_over_verify": round(ratio(explain, verify), 2),
            "conclusion": last["conclusion"],
            "trials": [(x["kind"], x["result"], x["seconds"]) for x in last["trials"]],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def scenario(quick: bool, repeats: int) -> dict[str, Any]:
    """Both placements, as `python -m bench --only explain_cost` runs them (target: at most 3x verify)."""
    repeats = 1 if quick else max(1, min(repeats, 2))
    early, late = run(repeats, late=False), run(repeats, late=True)
    return {
        "early": early,
        "late": late,
        "target_explain_over_verify": 3.0,
        "met": max(early["explain_over_verify"], late["explain_over_verify"]) <= 3.0,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.explain_cost")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--late", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.repeats, args.late), indent=1))
