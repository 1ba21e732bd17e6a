"""The recorder's settings that a runner can pin, and the notebook's own environment pointer.

A runner (``jupyter repro run``/``verify``, Lab's "re-execute and compare") pins the kernel:
every cell is recorded with the notebook's recorded master seed, whatever the notebook's
``%repro seed`` says.  A Lab replay happens in the user's kernel, so when it ends the kernel
must go back to the user's settings (``unpin``); what the notebook asked for meanwhile is
remembered and applied then, never lost.  ``RecordingSession`` mixes this in.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .canonical import short
from .errors import ReproWarning
from .schema import METADATA_KEY


@dataclass
class UserSettings:
    """What the user had when a runner pinned the kernel (restored when a Lab replay ends)."""

    kind: str
    record_all: bool
    master_seed: int | None
    master_seed_source: str


RUN_WORDS = {"replay": "re-execution", "headless": "headless run"}

SEED_ORIGIN = {
    "explicit": "set in this notebook by %repro seed",
    "notebook": "saved in the notebook",
    "generated": "generated for this notebook (none was set) and saved in its metadata",
    "unset": "not chosen yet",
}


class SessionSettings:
    """Mixed into ``RecordingSession`` (which owns the attributes used here)."""

    kind: str
    record_all: bool
    master_seed: int | None
    master_seed_source: str
    last_environment: str | None
    notebook_environment: str | None
    _notebook_environment_known: bool
    pinned_from: UserSettings | None
    requested_seed: tuple[int, str] | None
    requested_recording: bool | None
    location: Any

    def close(self) -> None:  # pragma: no cover - RecordingSession's
        """``RecordingSession.close``: end the run in the log, flush and release the store."""
        raise NotImplementedError

    # --- master seed ------------------------------------------------------------------
    def set_master_seed(self, seed: int, source: str) -> bool:
        """Set the master seed; False when a runner's pin keeps its own (said in one line).

        While pinned, the notebook's request is remembered: a Lab replay applies it when it
        ends (``unpin``), so ``%repro seed`` is never lost, only deferred.
        """
        if self.master_seed_source == "pinned" and source != "pinned":
            self.requested_seed = (int(seed), source)
            if int(seed) == self.master_seed:
                return True  # the notebook asks for the seed the runner pinned: nothing to say
            run = RUN_WORDS.get(self.kind, "run")
            after = "applies when it ends" if self.kind == "replay" else "is ignored"
            warnings.warn(
                f"master seed stays {self.master_seed} during this {run} (pinned by the runner to "
                f"the recorded seed); %repro seed {seed} {after}",
                ReproWarning,
                stacklevel=2,
            )
            return False
        self.master_seed, self.master_seed_source = int(seed), source
        return True

    def seed_origin(self) -> str:
        """Where the master seed comes from, in words (``%repro status``)."""
        if self.master_seed_source == "pinned":
            if self.requested_seed is not None and self.requested_seed[0] == self.master_seed:
                return SEED_ORIGIN["explicit"]  # the runner's pin and the notebook agree
            run = RUN_WORDS.get(self.kind, "run")
            return f"pinned by the runner: the notebook's %repro seed is ignored during this {run}"
        return SEED_ORIGIN.get(self.master_seed_source, self.master_seed_source)

    # --- a runner's pin: jupyter repro run/verify, Lab's re-execute -----------------------
    def pin(self, seed: int | None, kind: str) -> None:
        """Record every cell as ``kind``, with the runner's seed; remember what the user had."""
        if self.pinned_from is None:
            self.pinned_from = UserSettings(
                self.kind, self.record_all, self.master_seed, self.master_seed_source
            )
            self.requested_seed = self.requested_recording = None
        self.kind = kind
        if seed is not None:
            self.master_seed, self.master_seed_source = int(seed), "pinned"
        self.record_all = True

    @property
    def pinned(self) -> bool:
        """True while a runner (headless run, verify, Lab replay) has pinned this kernel's settings."""
        return self.pinned_from is not None

    def unpin(self) -> None:
        """The runner is done: back to the user's settings, plus what the notebook asked for.

        The seed the notebook set (``%repro seed``, ``%repro on --seed``) wins; else the one
        the user had; else the pinned value stays, as the notebook's saved seed (a replay pins
        exactly that).  Recording follows the notebook's ``%repro on/off``, else the user's.
        The replay's run is closed in the log, so later cells are logged as interactive.
        """
        before, self.pinned_from = self.pinned_from, None
        if before is None:
            return
        self.close()
        self.kind = before.kind
        self.record_all = (
            self.requested_recording if self.requested_recording is not None else before.record_all
        )
        if self.master_seed_source == "pinned":
            if self.requested_seed is not None:
                self.master_seed, self.master_seed_source = self.requested_seed
            elif before.master_seed is not None:
                self.master_seed, self.master_seed_source = before.master_seed, before.master_seed_source
            else:
                self.master_seed_source = "notebook"
        self.requested_seed = self.requested_recording = None

    def remember_notebook_environment(self, digest: Any) -> None:
        """The environment pointer the open notebook holds, as its frontend reports it."""
        self.notebook_environment = digest if _is_digest(digest) else None
        self._notebook_environment_known = True

    def saved_environment(self) -> str | None:
        """The notebook's own environment pointer (frontend's copy, else the saved file).

        Until this kernel records a cell, the notebook's environment is the one its recorded
        cells ran in: a magic that only configures (``%repro seed``, ``%repro on``) sends the
        notebook metadata, and must not drop that pointer or put a fresh kernel's one there.
        """
        if not self._notebook_environment_known:
            self._notebook_environment_known = True
            self.notebook_environment = _saved_environment(self.location.path)
        return self.notebook_environment


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("sha256:") and len(value) < 100


def _saved_environment(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            digest = (json.load(fh).get("metadata", {}).get(METADATA_KEY) or {}).get("environment")
    except (OSError, ValueError, AttributeError):
        return None
    return digest if _is_digest(digest) else None


def environment_words(session: SessionSettings) -> str:
    """The ``environment:`` line of ``%repro status``."""
    if session.last_environment:
        return f"{short(session.last_environment)} (of the last cell recorded in this kernel)"
    saved = session.saved_environment()
    if saved:
        return f"{short(saved)} (the notebook's; no cell recorded in this kernel yet)"
    return "none recorded yet"
