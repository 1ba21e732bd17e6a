"""Atomic file replacement: write a temp file beside the target, fsync, rename; never a half file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def temp_beside(
    directory: str | os.PathLike[str], prefix: str, suffix: str = ""
) -> Iterator[tuple[int, str]]:
    """A temp file (fd, path) in ``directory``, removed if the block raises (after a rename it is gone)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    try:
        yield fd, tmp
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
