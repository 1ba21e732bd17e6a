"""What the server computes, with no web code: provenance, lineage, environment diff, compare.

Handlers stay thin (parse, call one function here, serialise); these functions take
a notebook as JSON (the frontend's open model, which may be unsaved) plus its
folder, and use the same store readers and drift engine as the CLI.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat

from ..cell_source import source_changed, source_text
from ..compare.judge import Case, judge
from ..compare.rules import CompareOptions, options_from_pyproject
from ..environment.diff import environment_diff
from ..environment.summary import environment_facts
from ..errors import NotebookError, ReproError, StoreError
from ..lineage import graph_from
from ..notebook_io import check_repro_metadata
from ..schema import METADATA_KEY
from ..state_chain import full_state, state_of
from ..store import Store, open_store
from .lab_text import for_lab


def parse_notebook(data: Any, path: Path | None = None) -> Any:
    """A notebook node from the frontend's JSON, its repro metadata validated as ``read_notebook``
    validates a file's (the open model may hold anything), or a one-line NotebookError."""
    if not isinstance(data, dict):
        raise NotebookError("the request carries no notebook")
    try:
        nb = nbformat.from_dict(data)
        if nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
            raise ValueError("not an nbformat 4 notebook")
        for cell in nb.cells:
            cell.setdefault("metadata", {})
            if cell.get("cell_type") == "code":
                cell.setdefault("outputs", [])
    except Exception as exc:
        raise NotebookError(f"not a valid notebook: {str(exc).splitlines()[0][:200]}") from None
    check_repro_metadata(nb, path or Path("notebook.ipynb"))
    return nb


def _store(folder: Path) -> tuple[Store | None, str | None]:
    try:
        return open_store(folder, create=False), None
    except StoreError as exc:
        return None, str(exc)


def _live(store: Any, digest: str, record: dict[str, Any], chain: list[Any]) -> dict[str, Any]:
    """All live variables after the cell: records hold deltas chained by ``state.previous``."""
    if state_of(record) is None:
        return {}
    full = full_state(store, record, chain[-1] if chain else None)
    chain[:] = [(digest, full)]
    return full


def provenance(nb: Any, folder: Path) -> dict[str, Any]:
    """The panel's provenance of the notebook as the editor holds it: its metadata, the environment
    summary and each code cell's record facts; a store or record problem is text, never raised."""
    nb_meta = nb.metadata.get(METADATA_KEY)
    store, problem = _store(folder) if nb_meta else (None, None)
    environment = None
    if store is not None and nb_meta and nb_meta.get("environment"):
        try:
            env = store.objects.get_environment(nb_meta["environment"])
            environment = {"digest": nb_meta["environment"], "summary": environment_facts(env)}
        except ReproError as exc:
            problem = str(exc)
    cells = []
    chain: list[tuple[str, dict[str, Any]]] = []  # the last whole state put together
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get(METADATA_KEY) or {}
        entry: dict[str, Any] = {
            "index": index,
            "id": cell.get("id"),
            "recorded": bool(meta),
            "stale": bool(meta) and source_changed(source_text(cell), meta.get("source")),
            "status": meta.get("status"),
            "seed": meta.get("seed"),
            "nondeterministic": bool(meta.get("nondeterministic")),
            "record": None,
            "problem": None,
        }
        if meta and store is not None:
            try:
                rec = store.objects.get_record(meta["record"])
                entry["record"] = {
                    "consumed": rec.get("rng", {}).get("consumed", []),
                    "unseeded": rec.get("unseeded", []),
                    "inputs": rec.get("inputs", []),
                    "params": rec.get("params", {}),
                    # what the badges say in words: an error, generators seeded for the cell
                    "error": rec.get("error"),
                    "auto_seeded": [c.get("call") for c in (rec.get("auto_seeded") or {}).get("calls", [])],
                    "nondeterminism_warnings": rec.get("nondeterminism_warnings") or [],
                    "variables": sorted(_live(store, meta["record"], rec, chain)),
                }
            except ReproError as exc:
                entry["problem"] = str(exc)
        cells.append(entry)
    return {
        "recorded": bool(nb_meta),
        "notebook": nb_meta,
        "environment": environment,
        "cells": cells,
        "store": {"problem": problem},
    }


