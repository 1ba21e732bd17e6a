"""``jupyter repro run NB.ipynb [-o OUT.ipynb] [--seed N]``: execute headless, with recording.

Two things are checked before the summary says "recorded": the output file is the one this run
read (another run or an editor may have saved it meanwhile: the newer file stays, this run's
result goes to a side file named in the error), and the records the notebook now points to are
where readers will look (a read-only store that fell back to the cache is named in a warning).
Before the kernel starts, a run that could store nothing (the store and its fallback both
unwritable) or a broken ``pyproject.toml`` is one line and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import NotebookError, StoreError, UsageError
from ..headless import run_notebook
from ..notebook_io import file_state, write_notebook, write_unless_changed
from ..numbering import cell_label
from ..schema import METADATA_KEY
from ..store import fallback_root, looks_writable, open_store, resolve_location
from .show_cmd import print_provenance


def add_parser(sub: Any) -> None:
    """``run NB``: writes over the input unless ``-o``; the seed
    defaults to the notebook's master seed, else a new one."""
    p = sub.add_parser("run", help="execute a notebook in a fresh kernel and record every cell")
    p.add_argument("notebook", type=Path)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where to write the executed notebook (default: overwrite the input)",
    )
    p.add_argument("--seed", type=int, help="master seed (default: the notebook's, else a new one)")
    p.add_argument("--deterministic", action="store_true", help="deterministic torch algorithms")
    p.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    p.add_argument("--kernel", help="kernel name (default: the notebook's kernelspec)")
    p.add_argument("--allow-errors", action="store_true", help="continue after a failing cell")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary")


def check_writable(path: Path) -> None:
    """Fail before spending a kernel run when the result could not be saved anyway."""
    try:
        parent = path.resolve().parent
        probe = parent
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir():
            raise NotebookError(f"cannot write {path}: {probe} is not a directory")
        if not os.access(probe, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise NotebookError(f"cannot write {path}: permission denied")
    except OSError as exc:  # a name too long for the file system, a loop of links
        raise NotebookError(f"cannot write {path}: {exc.strerror or exc}") from None


def preflight_store(folder: Path) -> None:
    """Before a kernel starts: a broken ``pyproject.toml``, or no place a record could go (the store and
    its fallback both unwritable), is one line and exit 2, not a run that claims what it cannot keep."""
    location = resolve_location(folder)
    if location.remote or location.source == "scratch":
        return
    fallback = fallback_root(folder)
    if not (looks_writable(location.path) or looks_writable(fallback)):
        raise StoreError(
            f"cannot record: {location.path} is not a writable folder, nor is the fallback {fallback}"
        )


def stored_check(nb: Any, folder: Path) -> list[str]:
    """Warnings about where this run's records are, as readers (verify, show) will look for them:
    the cache store a read-only folder fell back to is named; records readers cannot find are said
    (a ``ReproMagics.store_url`` in the kernel's IPython config sends them elsewhere, and write
    failures come as the kernel's own ``problems``).  Local stores only."""
    location = resolve_location(folder)
    if location.remote or location.source == "scratch":
        return []
    cells = [c for c in nb.cells if c.cell_type == "code" and isinstance(c.metadata.get(METADATA_KEY), dict)]
    if not cells:
        return []
    try:
        store = open_store(folder, create=False)
    except StoreError:
        return [f"the records of this run are not in {location.path}, where verify and show look for them"]
    try:
        unseen = [
            cell
            for cell in cells
            if not all(
                isinstance(d, str) and store.objects.has(d)
                for d in (
                    cell.metadata[METADATA_KEY].get("record"),
                    cell.metadata[METADATA_KEY].get("environment"),
                )
            )
        ]
    finally:
        store.close()
    notes = []
    if store.root != location.path:
        notes.append(
            f"{location.path} is not writable: the records are in {store.root} (found there by readers)"
        )
    if unseen:
        notes.append(
            f"{len(unseen)} of {len(cells)} recorded cells have no record in {store.root}, where verify and "
            "show look for them"
        )
    return notes


def main(args: argparse.Namespace) -> int:
    """Execute and record the notebook, then write it unless another writer saved it meanwhile:
    0 recorded, 1 a cell failed, 2 a record could not be stored (the kernel's ``problems``)."""
    source: Path = args.notebook
    output: Path = args.output or source
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise UsageError("--seed must be between 0 and 2**32 - 1")
    if args.timeout < 1:
        raise UsageError(f"--timeout must be at least 1 second, not {args.timeout}")
    check_writable(output)
    preflight_store(output.resolve().parent)
    before = file_state(output)  # what this run read: a change by the time it writes is a conflict
    nb, meta, failure = run_notebook(
        source,
        output,
        seed=args.seed,
        deterministic=args.deterministic,
        timeout=args.timeout,
        kernel_name=args.kernel,
        allow_errors=args.allow_errors,
    )
    notes = stored_check(nb, output.resolve().parent) if meta else []
    write_unless_changed(nb, output, before, write_notebook)
    for note in notes:
        print(f"jupyter repro run: warning: {note}", file=sys.stderr)
    if not args.quiet:
        recorded = sum(1 for c in nb.cells if c.cell_type == "code" and METADATA_KEY in c.metadata)
        code = sum(1 for c in nb.cells if c.cell_type == "code")
        print(f"wrote {output}: {recorded}/{code} code cells recorded")
        for index, ename in (meta or {}).get("expected_errors") or []:
            print(f"{cell_label(index)} raised {ename}, as the saved notebook shows: recorded as expected")
        if meta:
            print_provenance(nb, output)
    problems = (meta or {}).get("problems") or []
    for problem in problems:  # e.g. a team store that could not be reached: the records wait locally
        print(f"jupyter repro run: error: {problem}", file=sys.stderr)
    if failure:
        print(f"jupyter repro run: error: {failure}", file=sys.stderr)
        return 1
    return 2 if problems else 0
