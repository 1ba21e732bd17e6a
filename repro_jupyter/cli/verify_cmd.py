"""``jupyter repro verify NB.ipynb [...]``: exit 0 reproduced, 1 drift, 2 could not verify."""

from __future__ import annotations

import argparse
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ..compare.rules import CompareOptions
from ..errors import UsageError
from ..numbering import cell_label, cell_number
from ..verify import VerifyOptions, exit_code, verify_notebook

SYMBOL = {
    "same": "=",
    "benign": "~",
    "within_tolerance": "≈",
    "unverified": "?",
    "drift": "✗",
    "error": "!",
    "skipped": "-",
}
# differences that must be seen even when another one heads the cell
ALWAYS_SHOWN = ("input", "source", "unverified_state")


def add_parser(sub: Any) -> None:
    """``verify NB...``: tolerance, state and report options; without
    ``--ssim`` images must be pixel-equal where the renderers are the same."""
    p = sub.add_parser("verify", help="re-execute notebooks and compare with what was recorded")
    p.add_argument("notebooks", type=Path, nargs="+")
    p.add_argument("--rtol", type=float, help=f"relative tolerance for numbers ({CompareOptions.rtol:g})")
    p.add_argument("--atol", type=float, help=f"absolute tolerance for numbers ({CompareOptions.atol:g})")
    p.add_argument(
        "--ssim",
        type=float,
        help="allow perceptual image tolerance at this SSIM threshold (e.g. "
        f"{CompareOptions.ssim_threshold:g}); by default images must be pixel-equal where the "
        "rendering libraries are the same",
    )
    p.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    p.add_argument("--kernel", help="kernel name (default: the notebook's)")
    p.add_argument("--cells", help="comma-separated cell indexes to judge (all cells still run)")
    p.add_argument("--runs", type=int, default=1, help="run N times to separate flaky cells from regressions")
    p.add_argument("--no-state", action="store_true", help="compare outputs only, not variable fingerprints")
    p.add_argument(
        "--strict-repr",
        action="store_true",
        help="count representation changes (np.int64(9) vs 9, dtype str vs object) as drift",
    )
    p.add_argument(
        "--strict-state",
        action="store_true",
        help="count a changed variable that can only be fingerprinted through pickle bytes as drift",
    )
    p.add_argument("--report-json", type=Path, help="write the JSON report here")
    p.add_argument("--junit", type=Path, help="write a JUnit XML report here")
    p.add_argument("--html", type=Path, help="write a self-contained HTML report here")
    p.add_argument("--update", action="store_true", help="accept the new outputs as the baseline")
    p.add_argument("-j", "--jobs", type=int, default=1, help="verify N notebooks in parallel")
    p.add_argument("-q", "--quiet", action="store_true")


class Progress:
    """A one-line progress bar per notebook on a terminal (silent when piped)."""

    def __init__(self, name: str, enabled: bool) -> None:
        self.name, self.enabled = name, enabled

    def __call__(self, done: int, total: int, cell: Any) -> None:
        """Redraw the bar after ``done`` of ``total`` cells (the
        line ends once all are done); does nothing when disabled."""
        if not self.enabled:
            return
        width = 24
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{self.name[-40:]:<40} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def parse_cells(text: str | None) -> set[int] | None:
    """``--cells 3,4``: cell indexes; anything else is a usage error (a typo must not skip every cell)."""
    if text is None:
        return None
    parts = [c.strip() for c in text.split(",")]
    if not parts or any(not p.isdigit() for p in parts):
        raise UsageError(f"--cells takes cell indexes separated by commas (e.g. 3,4), not {text[:40]!r}")
    return {int(p) for p in parts}


def validate(args: argparse.Namespace) -> None:
    """Every numeric option in range, or one line and exit 2, before any kernel starts."""
    for name in ("rtol", "atol"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"--{name} must be a finite number >= 0, not {value}")
    if args.ssim is not None and not (math.isfinite(args.ssim) and 0 < args.ssim <= 1):
        raise UsageError(f"--ssim must be a number in (0, 1], not {args.ssim}")
    bounds = (("timeout", "--timeout", 86_400), ("runs", "--runs", 100), ("jobs", "-j/--jobs", 64))
    for name, flag, most in bounds:
        if not 1 <= getattr(args, name) <= most:  # each job is a kernel; each run re-executes it all
            raise UsageError(f"{flag} must be from 1 to {most}, not {_shown(getattr(args, name))}")
    parse_cells(args.cells)
    for flag, path in (("--report-json", args.report_json), ("--junit", args.junit), ("--html", args.html)):
        _check_report_path(flag, path)


