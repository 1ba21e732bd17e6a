"""Domain errors.  Each becomes a one-line ``UsageError`` in a magic, an HTTP status in a
handler and an exit code in the CLI; none of them should ever surface as a traceback."""

from __future__ import annotations


class ReproError(Exception):
    """Base class: ``str(error)`` is a complete one-line message for a person."""

    exit_code = 2


class StoreError(ReproError):
    """The store cannot be read or written (missing, corrupt, read-only)."""


class ObjectMissing(StoreError):
    """A store object named by a record or pointer is not
    in the store (nor, for a team store, on the remote)."""


class ObjectCorrupt(StoreError):
    """A store object's bytes do not hash to its name (or
    it is not the JSON kind it should be): never used."""


class NotebookError(ReproError):
    """The notebook file cannot be read or is not a valid notebook."""


class ExecutionError(ReproError):
    """The notebook could not be executed (kernel died, missing kernel, timeout)."""


class ExportError(ReproError):
    """A recorded run cannot be exported (optional dependency missing, nothing to export, refused)."""


class UsageError(ReproError):
    """A command-line option or setting out of range or malformed."""


class ReproWarning(UserWarning):
    """Problems that leave the user's result untouched: a record not written, a team store out of reach."""
