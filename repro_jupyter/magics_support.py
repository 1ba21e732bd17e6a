"""Kernel-side helpers of the magics: a runner's pin, one-line warnings, the Lab comm.

Kept apart from ``magics.py`` so that each stays small; nothing here is public API.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

from .errors import ReproWarning
from .kernel_comm import KernelComm
from .session_settings import RUN_WORDS, environment_words


def on_off(flag: bool) -> str:
    """A flag as ``on``/``off``, how ``%repro status`` says it."""
    return "on" if flag else "off"


def status_lines(s: Any) -> list[str]:
    """``%repro status`` of a RecordingSession: ``key: value`` lines in words (no Python ``False``)."""
    store = s.store()
    if s.pinned:
        recording = f"every cell during this {RUN_WORDS.get(s.kind, 'run')} (the runner's setting)"
    elif s.record_all:
        recording = "every cell (%repro off stops)"
    else:
        recording = "only %%repro cells (%repro on records every cell)"
    return [
        f"recording: {recording}",
        f"master seed: {s.ensure_master_seed()} ({s.seed_origin()})",
        f"deterministic: {on_off(s.deterministic)}   auto-seed: {on_off(s.auto_seed)}   "
        f"state fingerprints: {on_off(s.state_enabled)}",
        f"store: {store.root if store else 'unavailable'}",
        f"notebook: {s.location.path or '(unknown; using ' + str(s.location.directory) + ')'}",
        f"cells recorded in this kernel: {len(s.cell_metadata)}",
        f"environment: {environment_words(s)}",
    ]


@dataclass
class Pin:
    """A runner pinned this kernel: the user's ``deterministic`` before, and what came after."""

    deterministic: bool
    asked_deterministic: bool = False  # the notebook (or %config) asked for it during the pin
    over: bool = False  # the replay flushed its records: it ends before the user's next cell


class LabComm(KernelComm):
    """The comm, also remembering the environment pointer the open notebook holds.

    The frontend answers ``hello`` with the notebook's metadata (saved or not); until this
    kernel records a cell, that pointer is the notebook's environment (``saved_environment``).
    """

    def _on_msg(self, msg: dict[str, Any]) -> None:
        data = (msg.get("content") or {}).get("data") or {}
        if data.get("type") == "notebook" and isinstance(data.get("metadata"), dict):
            self.session.remember_notebook_environment(data["metadata"].get("environment"))
        super()._on_msg(msg)


# --- warnings: one line for people ------------------------------------------------------------

_previous_format = warnings.formatwarning


def _format_warning(message: Any, category: Any, filename: str, lineno: int, line: Any = None) -> str:
    """A ReproWarning reads as one line, without the file and line that raised it.

    ``formatwarning`` (not ``showwarning``) is replaced: ``catch_warnings(record=True)``, used
    by the headless runner and by tests, keeps working unchanged.
    """
    if isinstance(category, type) and issubclass(category, ReproWarning):
        text = re.sub(r"^repro:?\s+", "", " ".join(str(message).split()))
        return f"repro-jupyter warning: {text}\n"
    return _previous_format(message, category, filename, lineno, line)


def install_warning_format() -> None:
    """Make ReproWarnings print as one line (``repro-jupyter
    warning: ...``); idempotent, other warnings unchanged."""
    global _previous_format
    if warnings.formatwarning is not _format_warning:
        _previous_format = warnings.formatwarning
        warnings.formatwarning = _format_warning
