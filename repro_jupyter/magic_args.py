"""Option parsing for ``%repro`` / ``%%repro``: usage errors are one line, never a ``SystemExit``."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from IPython.core.error import UsageError


class MagicParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, never SystemExit inside a kernel
        raise UsageError(f"%{self.prog}: {message}")


def seed_arg(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError("seed must be between 0 and 2**32 - 1")
    return value


def cell_parser() -> MagicParser:
    p = MagicParser(prog="%repro", add_help=False)
    p.add_argument("--seed", type=seed_arg)
    p.add_argument("--inputs", nargs="+", default=[])
    p.add_argument("--params", nargs="+", default=[])
    p.add_argument("--no-state", action="store_true")
    p.add_argument("--deterministic", action="store_true")
    return p


def split_options(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%repro: cannot parse options: {exc}") from None
