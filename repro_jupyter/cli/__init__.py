"""``jupyter repro`` (also ``jupyter-repro``): one module per subcommand.

Every domain error becomes one line on stderr and exit code 2; tracebacks are
for bugs only (``--debug`` shows them for domain errors too).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .. import __version__
from ..errors import ReproError, ReproWarning
from . import check_cmd, env_cmd, export_cmd, lineage_cmd, run_cmd, sensitivity_cmd, show_cmd, verify_cmd
from .store_cmd import fsck_cmd, gc_cmd, sync_cmd

COMMANDS = {
    "run": run_cmd,
    "verify": verify_cmd,
    "sensitivity": sensitivity_cmd,
    "show": show_cmd,
    "lineage": lineage_cmd,
    "check": check_cmd,
    "fsck": fsck_cmd,
    "gc": gc_cmd,
    "sync": sync_cmd,
    "env": env_cmd,
    "export": export_cmd,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter repro", description="Reproducible notebooks: record, show, verify."
    )
    parser.add_argument("--version", action="version", version=f"repro-jupyter {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def _one_line_warning(command: str) -> Callable[..., None]:
    def show(message: Any, category: Any, filename: str, lineno: int, *_: Any, **__: Any) -> None:
        if issubclass(category, ReproWarning):
            print(f"jupyter repro {command}: warning: {message}", file=sys.stderr)
        else:
            sys.stderr.write(warnings.formatwarning(message, category, filename, lineno))

    return show


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():  # our warnings as one line each, like our errors
            warnings.simplefilter("default", ReproWarning)
            warnings.showwarning = _one_line_warning(args.command)
            return int(COMMANDS[args.command].main(args) or 0)
    except ReproError as exc:
        if args.debug:
            raise
        print(f"jupyter repro {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"jupyter repro {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
