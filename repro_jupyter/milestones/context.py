"""What links a milestone to its run: the recording session of this kernel, read, never changed.

Inside a recorded notebook (``%load_ext repro_jupyter`` + ``%repro on`` / ``%%repro``, or ``jupyter repro
run``) the magics keep one ``RecordingSession`` per shell (``magics._LOADED``): it knows the notebook, the
store, the master seed, the cell being recorded (its key, source and seed), the environment and the records
of the cells before.  From those the manifest takes the code (git commit, dirty digest, the cell's source
digest), the data version (the input digests recorded so far plus the files this cell has opened), the
hyperparameters (the records' ``params`` plus this cell's literal assignments) and the seeds.  Outside a
recorded kernel the milestone is still saved, beside the notebook the kernel names (or the current
folder), and its manifest says ``"recorded": false`` instead of inventing links.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cell_source import source_digest
from ..errors import ReproError, ReproWarning
from ..store import Store, open_store
from .errors import MilestoneError


@dataclass
class RunContext:
    """Everything a manifest says about the run, plus where the store is."""

    notebook: str | None
    directory: Path
    store_url: str | None
    session: Any = None
    link: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    cell_key: str | None = None


def active_session() -> Any:
    """The kernel's ``RecordingSession`` (None in plain Python or before ``%load_ext repro_jupyter``)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    from ..magics import _LOADED

    magics = _LOADED.get(id(shell))
    return getattr(magics, "session", None)


def locate(notebook: str | None = None) -> RunContext:
    """Where milestones of this kernel go (and are looked up), without collecting the manifest links."""
    session = active_session()
    if session is not None:
        loc = session.location
        return RunContext(loc.relative_name(), loc.directory, session.store_url, session)
    from ..notebook_path import NotebookLocation

    loc = NotebookLocation.from_environment()
    return RunContext(notebook or loc.relative_name(), loc.directory, None)


def open_for(ctx: RunContext, *, create: bool) -> Store:
    """A store handle of our own: the session's writer thread owns its catalog connection (SQLite
    connections stay in their thread), and a milestone must be durable before ``checkpoint`` returns."""
    try:
        return open_store(ctx.directory, create=create, url=ctx.store_url)
    except ReproError as exc:
        raise MilestoneError(str(exc)) from None


def collect(ctx: RunContext) -> None:
    """Fill ``ctx.link`` from the session (flushing its records first, so earlier cells' inputs are read)."""
    session = ctx.session
    if session is None:
        ctx.link = {"recorded": False}
        return
    # no notebook name: ``verify`` runs a copy under another name, and the manifest must not change with it
    # (the catalog row says which notebook saved it)
    link: dict[str, Any] = {"recorded": True}
    master = session.ensure_master_seed()
    # written and flushed now: the manifest names it, and fsck expects every named object to exist
    env_digest = session.durable_environment()
    snapshot, _ = session.environment()
    if env_digest is not None:
        link["environment"] = env_digest
    git = snapshot.get("git") or {}
    link["code"] = {
        "git": {k: git.get(k) for k in ("available", "commit", "dirty", "diff_digest") if k in git}
    }
    link["seeds"] = {"master": master}
    cell = session.active
    inputs: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {}
    records: dict[str, str] = {}
    session.flush()  # earlier cells' records are on disk before they are read back
    store = session.store()
    for key, meta in session.cell_metadata.items():
        try:  # sha256-verified; not schema-checked: loading the schema would be a file this cell "opened"
            record = json.loads(store.objects.get_bytes(meta["record"])) if store is not None else None
        except (ReproError, ValueError) as exc:
            warnings.warn(f"repro milestone: {exc}", ReproWarning, stacklevel=3)
            continue
        if record is None:
            continue
        records[key] = meta["record"]
        for entry in record.get("inputs", []):
            inputs[entry.get("path", "?")] = entry
        params.update(record.get("params") or {})
    if cell is not None:
        from ..inputs import hash_path
        from ..params import collect_params

        ctx.cell_key = cell.key
        link["cell"] = {"key": cell.key, "source": source_digest(cell.source), "seed": cell.seed}
        link["seeds"]["cell"] = cell.seed
        for path in cell.opened.relevant():
            entry = hash_path(path, session.location.directory, "opened", session.input_size_cap)
            inputs.setdefault(entry["path"], entry)
        try:
            params.update(collect_params(cell.options.params, cell.source, session.shell.user_ns))
        except Exception as exc:  # a user's value that will not redact or copy: say so, save anyway
            warnings.warn(
                f"repro milestone: hyperparameters not collected: {exc}", ReproWarning, stacklevel=3
            )
    link["data"] = {"inputs": [inputs[k] for k in sorted(inputs)]}
    link["hyperparameters"] = params
    link["records"] = [{"cell_key": k, "record": v} for k, v in sorted(records.items())]
    if store is not None:
        ctx.run_id = session.run_id(store)  # the run log row this milestone's catalog row points at
    ctx.link = link
