"""The one error of milestone checkpoints: a ``ReproError`` (one line; exit 2 in the CLI), raised before any
live object is touched."""

from __future__ import annotations

from ..errors import ReproError


class MilestoneError(ReproError):
    """A milestone cannot be saved, found, read or restored; ``str()`` is the whole one-line reason."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: in a notebook the refusal is one line too (the
        traceback would only show our frames, never the user's mistake)."""
        return [f"\x1b[0;31mMilestoneError\x1b[0m: {self}"]
