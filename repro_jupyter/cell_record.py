"""What one cell's record says: built from the cell's observations once it has run.

``RecordingSession`` (``recorder.py``) owns the kernel-long lifecycle (seeds, store, writer, run log);
this module owns the record's content: its fields are what verify compares, so they must be a pure
function of the cell's observations (no timestamps, no host names: its digest must hold from run to run).
"""

from __future__ import annotations

import hashlib
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import seeding
from .cell_source import source_digest
from .compare.normalize import output_digests
from .inputs import OpenedFiles, hash_path
from .outputs import OutputCapture
from .params import collect_params
from .redaction import redact_text
from .schema import SCHEMA_VERSION
from .unseeded import RandomnessLog


@dataclass
class CellOptions:
    """A recorded cell's ``%%repro`` options (``None``: the session's setting applies)."""

    seed: int | None = None
    inputs: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    state: bool = True
    deterministic: bool | None = None


def cell_key_for(cell_id: str | None, source: str) -> str:
    """The nbformat cell id when the frontend sent one; else a digest of the source."""
    if cell_id:
        return str(cell_id)
    return "src:" + hashlib.sha256(source.encode()).hexdigest()[:16]


@dataclass
class ActiveCell:
    """A cell being recorded: what ``begin`` saw and the observers still running until ``end``."""

    key: str
    source: str
    options: CellOptions
    seed: int
    seeded: list[str]
    rng_before: dict[str, str]
    started: float
    deterministic: bool  # deterministic algorithms on for this cell (its option, else the session's)
    stack: ExitStack
    capture: OutputCapture
    opened: OpenedFiles
    unseeded: RandomnessLog
    nd_warnings: list[str]


def declared_path(spec: str) -> Path:
    """A path given to ``--inputs``, made absolute one way everywhere: ``~`` expanded, relative to the
    kernel's working folder (not resolved: the record shows it as the notebook names it)."""
    path = Path(spec).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def build_record(
    session: Any, cell: ActiveCell, error: BaseException | None, rng_after: dict[str, str], env_digest: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cell's record and, with state on, the fingerprints of every live variable (what the
    checkpoints are taken of).  Nothing is written: ``RecordingSession._finish`` stores the record and
    the checkpoints; ``session.state`` moves on to this cell's variables."""
    ns = session.shell.user_ns
    paths = [declared_path(p) for p in cell.options.inputs]
    declared = [hash_path(p, session.location.directory, "declared") for p in paths]
    declared_paths = {str(p.resolve()) for p in paths}  # an opened file is compared resolved
    opened = [
        hash_path(p, session.location.directory, "opened", session.input_size_cap)
        for p in cell.opened.relevant()
        if str(p.resolve()) not in declared_paths
    ]
    params = collect_params(cell.options.params, cell.source, ns)
    consumed = sorted(k for k in cell.rng_before if rng_after.get(k) != cell.rng_before[k])
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "cell_record",
        "cell_key": cell.key,
        "source": source_digest(cell.source),
        "master_seed": session.master_seed,
        "seed": cell.seed,
        "seeded": cell.seeded,
        "options": {
            "deterministic": cell.deterministic,
            "state": bool(cell.options.state and session.state_enabled),
            "explicit_seed": cell.options.seed is not None,
        },
        "environment": env_digest,
        "rng": {"before": cell.rng_before, "after": rng_after, "consumed": consumed},
        "unseeded": list(cell.unseeded.unseeded),
        "nondeterministic": bool(cell.unseeded.unseeded or cell.nd_warnings),
        "deterministic_settings": seeding.deterministic_settings(),
        "nondeterminism_warnings": list(cell.nd_warnings),
        "inputs": declared + opened,
        "params": params,
        # the outputs as Jupyter saves them (outputs.py), the clocks the cell printed while it ran
        # masked so the digests hold from run to run; verify checks them against the saved outputs
        "outputs": output_digests(cell.capture.outputs, clock_window=(cell.started, time.time())),
        "status": "error" if error is not None else "ok",
    }
    if not cell.unseeded.auto_seed:
        record["options"]["auto_seed"] = False
    if cell.unseeded.auto_seeded:
        record["auto_seeded"] = {"calls": list(cell.unseeded.auto_seeded)}
        if cell.unseeded.not_listed:
            record["auto_seeded"]["not_listed"] = cell.unseeded.not_listed
    if error is not None:
        record["error"] = {"ename": type(error).__name__, "evalue": redact_text(str(error))[:500]}
    variables: dict[str, Any] = {}
    if record["options"]["state"]:
        variables = session.state.update(ns, cell.source, session.hidden_names())
        # only what changed since this kernel's previous record, chained by its digest (linear growth)
        delta = session.state.delta(variables)
        record["state"] = {"previous": session.state.previous_record, "variables": delta}
    return record, variables
