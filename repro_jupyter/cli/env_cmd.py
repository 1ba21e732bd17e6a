"""``jupyter repro env [--json]``: the environment snapshot of this interpreter."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..environment import capture, environment_digest
from ..report import environment_summary


def add_parser(sub: Any) -> None:
    p = sub.add_parser("env", help="print the current environment snapshot")
    p.add_argument("--json", action="store_true")
    p.add_argument("--dir", type=Path, default=Path.cwd(), help="directory whose git state to record")


def main(args: argparse.Namespace) -> int:
    snapshot = capture(args.dir)
    digest = environment_digest(snapshot)
    if args.json:
        print(json.dumps({"digest": digest, **snapshot}, indent=1, sort_keys=True))
    else:
        print(environment_summary(snapshot, digest))
    return 0
