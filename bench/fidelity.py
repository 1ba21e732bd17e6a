"""Fidelity harness: does ``verify`` tell the truth on notebooks written by others?

``python -m bench.fidelity [--quick] [--only ID,ID] [--jobs N] [--json OUT] [--keep DIR]``

For every notebook (``fidelity_corpus``), as a user would, through the CLI:

1. record: ``jupyter repro run NB.ipynb`` (no flags) in a scratch copy of its folder;
2. verify at once, same machine, same environment: anything but exit 0 is a FALSE DRIFT;
3. inject one change at a time into a fresh copy of the recorded folder (store included) and
   verify: (a) a numeric literal in code that a shown result depends on, (b) another master seed,
   (c) one number in an input data file, (d) a literal hyperparameter a later cell reads.  Each must
   give exit 1, the first drift at the right cell and the right cause ranked first.

Expected cells never come from the tool under test: they come from reading the code
(``fidelity_inject``) and from plain nbclient runs (``fidelity_oracle``).  Cells are printed both as
1-based positions among all cells (``#8``) and as the 0-based index the reports use (``idx 7``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nbformat

from . import fidelity_inject as inject
from . import fidelity_oracle as oracle
from .common import ROOT, machine
from .fidelity_calls import TIMEOUT, cell_name, cli, drifting, judge, message, verify  # noqa: F401
from .fidelity_corpus import Entry, select
from .fidelity_table import render

ORACLE_MASTER, ORACLE_OTHER = 1, 2


class Notebook:
    """One notebook's run through the harness, in its own scratch folder."""

    def __init__(self, entry: Entry, work: Path) -> None:
        self.entry, self.work = entry, work
        self.base = work / "recorded"  # the recorded folder, never touched after recording
        self.name = entry.notebook.name
        self.false: set[int] = set()  # cells the plain verify flagged

    def copy(self, label: str, with_store: bool = True) -> Path:
        folder = self.work / label
        shutil.copytree(self.base, folder, ignore=None if with_store else shutil.ignore_patterns(".repro"))
        return folder

    def variant(self, label: str, mutate: Callable[[Path, Any], None]) -> dict[str, Any]:
        folder = self.copy(label)
        nb = nbformat.read(folder / self.name, as_version=nbformat.NO_CONVERT)
        mutate(folder, nb)
        nbformat.write(nb, folder / self.name)
        return verify(folder, self.name, self.work / f"{label}.json")

    def observe(self, label: str, steps: list[oracle.Step], change: Callable[[Path], None] | None = None):
        folder = self.copy(label, with_store=False)
        if change is not None:
            change(folder)
        nb = oracle.read(folder / self.name)
        return oracle.run(folder, steps, oracle.uses_torch(nb))

    # --- the four injections -----------------------------------------------------------------

    def constant(self, nb: Any) -> dict[str, Any]:
        chosen = self._confirmed_constant(nb, shown=True) or self._confirmed_constant(nb, shown=False)
        if chosen is None:
            return {"status": "n/a", "why": "no numeric literal whose change reaches a result (ast + oracle)"}

        def mutate(folder: Path, book: Any) -> None:
            book.cells[chosen.index].source = chosen.changed_source

        out = judge(
            self.variant("inject-constant", mutate), chosen.index, "source_changed", known_false=self.false
        )
        where = " ".join(chosen.statement.split())[:80]
        out["change"] = f"cell {cell_name(chosen.index)}: {chosen.old} -> {chosen.new} in `{where}`"
        return out

    def _confirmed_constant(self, nb: Any, shown: bool) -> inject.ConstantChange | None:
        """The first candidate whose change the oracle sees (outputs or values), in one plain run of
        the cells up to the last candidate: the body once, the statement changed, old, old again."""
        candidates = inject.constant_candidates(nb, shown=shown)
        if not candidates:
            return None
        steps: list[oracle.Step] = []
        for step in oracle.plain_steps(nb, ORACLE_MASTER, stop=max(c.index for c in candidates)):
            mine = [(j, c) for j, c in enumerate(candidates) if str(c.index) == step.key]
            if not mine:
                steps.append(step)
                continue
            steps.append(oracle.Step(step.key, mine[0][1].body, step.seed))
            seed = oracle.cell_seed(ORACLE_MASTER, step.key + "/statement")
            # old, changed, old again: a clock the cell prints (`!ls -l`) that reads the same in both
            # old runs reads the same in the changed run between them, so it never counts as a change
            steps.append(oracle.Step(f"{step.key}/old1", mine[0][1].statement, seed))
            steps += [oracle.Step(f"{j}/new", c.changed_statement, seed) for j, c in mine]
            steps.append(oracle.Step(f"{step.key}/old2", mine[0][1].statement, seed))
        seen = self.observe("oracle-constant" + ("" if shown else "-any"), steps)
        for j, c in enumerate(candidates):
            old1, old2, new = seen[f"{c.index}/old1"], seen[f"{c.index}/old2"], seen[f"{j}/new"]
            if any(o[0] == "error" for o in new.outputs + old1.outputs):
                continue
            if oracle.first_change({"k": old1}, {"k": old2}, {"k": new}, ["k"]) is not None:
                return c
        return None

    def seed(self, nb: Any) -> dict[str, Any]:
        draws = inject.rng_cells(nb)
        if not draws:
            return {"status": "n/a", "why": "no global RNG use found in the code"}
        # base, other seed, base again, in this order: a clock printed by a cell (`!ls -l` of a file
        # the run wrote) that reads the same in both base runs reads the same in the run between them
        steps = oracle.plain_steps(nb, ORACLE_MASTER)
        base = self.observe("oracle-base", steps)
        other = self.observe("oracle-seed", oracle.plain_steps(nb, ORACLE_OTHER))
        again = self.observe("oracle-again", steps)
        keys = [s.key for s in steps]
        change = oracle.first_change(base, again, other, keys)
        expected = int(change[0]) if change else None
        old = int(nb.metadata.get("repro_jupyter", {}).get("master_seed", 0))
        new = (old + 1) % 2**31

        def mutate(folder: Path, book: Any) -> None:
            book.metadata["repro_jupyter"]["master_seed"] = new

        out = judge(self.variant("inject-seed", mutate), expected, "seed", known_false=self.false)
        out["change"] = (
            f"master seed {old} -> {new}; static draws at {', '.join(cell_name(i) for i in draws[:4])}"
        )
        out["oracle"] = (
            f"first change at {cell_name(expected)}: {change[1]}" if change else "no observable change"
        )
        return out

    def data(self, nb: Any) -> dict[str, Any]:
        relatives = [rel for _, rel in self.entry.support]
        target = inject.data_target(nb, relatives) if relatives else None
        if target is None:
            return {"status": "n/a", "why": "reads no input data file of its own"}
        relative, index = target
        said: list[str] = []

        def mutate(folder: Path, book: Any) -> None:
            said.append(inject.change_one_number(folder / relative))

        out = judge(
            self.variant("inject-data", mutate), index, "data", Path(relative).name, known_false=self.false
        )
        out["change"] = said[0] if said else relative
        return out

    def param(self, nb: Any) -> dict[str, Any]:
        candidates = inject.param_candidates(nb)
        if not candidates:
            return {"status": "n/a", "why": "no top-level `name = <number>` that a later cell reads"}
        chosen = candidates[0]

        def mutate(folder: Path, book: Any) -> None:
            book.cells[chosen.index].source = chosen.changed_source

        out = judge(self.variant("inject-param", mutate), chosen.index, "params", known_false=self.false)
        out["change"] = f"cell {cell_name(chosen.index)}: {chosen.name} = {chosen.old} -> {chosen.new}"
        return out

    def run(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.entry.id,
            "notebook": str(self.entry.notebook),
            "note": self.entry.note,
        }
        if self.entry.skip:
            row["skip"] = self.entry.skip
            return row
        start = time.perf_counter()
        self.entry.prepare(self.base)
        proc = cli(["run", self.name], self.base)
        row["record"] = {
            "exit": proc.returncode,
            "expected_exit": self.entry.record_exit,
            "message": message(proc) if proc.returncode else "",
        }
        if proc.returncode == 0:
            checked = verify(self.copy("verify"), self.name, self.work / "verify.json")
            row["verify"] = {
                "exit": checked["exit"],
                "status": checked["status"],
                "message": checked["message"],
                "false_drifts": drifting(checked["cells"]),
                "unverified": [
                    cell_name(c["index"]) for c in checked["cells"] if c["status"] == "unverified"
                ],
            }
            self.false = {d["index"] for d in row["verify"]["false_drifts"]}
            nb = nbformat.read(self.base / self.name, as_version=4)
            injections = {}
            for key, method in (
                ("constant", self.constant),
                ("seed", self.seed),
                ("data", self.data),
                ("param", self.param),
            ):
                try:
                    injections[key] = method(nb)
                except Exception as exc:  # a harness problem is a row, not a crash of the whole table
                    injections[key] = {
                        "status": "error",
                        "why": f"harness: {type(exc).__name__}: {exc}"[:300],
                    }
            row["injections"] = injections
        row["wall_s"] = round(time.perf_counter() - start, 1)
        return row


