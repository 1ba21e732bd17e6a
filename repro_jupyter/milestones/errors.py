"""The one error of milestone checkpoints: a ``ReproError`` (one line; exit 2 in the CLI, ``UsageError``-like
in a notebook), raised before any live object is touched."""

from __future__ import annotations

from ..errors import ReproError


class MilestoneError(ReproError):
    """A milestone cannot be saved, found, read or restored; ``str()`` is the whole one-line reason."""
