"""Option parsing for ``%repro`` / ``%%repro``: usage errors are one line, never a ``SystemExit``."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from IPython.core.error import UsageError


class MagicParser(argparse.ArgumentParser):
    """argparse for ``%repro``: a parse error is a one-line
    UsageError, never a SystemExit that would kill the cell."""

    def error(self, message: str) -> Any:  # one line, never SystemExit inside a kernel
        """Raise the message as ``UsageError("%repro: ...")``: one line in the cell, no usage block."""
        raise UsageError(f"%{self.prog}: {message}")


def seed_arg(text: str) -> int:
    """A ``--seed`` value: an integer in any base Python reads
    (``0x10``) from 0 to 2**32 - 1; argparse's error otherwise."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError("seed must be between 0 and 2**32 - 1")
    return value


def cell_parser() -> MagicParser:
    """The parser for a ``%%repro`` cell's options: ``--seed``,
    ``--inputs``, ``--params``, ``--no-state``, ``--deterministic``."""
    p = MagicParser(prog="%repro", add_help=False)
    p.add_argument("--seed", type=seed_arg)
    p.add_argument("--inputs", nargs="+", default=[])
    p.add_argument("--params", nargs="+", default=[])
    p.add_argument("--no-state", action="store_true")
    p.add_argument("--deterministic", action="store_true")
    return p


def split_options(line: str) -> list[str]:
    """Shell-style split of a magic line (quotes kept
    together); unbalanced quotes are a one-line UsageError."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%repro: cannot parse options: {exc}") from None


# --- configuration cells ---------------------------------------------------------------------
# A cell made only of these lines sets the recorder up or reports on it; it produces no result
# of the notebook.  Such cells are not recorded (their environment is not "the notebook's
# environment" and their text describes this kernel, not the work) and the lineage omits them.
# ``%repro off`` counts as configuration for the lineage, but its cell is still recorded: it
# began while recording was on and closes the recorded stretch (tests/test_magics.py relies on it).
CONFIGURATION_COMMANDS = frozenset({"status", "env", "seed", "on", "off", "state"})
_EXTENSION_MAGICS = frozenset({"load_ext", "reload_ext", "unload_ext"})


def configuration_commands(source: str) -> frozenset[str] | None:
    """The ``%repro`` commands of a configuration-only cell, or None when the cell does more.

    Configuration lines: ``%load_ext``/``%reload_ext`` (any extension), ``%config
    ReproMagics.*`` and ``%repro status|env|seed|on|off|state ...``; blank and ``#`` lines are
    allowed.  A cell with no such line (an empty cell, a comment) is not configuration.
    """
    commands: set[str] = set()
    seen = False
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("%") or line.startswith("%%"):
            return None
        magic, _, rest = line[1:].partition(" ")
        words = rest.split()
        if magic in _EXTENSION_MAGICS and words:
            seen = True
        elif magic == "config" and words and words[0].startswith("ReproMagics."):
            seen = True
        elif magic == "repro" and words and words[0] in CONFIGURATION_COMMANDS:
            commands.add(words[0])
            seen = True
        else:
            return None
    return frozenset(commands) if seen else None


def is_configuration_cell(source: str) -> bool:
    """Whether the cell only sets the recorder up (``%load_ext``, ``%config ReproMagics.*``, ``%repro
    status|env|...``): such cells are not recorded, and the judge skips them unless they raised."""
    return configuration_commands(source) is not None
