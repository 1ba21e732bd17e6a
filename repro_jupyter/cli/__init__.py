"""``jupyter repro`` (also ``jupyter-repro``): one module per subcommand.

Every domain error becomes one line on stderr and exit code 2; tracebacks are
for bugs only (``--debug`` shows them for domain errors too).  A message is cut to
``MAX_MESSAGE`` characters (a 5 MB argument echoed back is no message), usage
errors included.  A closed stdout (``jupyter repro show NB | head``) ends the
command quietly with 141, as a process killed by SIGPIPE (git, cat) does.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .. import __version__
from ..errors import ReproError, ReproWarning
from . import (
    check_cmd,
    checkpoints_cmd,
    env_cmd,
    explain_cmd,
    export_cmd,
    lineage_cmd,
    run_cmd,
    sensitivity_cmd,
    show_cmd,
    verify_cmd,
)
from .store_cmd import fsck_cmd, gc_cmd, sync_cmd


class Command(Protocol):
    """What each subcommand provides (a module, or a store command object): its argparse
    sub-parser and the function that runs it, returning the exit code."""

    def add_parser(self, sub: Any) -> None:
        """Register the subcommand on ``sub`` (argparse's subparsers action): its name, help and options."""
        ...

    def main(self, args: argparse.Namespace) -> int:
        """Run with the parsed arguments and return the exit code; a domain error is raised as a
        ``ReproError``, which ``main`` prints as one line with that error's exit code."""
        ...


COMMANDS: dict[str, Command] = {
    "run": run_cmd,
    "verify": verify_cmd,
    "sensitivity": sensitivity_cmd,
    "show": show_cmd,
    "lineage": lineage_cmd,
    "check": check_cmd,
    "checkpoints": checkpoints_cmd,
    "fsck": fsck_cmd,
    "gc": gc_cmd,
    "sync": sync_cmd,
    "env": env_cmd,
    "export": export_cmd,
    "explain": explain_cmd,
}


MAX_MESSAGE = 600
SIGPIPE_EXIT = 141


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` on one line, cut to ``limit`` characters with the length said."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else f"{text[: limit - 40]}… (cut: {len(text)} characters)"


class _Parser(argparse.ArgumentParser):
    """argparse, with its error (which echoes the offending argument) kept to one short line: no usage
    block, the argument cut, a pointer to --help instead."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``jupyter repro`` parser with every subcommand of
    ``COMMANDS``; its usage errors are one short line and exit 2."""
    parser = _Parser(prog="jupyter repro", description="Reproducible notebooks: record, show, verify.")
    parser.add_argument("--version", action="version", version=f"repro-jupyter {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def _one_line_warning(command: str) -> Callable[..., None]:
    def show(message: Any, category: Any, filename: str, lineno: int, *_: Any, **__: Any) -> None:
        if issubclass(category, ReproWarning):
            print(f"jupyter repro {command}: warning: {one_line(str(message))}", file=sys.stderr)
        else:
            sys.stderr.write(warnings.formatwarning(message, category, filename, lineno))

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jupyter repro``: the exit code to return, never a traceback for a
    domain error (one line on stderr, the error's exit code) or a closed stdout (141)."""
    try:
        return _main(argv)
    except BrokenPipeError:
        _silence_stdout()
        return SIGPIPE_EXIT


def _silence_stdout() -> None:
    """The reader went away: later writes (the interpreter's final flush) go nowhere, silently."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's capture)
        pass


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    tokens = list(sys.argv[1:] if argv is None else argv)
    if tokens.count("--") > 1:  # argparse (3.11) then hands a positional a list: say it here instead
        print("jupyter repro: error: '--' may be given once (see jupyter repro --help)", file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse's code, as a return value
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
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
        print(f"jupyter repro {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"jupyter repro {args.command}: interrupted", file=sys.stderr)
        return 130
    except ValueError as exc:
        if "null byte" not in str(exc) or args.debug:  # a path with NUL from a script: bad input, not a bug
            raise
        print(f"jupyter repro {args.command}: error: a path contains a NUL byte", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