def lineage(nb: Any, folder: Path) -> dict[str, Any]:
    """The cell/variable graph of the notebook's records (from its metadata alone without a store)."""
    store, _ = _store(folder)
    return graph_from(nb, store)


def envdiff(nb: Any, folder: Path, current: str) -> dict[str, Any]:
    """The recorded environment against ``current`` (the digest the kernel reported); ``StoreError``
    without a store, ``ObjectMissing`` for a digest the store does not hold."""
    nb_meta = nb.metadata.get(METADATA_KEY) or {}
    recorded = nb_meta.get("environment")
    store, problem = _store(folder)
    if store is None:
        raise StoreError(problem or "no store")
    new = store.objects.get_environment(current)
    old = store.objects.get_environment(recorded) if recorded else None
    return {"recorded": recorded, "current": current, "diff": environment_diff(old, new) if old else {}}


def panel(nb: Any, folder: Path, current: str | None) -> dict[str, Any]:
    """Everything the side panel shows for one refresh, from one request: provenance, lineage and, when
    the notebook is recorded and the kernel reported ``current`` (its environment digest), the
    environment diff.  A section that cannot be made says why in ``problems`` and the others still
    come; the panel used to POST the whole notebook three times per refresh."""
    problems: dict[str, str] = {}
    reply: dict[str, Any] = {"provenance": provenance(nb, folder), "lineage": None, "envdiff": None}
    try:
        reply["lineage"] = lineage(nb, folder)
    except ReproError as exc:
        problems["lineage"] = str(exc)
    if reply["provenance"]["recorded"] and current is not None:
        try:
            reply["envdiff"] = envdiff(nb, folder, current)
        except ReproError as exc:
            problems["envdiff"] = str(exc)
    reply["problems"] = problems
    return reply


