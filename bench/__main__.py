"""``python -m bench [--quick] [--only NAME ...]``: run the scenarios, print a table, write results.json."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from . import (
    capture_overhead,
    checkpoint_io,
    env_capture,
    explain_cost,
    fingerprint_throughput,
    kishu_compare,
    lab_reexecute,
    store_growth,
    verify_cost,
)
from .common import machine, write_results

SCENARIOS = {
    "capture_overhead": capture_overhead.run,
    "fingerprint_throughput": fingerprint_throughput.run,
    "env_capture": env_capture.run,
    "checkpoint_io": checkpoint_io.run,
    "verify_cost": verify_cost.run,
    "store_growth": store_growth.run,
    "kishu_compare": kishu_compare.run,
    "explain_cost": explain_cost.scenario,
    "lab_reexecute": lab_reexecute.run,
}
SUMMARISE = {"capture_overhead": capture_overhead.summarise}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a subset with 1 repeat (under 2 minutes)")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results.json")
    parser.add_argument(
        "--merge", action="store_true", help="update these scenarios in an existing results file"
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    results = {"machine": machine(), "quick": args.quick, "scenarios": {}}
    if args.merge and args.out.exists():
        previous = json.loads(args.out.read_text())
        if previous.get("quick") == args.quick:
            results["scenarios"] = previous.get("scenarios", {})
    out = args.out.resolve()
    # every scenario's scratch folder (GiBs of checkpoints) lives under one that is removed at the end
    with tempfile.TemporaryDirectory(prefix="repro-bench-") as scratch:
        tempfile.tempdir, cwd = scratch, os.getcwd()
        try:
            for name in args.only or SCENARIOS:
                start = time.perf_counter()
                results["scenarios"][name] = SCENARIOS[name](args.quick, repeats)
                results["scenarios"][name]["wall_s"] = round(time.perf_counter() - start, 1)
                scenario = results["scenarios"][name]
                if name in SUMMARISE:
                    scenario["summary"] = SUMMARISE[name](scenario)
                print(json.dumps({name: scenario.get("summary", scenario)}, indent=1))
        finally:
            os.chdir(cwd)
            tempfile.tempdir = None
    write_results(results, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