def run_one(entry: Entry, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    try:
        row = Notebook(entry, work).run()
    except Exception as exc:  # one broken row must not lose the whole table
        row = {
            "id": entry.id,
            "notebook": str(entry.notebook),
            "harness_error": f"{type(exc).__name__}: {exc}",
        }
    print(f"fidelity: {entry.id} done ({row.get('wall_s', 0)} s)", file=sys.stderr, flush=True)
    return row


def run_all(entries: list[Entry], jobs: int = 1, keep: Path | None = None) -> dict[str, Any]:
    """Run the harness on ``entries``; the JSON-able results (rows in the order given)."""
    scratch = Path(tempfile.mkdtemp(prefix="repro-fidelity-")) if keep is None else keep.resolve()
    try:
        works = [scratch / e.id for e in entries]
        for work in works:
            shutil.rmtree(work, ignore_errors=True)
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                rows = list(pool.map(run_one, entries, works))
        else:
            rows = [run_one(e, w) for e, w in zip(entries, works, strict=True)]
    finally:
        if keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return {"machine": machine(), "rows": rows}


def preflight() -> str | None:
    """Can the tool record ``1 + 1`` at all?  Other engineers edit the package while we measure: a
    half-done refactor should cost one line and 5 s, not 39 rows of the same error."""
    with tempfile.TemporaryDirectory(prefix="repro-fidelity-preflight-") as folder:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, Path(folder) / "preflight.ipynb")
        proc = cli(["run", "preflight.ipynb"], Path(folder))
        return None if proc.returncode == 0 else f"exit {proc.returncode}: {message(proc)}"


