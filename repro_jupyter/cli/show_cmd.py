"""``jupyter repro show NB.ipynb``: the recorded provenance of a notebook."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..canonical import short
from ..environment.summary import environment_summary
from ..errors import ReproError, StoreError
from ..notebook_io import read_notebook
from ..numbering import cell_number
from ..redaction import notebook_secrets, redact_data
from ..redaction.console import redacted_console
from ..schema import METADATA_KEY
from ..state_chain import full_state, state_of
from ..store import open_store


def add_parser(sub: Any) -> None:
    """Register ``show`` with the ``jupyter repro`` subcommands."""
    p = sub.add_parser("show", help="print a notebook's recorded provenance")
    p.add_argument("notebook", type=Path)
    p.add_argument("--json", action="store_true", help="metadata, records and environments as JSON")


def _load(store: Any, digest: str | None, kind: str = "record") -> tuple[Any, str | None]:
    """A record or environment (schema-checked by the store), or why it cannot be shown."""
    if not digest or store is None:
        return None, "no store"
    try:
        read = store.objects.get_record if kind == "record" else store.objects.get_environment
        return read(digest), None
    except ReproError as exc:
        return None, str(exc)


def collect(nb: Any, path: Path) -> dict[str, Any]:
    """Everything recorded for ``nb``: metadata plus the store objects it points to."""
    nb_meta = nb.metadata.get(METADATA_KEY)
    store_problem: str | None
    try:
        store = open_store(path.resolve().parent, create=False)
    except StoreError as exc:
        store, store_problem = None, str(exc)
    else:
        store_problem = None
    cells = []
    envs: dict[str, Any] = {}
    env_problems: dict[str, str] = {}
    chain: list[tuple[str, dict[str, Any]]] = []  # the last whole state put together
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get(METADATA_KEY)
        entry: dict[str, Any] = {"index": index, "id": cell.get("id"), "metadata": meta}
        if meta:
            entry["record"], entry["problem"] = _load(store, meta.get("record"))
            if state_of(entry["record"]) is not None:  # records hold deltas: count the whole state
                try:
                    full = full_state(store, entry["record"], chain[-1] if chain else None)
                    chain[:] = [(meta.get("record"), full)]
                    entry["live_variables"] = len(full)
                except ReproError as exc:
                    entry["live_variables"], entry["problem"] = None, str(exc)
            _load_environment(store, meta.get("environment"), envs, env_problems)
        cells.append(entry)
    if isinstance(nb_meta, dict):
        _load_environment(store, nb_meta.get("environment"), envs, env_problems)
    return {
        "notebook": nb_meta,
        "store": store.describe() if store else None,
        "store_problem": store_problem,
        "cells": cells,
        "environments": envs,
        "environment_problems": env_problems,
    }


def _load_environment(store: Any, digest: Any, envs: dict[str, Any], problems: dict[str, str]) -> None:
    """Each environment once; one that cannot be shown (missing, corrupt, a crafted shape) says why."""
    if isinstance(digest, str) and digest and digest not in envs and digest not in problems:
        envs[digest], problem = _load(store, digest, "environment")
        if envs[digest] is None and problem:
            problems[digest] = problem


def print_provenance(nb: Any, path: Path) -> None:
    """One line per code cell (seed, output count and digest, record, what the record flags), then the
    environment; a record or environment that cannot be read says why instead of raising."""
    info = collect(nb, path)
    nb_meta = info["notebook"]
    if not nb_meta:
        print("not recorded: the notebook has no repro_jupyter metadata")
        return
    print(
        f"master seed {nb_meta['master_seed']}, deterministic {nb_meta.get('deterministic', False)}, "
        f"store {info['store'] or info['store_problem']}"
    )
    for entry in info["cells"]:
        meta, rec = entry["metadata"], entry.get("record")
        if not meta:
            print(f"  cell {cell_number(entry['index']):>3} not recorded")
            continue
        flags = []
        if rec:
            if rec.get("rng", {}).get("consumed"):
                flags.append("drew " + "+".join(rec["rng"]["consumed"]))
            if rec.get("unseeded"):
                flags.append("UNSEEDED: " + "; ".join(rec["unseeded"]))
            if rec.get("inputs"):
                flags.append(f"{len(rec['inputs'])} input(s)")
            if rec.get("params"):
                flags.append("params " + ",".join(rec["params"]))
            if rec.get("state"):
                live = entry.get("live_variables")
                changed = len(rec["state"].get("variables") or {})
                flags.append(f"{'?' if live is None else live} var(s), {changed} changed")
        elif entry.get("problem"):
            flags.append(f"record unreadable: {entry['problem']}")
        print(
            f"  cell {cell_number(entry['index']):>3} {meta['status']:<5} seed {meta['seed']:>10}  "
            f"outputs {meta.get('n_outputs', 0)} {short(meta['outputs'], 8)}  "
            f"record {short(meta['record'], 8)}  {'; '.join(flags)}"
        )
    env_digest = nb_meta.get("environment")
    env = info["environments"].get(env_digest) if env_digest else None
    if env:
        print(environment_summary(env, env_digest))
    for digest, problem in info["environment_problems"].items():
        print(f"environment {short(digest)} unreadable: {problem}")


def main(args: argparse.Namespace) -> int:
    """Output through the redaction service: JSON as data (stays valid JSON), text as the console."""
    nb = read_notebook(args.notebook)
    secrets = notebook_secrets(nb)
    if args.json:
        info = json.loads(json.dumps(collect(nb, args.notebook), default=str))
        print(json.dumps(redact_data(info, secrets), indent=1, sort_keys=True))
        return 0
    with redacted_console(secrets):
        print_provenance(nb, args.notebook)
    return 0
