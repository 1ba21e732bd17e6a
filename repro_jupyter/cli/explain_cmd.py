"""``jupyter repro explain NB.ipynb``: exit 0 no drift, 1 drift with a proven cause, 3 drift with no
cause proven, 2 could not run (no uv, index unreachable, bad input: one line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..numbering import cell_label
from .verify_cmd import _check_report_path

MAX_TRIALS = 64


def add_parser(sub: Any) -> None:
    """``explain NB``: trial options (wheel sources, trial budget, timeout)
    and reports; the notebook is optional only with ``--clean``."""
    p = sub.add_parser(
        "explain", help="prove what made a notebook drift by re-running it with factors put back"
    )
    p.add_argument("notebook", type=Path, nargs="?")
    p.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder (or URL) of wheels for the recorded versions; alone, nothing is fetched from an index",
    )
    p.add_argument("--index-url", metavar="URL", help="the package index for the recorded versions")
    p.add_argument(
        "--max-trials",
        type=int,
        default=12,
        help=f"most trial runs after verify (1-{MAX_TRIALS}, default 12)",
    )
    p.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    p.add_argument("--kernel", help="kernel name (default: the notebook's)")
    p.add_argument("--report-json", type=Path, help="write the JSON report here")
    p.add_argument("--html", type=Path, help="write a self-contained HTML report here")
    p.add_argument("--clean", action="store_true", help="remove the cached trial environments and stop")


def validate(args: argparse.Namespace) -> None:
    """Every option checked (ranges, folders, URL schemes, report paths)
    before uv or a kernel starts: UsageError, one line, exit 2."""
    if args.notebook is None and not args.clean:
        raise UsageError("a notebook is required (or --clean)")
    if not 1 <= args.max_trials <= MAX_TRIALS:
        raise UsageError(f"--max-trials must be from 1 to {MAX_TRIALS}, not {str(args.max_trials)[:24]}")
    if not 1 <= args.timeout <= 86_400:
        raise UsageError(f"--timeout must be from 1 to 86400 seconds, not {str(args.timeout)[:24]}")
    for link in args.find_links:
        if "://" not in link and not _is(Path(link), "dir"):
            raise UsageError(f"--find-links: {link[:200]} is not a folder")
    if args.index_url is not None and not args.index_url.startswith(("http://", "https://", "file://")):
        raise UsageError(f"--index-url must be an http(s) or file URL, not {args.index_url[:200]!r}")
    for flag, path in (("--report-json", args.report_json), ("--html", args.html)):
        _check_report_path(flag, path)
    if args.notebook is not None and not _is(args.notebook, "file"):
        raise UsageError(f"{str(args.notebook)[:200]}: no such notebook")


def _is(path: Path, kind: str) -> bool:
    """``is_file``/``is_dir`` that answers False for names the OS refuses (too long, NUL)."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except (OSError, ValueError):
        return False


def main(args: argparse.Namespace) -> int:
    """Run explain on one notebook (after ``--clean``, if given) and write
    the reports asked for; the exit code of ``explain.exit_code``."""
    from ..explain import ExplainOptions, Sources, clean, exit_code, explain_notebook
    from ..verify import VerifyOptions

    validate(args)
    if args.clean:
        root, size = clean()
        print(f"removed {root} ({size / 1e6:.1f} MB)" if size else f"nothing cached at {root}")
        if args.notebook is None:
            return 0
    options = ExplainOptions(
        verify=VerifyOptions(timeout=args.timeout, kernel=args.kernel),
        sources=Sources(
            tuple(str(Path(x).resolve()) if "://" not in x else x for x in args.find_links), args.index_url
        ),
        max_trials=args.max_trials,
    )
    report = explain_notebook(args.notebook, options)
    print_summary(report)
    _write(args, report)
    return exit_code(report)


def print_summary(report: dict[str, Any]) -> None:
    """The conclusion, one line per trial (what was put back,
    result, seconds, environment) and the notes, on stdout."""
    print(f"{report['notebook']}: {report['conclusion']}")
    for trial in report["trials"]:
        what = "; ".join(trial["put_back"]) or {
            "verify": "verify",
            "same_seed_again": "the same seed again",
        }.get(trial["kind"], trial["kind"])
        if trial["kind"] not in ("verify", "same_seed_again"):
            what = f"put back {what}"
        if isinstance(trial.get("from_cell"), int):
            what += f" (from the checkpoint of {cell_label(trial['from_cell'])})"
        env = trial.get("environment")
        cached = (
            f" [env {env['digest'].split(':')[-1][:8]}{', cached' if env['reused'] else ''}]" if env else ""
        )
        print(f"  {trial['result']:<11} {trial['seconds']:>6.1f}s  {what[:110]}{cached}")
    for note in report.get("notes", []):
        print(f"  note: {note[:160]}")
    drift = report.get("first_drift")
    if drift is not None and report["status"] != "proven":
        for cause in report.get("likely", [])[:2]:
            print(f"  likely at {cell_label(drift['index'])}: {cause['kind']}: {cause['detail'][:110]}")
    sys.stdout.flush()


def _write(args: argparse.Namespace, report: dict[str, Any]) -> None:
    from ..reports import atomic_write_text
    from ..reports.explain import explain_json, render_explain_html

    for path, render in ((args.report_json, explain_json), (args.html, render_explain_html)):
        if path:
            try:
                atomic_write_text(path, render(report))
            except OSError as exc:
                raise UsageError(f"cannot write {str(path)[:200]}: {exc.strerror or exc}") from None
