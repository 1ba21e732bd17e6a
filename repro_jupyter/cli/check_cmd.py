"""``jupyter repro check NB.ipynb --cell ID``: does the checkpoint written after a cell load in a fresh
kernel and give the same outputs for the cells that follow?

``jupyter repro check NB.ipynb --checkpoint NAME``: does the training milestone NAME (saved with
``repro_jupyter.checkpoint(NAME, model=..., probe=batch)``) reload in a fresh process and give the outputs
it stored for its probe batch, within ``--rtol``/``--atol``?  Exit 0 same (or within tolerance), 1 drift,
2 could not check (no probe, a model class only the notebook defines, a corrupt object): see
``repro_jupyter.milestones.loadcheck``.

A fresh kernel is started with the recorded seeds, the namespace is checked out
from the checkpoint of cell ID (nothing before it is re-run, except cells that
only define functions, classes and imports, which checkpoints cannot hold), the
following cells run, and their outputs are compared with the recorded ones by
the same judge as ``verify``.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

from ..compare.judge import Case, exit_code, judge
from ..errors import NotebookError
from ..explain.shortcut import checkout_source, definitions_only
from ..headless import run_notebook
from ..notebook_io import read_notebook
from ..schema import METADATA_KEY
from ..store import open_store
from ..store.location import scratch_store
from .verify_cmd import print_summary


def add_parser(sub: Any) -> None:
    """``check``: ``--cell`` (judge what follows a cell's checkpoint) or ``--checkpoint``
    (probe a milestone) is required; the tolerances apply to ``--checkpoint`` only."""
    p = sub.add_parser("check", help="reload a cell's checkpoint in a fresh kernel and re-run what follows")
    p.add_argument("notebook", type=Path)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--cell", help="the cell id whose checkpoint to load")
    which.add_argument("--checkpoint", metavar="NAME", help="a training milestone to reload and probe")
    p.add_argument("--rtol", type=float, default=1e-5, help="--checkpoint: relative tolerance (1e-5)")
    p.add_argument("--atol", type=float, default=1e-6, help="--checkpoint: absolute tolerance (1e-6)")
    p.add_argument("--timeout", type=int, default=600)


def check_milestone(args: argparse.Namespace) -> int:
    """Resolve the milestone here (one-line errors), probe it in a fresh interpreter, print one line."""
    from ..errors import StoreError, UsageError
    from ..milestones.loadcheck import run_load_check
    from ..milestones.restore import resolve

    path: Path = args.notebook
    read_notebook(path)
    for flag in ("rtol", "atol"):
        value = getattr(args, flag)
        if not value >= 0 or value == float("inf"):
            raise UsageError(f"--{flag} must be a finite number >= 0, not {value}")
    try:
        store = open_store(path.resolve().parent, create=False)
    except StoreError as exc:
        raise NotebookError(f"{path}: {exc}") from None
    try:
        digest, _manifest = resolve(store, path.name, args.checkpoint)
    finally:
        store.close()
    result = run_load_check(path.resolve().parent, digest, args.rtol, args.atol, args.timeout)
    status = result["status"]
    detail = result.get("detail") or "outputs on the probe batch are bit-identical"
    print(f"{path.name}: milestone {args.checkpoint!r}: {status.replace('_', ' ')}: {detail}")
    return 1 if status == "drift" else 0


def main(args: argparse.Namespace) -> int:
    """Load the cell's checkpoint in a fresh kernel (recording into a scratch store)
    and judge the cells after it: 0 reproduced, 1 drift, 2 error; NotebookError when
    the cell is unknown, unrecorded or its checkpoint does not load."""
    if args.checkpoint is not None:
        return check_milestone(args)
    path: Path = args.notebook
    nb = read_notebook(path)
    ids = [c.get("id") for c in nb.cells]
    if args.cell not in ids:
        raise NotebookError(f"{path}: no cell with id {args.cell!r}")
    at = ids.index(args.cell)
    if METADATA_KEY not in nb.cells[at].metadata:
        raise NotebookError(f"{path}: cell {args.cell!r} was not recorded")
    store = open_store(path.resolve().parent, create=False)
    run = copy.deepcopy(nb)
    for index, cell in enumerate(run.cells):
        if cell.cell_type != "code":
            continue
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if index < at:
            cell.source = definitions_only(source)
        elif index == at:  # its functions too: the cells after it may call them
            record = nb.cells[at].metadata[METADATA_KEY]["record"]
            cell.source = definitions_only(source) + "\n" + checkout_source(record, store)
    # Seeded like the recorded run (so every later cell gets its recorded seed), recording into a
    # scratch store: a check must not add to the notebook's run log.
    with scratch_store():
        executed, _meta, failure = run_notebook(
            path,
            path.parent / f".{path.stem}.check.ipynb",
            nb=run,
            timeout=args.timeout,
            allow_errors=True,
            seed=(nb.metadata.get(METADATA_KEY) or {}).get("master_seed"),
        )
    if failure:
        raise NotebookError(failure)
    checkout = executed.cells[at]
    problems = [o.get("evalue") for o in checkout.get("outputs", []) if o.get("output_type") == "error"]
    problems += [
        line
        for o in checkout.get("outputs", [])
        if o.get("output_type") == "stream"
        for line in str(o.get("text", "")).splitlines()
        if line.startswith("UsageError")
    ]
    if problems:
        raise NotebookError(f"the checkpoint of cell {args.cell} did not load: {problems[0]}")
    selected = {i for i, c in enumerate(nb.cells) if c.cell_type == "code" and i > at}
    report = judge(
        Case(
            path,
            nb,
            [executed],
            store,
            None,
            cells=selected,
            reason_when_reproduced=f"cells after {args.cell} reproduced from its checkpoint",
        )
    )
    print_summary(report)
    return exit_code(report)
