"""The console exit: what a command prints, redacted before the terminal (or a CI log) sees it.

A command's output is held and redacted as a whole when the command ends, not line by line, so a secret that
spans lines (a PEM block) is still one match.  Meant for commands whose output is a result printed at the end
(``show``, ``lineage``, ``env``, ``export``); a command that reports progress should redact what it prints.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from . import redact_text


@contextmanager
def redacted_console(extra: Iterable[str] = ()) -> Iterator[None]:
    """Hold ``sys.stdout`` and ``sys.stderr`` and write them redacted (with ``extra`` secrets) at the end."""
    extra = tuple(extra)
    real_out, real_err = sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        sys.stdout, sys.stderr = real_out, real_err
        for stream, held in ((real_err, err), (real_out, out)):
            text = held.getvalue()
            if text:
                stream.write(redact_text(text, extra))
                stream.flush()


__all__ = ["redacted_console"]