def measured_code(at: str | None, scratch: Path) -> str:
    """Which repro_jupyter the CLI and kernels import.  Others edit the working tree while we measure;
    ``--at REV`` extracts that commit (``git archive``: no worktree, no change to the repository) and
    puts it first on PYTHONPATH, which subprocesses and kernels inherit."""
    if at is None:
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "repro_jupyter"], cwd=ROOT, capture_output=True, text=True
        ).stdout.splitlines()
        return f"working tree ({len(dirty)} uncommitted path(s) under repro_jupyter/)"
    rev = subprocess.run(
        ["git", "rev-parse", "--short", at], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = scratch / f"code-{rev}"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", rev, "repro_jupyter"], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    version = ROOT / "repro_jupyter" / "_version.py"  # generated at install time, not committed
    if version.exists() and not (tree / "repro_jupyter" / "_version.py").exists():
        shutil.copyfile(version, tree / "repro_jupyter" / "_version.py")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))
    return f"commit {rev}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fidelity", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated notebook ids")
    parser.add_argument("--quick", action="store_true", help="the fast subset the test suite runs")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks in parallel (default 1)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--keep", type=Path, help="keep the scratch folders under this directory")
    parser.add_argument(
        "--at", metavar="REV", help="measure this commit's repro_jupyter, not the working tree"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    entries = select(args.only.split(",") if args.only else None, args.quick)
    with tempfile.TemporaryDirectory(prefix="repro-fidelity-code-") as code_dir:
        measured = measured_code(args.at, Path(code_dir))
        broken = preflight()
        if broken:
            print(f"fidelity: the tool cannot record a one-cell notebook ({broken}); nothing measured")
            return 2
        results = run_all(entries, jobs=args.jobs, keep=args.keep)
    results["measured"] = measured
    text, clean = render(results["rows"])
    results["clean"] = clean
    print(f"Measured: repro_jupyter from the {measured}; {results['machine']['date']}.\n")
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
