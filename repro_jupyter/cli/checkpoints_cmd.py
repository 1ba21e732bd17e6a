"""``jupyter repro checkpoints NB.ipynb [--json]``: the notebook's training milestones and their manifests.

Milestones are saved by ``repro_jupyter.checkpoint(name, ...)`` inside a training loop (docs/TRAINING.md).
A name saved again (a re-run) is listed once per save, latest last: ``restore_checkpoint`` takes the
latest.  Exit 0 when every manifest reads back verified, 2 when one does not (listed with its reason) or
the notebook/store cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import NotebookError, StoreError
from ..notebook_io import read_notebook
from ..store import open_store


def add_parser(sub: Any) -> None:
    """``checkpoints NB [--json]``: list a notebook's training milestones."""
    p = sub.add_parser("checkpoints", help="list a notebook's training milestones (repro_jupyter.checkpoint)")
    p.add_argument("notebook", type=Path)
    p.add_argument("--json", action="store_true", help="print the rows and manifests as JSON")


def main(args: argparse.Namespace) -> int:
    """Print the notebook's milestones (latest save of a name last); 0 when every
    manifest reads back verified, 2 when one does not; NotebookError without a store."""
    from ..milestones.listing import format_rows, milestones

    path: Path = args.notebook
    read_notebook(path)  # a missing or invalid notebook is one line, exit 2
    try:
        store = open_store(path.resolve().parent, create=False)
    except StoreError as exc:
        raise NotebookError(f"{path}: {exc}") from None
    try:
        rows = milestones(store, path.name)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"notebook": path.name, "milestones": rows}, indent=1, sort_keys=True))
    elif not rows:
        print(f"{path.name}: no milestones (save one with repro_jupyter.checkpoint(name, model=...))")
    else:
        print("\n".join(format_rows(rows)))
    bad = [r for r in rows if "error" in r]
    if bad:
        print(f"jupyter repro checkpoints: error: {bad[0]['error']}", file=sys.stderr)
        return 2
    return 0
