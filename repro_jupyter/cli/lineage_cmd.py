"""``jupyter repro lineage NB.ipynb [--json|--dot]``: which cell wrote and read which variable."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..lineage import graph, to_dot
from ..redaction import notebook_secrets, redact_data
from ..redaction.console import redacted_console


def add_parser(sub: Any) -> None:
    """``lineage NB``: a text listing per cell by default; ``--json`` and ``--dot`` are exclusive."""
    p = sub.add_parser("lineage", help="print the variable lineage of a recorded notebook")
    p.add_argument("notebook", type=Path)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--dot", action="store_true", help="Graphviz dot")


def main(args: argparse.Namespace) -> int:
    """Output through the redaction service: JSON as data (stays valid JSON), text as the console."""
    secrets = notebook_secrets(args.notebook)
    if args.json:
        print(json.dumps(redact_data(graph(args.notebook), secrets), indent=1))
        return 0
    with redacted_console(secrets):
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    g = graph(args.notebook)
    if args.dot:
        print(to_dot(g))
    else:
        producers = {e["target"]: e["source"] for e in g["edges"] if e["kind"] == "writes"}
        labels = {n["id"]: n["label"] for n in g["nodes"]}
        for node in g["nodes"]:
            if node["kind"] != "cell":
                continue
            writes = [labels[e["target"]] for e in g["edges"] if e["source"] == node["id"]]
            reads = [
                f"{labels[e['source']]} (from {labels[producers[e['source']]].split(']')[0]}])"
                for e in g["edges"]
                if e["target"] == node["id"] and e["source"] in producers
            ]
            print(f"{node['label']}{'  [stale]' if node.get('stale') else ''}")
            if reads:
                print(f"    reads  {', '.join(reads)}")
            if writes:
                print(f"    writes {', '.join(writes)}")
    return 0