def compare(recorded: Any, current: Any, path: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The drift report for a Lab re-execution: the same judge as ``jupyter repro verify``."""
    if len(recorded.cells) != len(current.cells):
        raise NotebookError("the notebook's cells changed during re-execution; compare again")
    options = options or {}
    base = CompareOptions()
    explicit = frozenset(k for k in ("rtol", "atol") if isinstance(options.get(k), (int, float)))
    if explicit:
        base = CompareOptions(
            rtol=float(options.get("rtol", base.rtol)), atol=float(options.get("atol", base.atol))
        )
    opts = options_from_pyproject(path.parent, base, explicit)
    nb_meta = recorded.metadata.get(METADATA_KEY) or {}
    store, _ = _store(path.parent) if nb_meta else (None, None)
    old_env = None
    if store is not None and nb_meta.get("environment"):
        try:
            old_env = store.objects.get_environment(nb_meta["environment"])
        except ReproError:
            old_env = None
    case = Case(path, recorded, [current], store, store, opts, old_env=old_env, recorded=bool(nb_meta))
    return for_lab(judge(replace(case, name=path.name)))


MILESTONE_ROLES = ("weights", "optimizer", "scheduler", "scaler", "loader", "probe", "rng")


def _cell_indexes(nb: Any) -> dict[str, int]:
    """Cell key -> 0-based position: a milestone's catalog row names the cell that saved it by key."""
    keys: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get(METADATA_KEY) or {}
        for key in (meta.get("cell_key"), cell.get("id")):
            if isinstance(key, str) and key:
                keys.setdefault(key, index)
    return keys


def _milestone_row(row: dict[str, Any], cells: dict[str, int]) -> dict[str, Any]:
    """What the panel shows of one milestone: the manifest's facts people ask about, not the manifest."""
    out: dict[str, Any] = {
        "name": row["name"],
        "manifest_digest": row["manifest_digest"],
        "created_at": row["created_at"],
        "cell_key": row["cell_key"],
        "cell_index": cells.get(row["cell_key"]) if row["cell_key"] else None,
    }
    if "error" in row:
        out["error"] = row["error"]
        return out
    manifest = row["manifest"]
    parts = manifest.get("parts") or {}
    out.update(
        extra=manifest.get("extra") or {},
        # no loader given: nothing says where the data stream stood, so exactness is unknown (None)
        exact_resume=manifest.get("exact_resume"),
        not_exact_because=manifest.get("not_exact_because"),
        parts=[role for role in MILESTONE_ROLES if role in parts]
        + sorted(r for r in parts if r not in MILESTONE_ROLES),
        size=sum(int(p.get("size") or 0) for p in parts.values() if isinstance(p, dict)),
        model=(manifest.get("model") or {}).get("class"),
        recorded=bool(manifest.get("recorded")),
        seeds=manifest.get("seeds") or {},
    )
    return out


def milestones(nb: Any, folder: Path, notebook: str) -> dict[str, Any]:
    """The notebook's training milestones (``repro_jupyter.checkpoint``), oldest first, for the panel.

    The same rows as ``jupyter repro checkpoints NB --json`` (``milestones.listing``), trimmed to what
    the panel shows, with the saving cell's position in the open notebook, plus the rows saved without
    a notebook name by one of its cells.  No store: no milestones.
    """
    from ..milestones.listing import milestones as listing

    store, problem = _store(folder)
    if store is None:
        return {"notebook": notebook, "milestones": [], "problem": problem}
    cells = _cell_indexes(nb)
    try:
        rows = listing(store, notebook)
        # A kernel that does not know its notebook (renamed since it started: JPY_SESSION_NAME still
        # names the old file) saves rows without one; the cell that saved them is ours by its id.
        orphans = {
            (r["name"], r["manifest"], r["created_at"])
            for r in store.catalog.milestones()
            if r["notebook"] is None and r["cell_key"] in cells
        }
        if orphans:
            rows += [
                r
                for r in listing(store, None)
                if (r["name"], r["manifest_digest"], r["created_at"]) in orphans
            ]
            rows.sort(key=lambda r: r["created_at"])
        rows = [_milestone_row(row, cells) for row in rows]
    finally:
        store.close()
    return {"notebook": notebook, "milestones": rows, "problem": None}


class KernelMissing(StoreError):
    """No such kernel (404, like an object that is not there)."""


# The variables a Lab replay fixes before the kernel restarts (seeding.kernel_env decides their values).
KERNEL_ENV_KEYS = ("PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG")


def set_kernel_env(kernel_manager: Any, kernel_id: Any, deterministic: Any) -> dict[str, Any]:
    """Give a running kernel the environment of a replay for its *next* start.

    The Lab replay restarts the kernel through the server, so only the server can change what
    the new process sees: ``PYTHONHASHSEED`` (set iteration order of strings must match the
    recording) and, in deterministic mode, ``CUBLAS_WORKSPACE_CONFIG`` (read when the CUDA context
    is created, too late from inside the kernel).  ``KernelManager.update_env`` (jupyter_client
    >= 8.5) changes the launch environment kept for restarts; a kernel started without an
    explicit environment (``POST /api/kernels``) inherits the server's, so it gets that plus ours.
    """
    from ..seeding import kernel_env

    if not isinstance(kernel_id, str) or not kernel_id:
        raise NotebookError("'kernel_id' must be a kernel id")
    if not isinstance(deterministic, bool):
        raise NotebookError("'deterministic' must be true or false")
    try:
        km = kernel_manager.get_kernel(kernel_id)
    except KeyError:
        raise KernelMissing(f"no running kernel {kernel_id}") from None
    env = kernel_env(deterministic)
    update = {key: env[key] for key in KERNEL_ENV_KEYS if key in env}
    launch = getattr(km, "_launch_args", None)
    if isinstance(launch, dict) and not isinstance(launch.get("env"), dict):
        # update_env only updates an environment given at launch; without one the kernel got
        # the server's (jupyter_client's default), which we make explicit.
        launch["env"] = dict(os.environ)
    km.update_env(env=update)
    return {"kernel_id": kernel_id, "env": update}
