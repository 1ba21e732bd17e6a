"""``jupyter repro sensitivity NB.ipynb --seeds N``: the spread of every number over N seeds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..figures import format_percent
from ..numbering import cell_number
from ..sensitivity import seed_sensitivity

MAX_SEEDS = 1000
SEED_MAX = 2**32 - 1  # master seeds are unsigned 32-bit (the schema's seed)


def add_parser(sub: Any) -> None:
    """``sensitivity NB --seeds N``: N consecutive master seeds from ``--base-seed``."""
    p = sub.add_parser("sensitivity", help="run with N master seeds and report the spread of each number")
    p.add_argument("notebook", type=Path)
    p.add_argument("--seeds", type=int, default=5, help="how many master seeds (default 5)")
    p.add_argument("--base-seed", type=int, default=0, help="first master seed; the others follow")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--kernel")
    p.add_argument("--report-json", type=Path)


def main(args: argparse.Namespace) -> int:
    """Run the notebook once per master seed and print each seed-dependent number's min, median,
    max and relative spread; always 0 once it ran (a spread is a finding, not a failure)."""
    if not 2 <= args.seeds <= MAX_SEEDS:  # each seed is a full run of the notebook
        raise UsageError(f"--seeds must be from 2 to {MAX_SEEDS}, not {str(args.seeds)[:24]}")
    last = SEED_MAX - args.seeds + 1
    if not 0 <= args.base_seed <= last:
        raise UsageError(f"--base-seed must be from 0 to {last}, not {str(args.base_seed)[:24]}")
    if not 1 <= args.timeout <= 86_400:
        raise UsageError(f"--timeout must be from 1 to 86400 seconds, not {str(args.timeout)[:24]}")
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
                f"  cell {cell_number(cell['index']):>3}  {num['context'][:44]:<44} min {num['min']:<10.6g} "
                f"median {num['median']:<10.6g} max {num['max']:<10.6g} spread {format_percent(rel)}"
            )
    return 0
