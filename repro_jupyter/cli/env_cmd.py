"""``jupyter repro env [--json]`` (this interpreter), ``env export NB``, ``env diff A B``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..environment import capture, environment_digest
from ..environment.diff import environment_diff
from ..environment.export import FORMATS
from ..environment.summary import environment_summary
from ..errors import NotebookError, StoreError, UsageError
from ..notebook_io import read_notebook
from ..redaction import redact_data, redact_text
from ..redaction.console import redacted_console
from ..schema import METADATA_KEY
from ..store import open_store


def add_parser(sub: Any) -> None:
    """``env`` shows this interpreter's snapshot; its actions ``export NB``
    (requirements/conda/Dockerfile) and ``diff A B`` (exit 1 when they differ) work on recorded ones."""
    p = sub.add_parser("env", help="environment: show this one, export a recorded one, diff two")
    p.add_argument("--json", action="store_true", help="print this interpreter's snapshot as JSON")
    p.add_argument("--dir", type=Path, default=Path.cwd(), help="directory whose git state to record")
    actions = p.add_subparsers(dest="env_action", metavar="ACTION")
    export = actions.add_parser("export", help="write a file that rebuilds a notebook's recorded environment")
    export.add_argument("notebook", type=Path)
    export.add_argument("--format", choices=sorted(FORMATS), default="requirements")
    export.add_argument(
        "--all", action="store_true", help="pin every installed distribution, not only imported"
    )
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    diff = actions.add_parser("diff", help="what differs between two environments")
    diff.add_argument("a", help="a notebook, a store environment digest (sha256:...), or 'current'")
    diff.add_argument("b", help="the same kinds; 'current' is this interpreter")
    diff.add_argument("--all", action="store_true", help="compare every installed distribution")
    diff.add_argument("--json", action="store_true")


NOT_COMPARABLE_WITH_CURRENT = {"threads", "torch", "env_vars", "memory"}


def load_environment(spec: str, stores: list[Path]) -> tuple[dict[str, Any], str]:
    """An environment snapshot from a notebook, a digest in a known store, or 'current'."""
    if spec == "current":
        snapshot = capture(Path.cwd())
        return snapshot, "current interpreter"
    if spec.startswith("sha256:"):
        for folder in stores:
            try:
                return open_store(folder, create=False).objects.get_environment(spec), spec[:19]
            except StoreError:
                continue
        raise StoreError(f"environment {spec} is in no store near the given notebooks")
    path = Path(spec)
    nb = read_notebook(path)
    digest = (nb.metadata.get(METADATA_KEY) or {}).get("environment")
    if not digest:
        raise NotebookError(f"{path}: not recorded with repro-jupyter (no environment)")
    return open_store(path.resolve().parent, create=False).objects.get_environment(digest), path.name


def main(args: argparse.Namespace) -> int:
    """Output through the redaction service: JSON as data (stays valid JSON), text as the console."""
    if getattr(args, "json", False):
        return _main(args)
    with redacted_console():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    action = getattr(args, "env_action", None)
    if action == "export":
        env, _ = load_environment(str(args.notebook), [])
        text = redact_text(FORMATS[args.format](env, all_packages=args.all))
        if args.output:
            try:
                args.output.write_text(text)
            except OSError as exc:  # no such folder, a directory, read-only: one line, exit 2
                raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
            print(f"wrote {args.output} ({args.format}, {text.count(chr(10))} lines)")
        else:
            print(text, end="")
        return 0
    if action == "diff":
        stores = [Path(s).resolve().parent for s in (args.a, args.b) if s.endswith(".ipynb")] or [Path.cwd()]
        (old, old_name), (new, new_name) = (
            load_environment(args.a, stores),
            load_environment(args.b, stores),
        )
        diff = environment_diff(old, new, all_packages=args.all)
        if "current" in (args.a, args.b):
            # this process imported none of the notebook's libraries and is no kernel: compare only
            # what it can state (packages by installed version, python, os, cpu, gpu, git)
            diff = {k: v for k, v in diff.items() if k not in NOT_COMPARABLE_WITH_CURRENT}
        if args.json:
            print(json.dumps(redact_data(diff), indent=1))
        elif not diff:
            print(f"{old_name} and {new_name}: same environment")
        else:
            print(f"{old_name} -> {new_name}")
            for section, changes in diff.items():
                for change in changes:
                    print(f"  {section:<9} {change['key']:<32} {change['old']!s:>20} -> {change['new']}")
        return 1 if diff else 0
    snapshot = capture(args.dir)
    digest = environment_digest(snapshot)
    if args.json:
        print(json.dumps(redact_data({"digest": digest, **snapshot}), indent=1, sort_keys=True))
    else:
        print(environment_summary(snapshot, digest))
    return 0
