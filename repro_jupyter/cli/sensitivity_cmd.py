"""``jupyter repro sensitivity NB.ipynb --seeds N``: the spread of every number over N seeds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import NotebookError
from ..sensitivity import seed_sensitivity


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sensitivity", help="run with N master seeds and report the spread of each number")
    p.add_argument("notebook", type=Path)
    p.add_argument("--seeds", type=int, default=5, help="how many master seeds (default 5)")
    p.add_argument("--base-seed", type=int, default=0, help="first master seed; the others follow")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--kernel")
    p.add_argument("--report-json", type=Path)


def main(args: argparse.Namespace) -> int:
    if args.seeds < 2:
        raise NotebookError("--seeds must be at least 2")
    seeds = [args.base_seed + i for i in range(args.seeds)]
    report = seed_sensitivity(args.notebook, seeds, timeout=args.timeout, kernel=args.kernel)
    if args.report_json:
        args.report_json.write_text(json.dumps(report, indent=1))
    print(f"{args.notebook}: {len(seeds)} master seeds {seeds[0]}..{seeds[-1]}")
    if not report["cells"]:
        print("  no output number depends on the seed")
    for cell in report["cells"]:
        for num in cell["numbers"]:
            spread = num["max"] - num["min"]
            rel = spread / abs(num["median"]) if num["median"] else float("inf")
            print(
                f"  cell {cell['index']:>3}  {num['context'][:44]:<44} min {num['min']:<10.6g} "
                f"median {num['median']:<10.6g} max {num['max']:<10.6g} spread {rel:.1%}"
            )
    return 0