def _options(args: argparse.Namespace, name: str, progress: bool) -> VerifyOptions:
    cells = parse_cells(args.cells)
    given = {"rtol": args.rtol, "atol": args.atol, "ssim_threshold": args.ssim}
    explicit = frozenset(k for k, v in given.items() if v is not None)
    compare = CompareOptions(
        rtol=args.rtol if args.rtol is not None else CompareOptions.rtol,
        atol=args.atol if args.atol is not None else CompareOptions.atol,
        ssim_threshold=args.ssim if args.ssim is not None else CompareOptions.ssim_threshold,
        compare_state=not args.no_state,
        representation_is_benign=not args.strict_repr,
        strict_state=args.strict_state,
        perceptual_images=args.ssim is not None,  # asking for a threshold is opting in to tolerance
    )
    return VerifyOptions(
        compare=compare,
        timeout=args.timeout,
        kernel=args.kernel,
        cells=cells,
        runs=max(1, args.runs),
        update=args.update,
        progress=Progress(name, progress),
        explicit=explicit,
    )


def _verify_one(item: tuple[Path, argparse.Namespace, bool]) -> dict[str, Any]:
    path, args, progress = item
    return verify_notebook(path, _options(args, str(path), progress))


def _shown(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)"


def quiet_line(report: dict[str, Any]) -> str:
    """``-q``: the notebook, its status and the first cell that did not reproduce (or why it stopped)."""
    line = f"{report['notebook']}: {report['status'].upper()}"
    first = next((c for c in report["cells"] if c["status"] not in ("same", "skipped", "benign")), None)
    if first is not None:
        detail = first["differences"][0]["detail"] if first["differences"] else ""
        line += f" at {cell_label(first['index'])} ({first['status']}) {detail[:100]}".rstrip()
    elif report.get("reason"):
        line += f" — {report['reason']}"
    return " ".join(line.split())


def print_summary(report: dict[str, Any]) -> None:
    """A report on stdout: the status line, each cell that is not same or
    skipped with its first difference and top causes, then the counts."""
    status = report["status"].upper()
    print(f"{report['notebook']}: {status}" + (f" — {report['reason']}" if report.get("reason") else ""))
    for cell in report["cells"]:
        if cell["status"] in ("same", "skipped"):
            continue
        first = cell["differences"][0]["detail"] if cell["differences"] else ""
        number = cell_number(cell["index"])
        print(f"  {SYMBOL[cell['status']]} cell {number:>3} {cell['status']:<16} {first[:100]}")
        for diff in cell["differences"][1:]:
            if diff.get("kind") in ALWAYS_SHOWN:
                print(f"      also: {diff['detail'][:120]}")
        for cause in cell.get("causes", [])[:3]:
            print(f"      {cause['score']:.2f} {cause['kind']}: {cause['detail'][:110]}")
    counts = ", ".join(f"{v} {k}" for k, v in (report.get("summary") or {}).items() if v)
    if counts:
        print(f"  ({counts})")


def main(args: argparse.Namespace) -> int:
    """Verify every notebook (in parallel with ``-j``), print and write the
    reports: the worst exit code, 0 reproduced, 1 drift, 2 could not verify."""
    validate(args)
    progress = sys.stderr.isatty() and not args.quiet and args.jobs <= 1
    items = [(path, args, progress) for path in args.notebooks]
    if args.jobs > 1 and len(items) > 1:
        with ProcessPoolExecutor(max_workers=min(args.jobs, len(items))) as pool:
            reports = list(pool.map(_verify_one, items))
    else:
        reports = [_verify_one(item) for item in items]
    for report in reports:
        if not args.quiet:
            print_summary(report)
        elif report["status"] != "reproduced":  # quiet is not silent: one line for what failed
            print(quiet_line(report))
    _write_reports(args, reports)
    return max(exit_code(r) for r in reports)


def _write_reports(args: argparse.Namespace, reports: list[dict[str, Any]]) -> None:
    if not (args.report_json or args.junit or args.html):
        return
    from .. import reports as writers

    jobs = (
        (args.report_json, lambda p: writers.write_json(reports[0] if len(reports) == 1 else reports, p)),
        (args.junit, lambda p: writers.write_junit(reports, p)),
        (args.html, lambda p: writers.write_html(reports, p)),
    )
    for path, write in jobs:
        if path:
            try:
                write(path)
            except OSError as exc:
                raise UsageError(f"cannot write {str(path)[:200]}: {exc.strerror or exc}") from None


def _check_report_path(flag: str, path: Path | None) -> None:
    """A report that could not be written must fail before the kernels run, in one line."""
    if path is None:
        return
    text = str(path)
    if not text.strip() or path.is_dir():
        raise UsageError(f"{flag} needs a file path, not {text[:200]!r}")
    if not path.parent.is_dir():
        raise UsageError(f"{flag}: the folder {str(path.parent)[:200]} does not exist")
