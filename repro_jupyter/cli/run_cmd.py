"""``jupyter repro run NB.ipynb [-o OUT.ipynb] [--seed N]``: execute headless, with recording."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import nbformat

from .. import METADATA_KEY
from ..atomic import temp_beside
from ..errors import NotebookError
from ..headless import run_notebook
from .show_cmd import print_provenance


def add_parser(sub: Any) -> None:
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


def write_notebook(nb: Any, path: Path) -> None:
    """Atomic write: the old file stays intact if anything fails half way."""
    path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temp_beside(path.parent, f".{path.name}.", ".tmp") as (fd, tmp):
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                nbformat.write(nb, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            os.replace(tmp, path)
    except OSError as exc:
        raise NotebookError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_writable(path: Path) -> None:
    """Fail before spending a kernel run when the result could not be saved anyway."""
    parent = path.resolve().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise NotebookError(f"cannot write {path}: {probe} is not a directory")
    if not os.access(probe, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise NotebookError(f"cannot write {path}: permission denied")


def main(args: argparse.Namespace) -> int:
    source: Path = args.notebook
    output: Path = args.output or source
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise NotebookError("--seed must be between 0 and 2**32 - 1")
    check_writable(output)
    nb, meta, failure = run_notebook(
        source,
        output,
        seed=args.seed,
        deterministic=args.deterministic,
        timeout=args.timeout,
        kernel_name=args.kernel,
        allow_errors=args.allow_errors,
    )
    write_notebook(nb, output)
    if not args.quiet:
        recorded = sum(1 for c in nb.cells if c.cell_type == "code" and METADATA_KEY in c.metadata)
        code = sum(1 for c in nb.cells if c.cell_type == "code")
        print(f"wrote {output}: {recorded}/{code} code cells recorded")
        for index, ename in (meta or {}).get("expected_errors") or []:
            print(f"cell {index} raised {ename}, as the saved notebook shows: recorded as expected")
        if meta:
            print_provenance(nb, output)
    problems = (meta or {}).get("problems") or []
    for problem in problems:  # e.g. a team store that could not be reached: the records wait locally
        print(f"jupyter repro run: error: {problem}", file=sys.stderr)
    if failure:
        print(f"jupyter repro run: error: {failure}", file=sys.stderr)
        return 1
    return 2 if problems else 0
