"""``fsck --rebuild-catalog``: give the catalog back the rows it lost, from the objects themselves.

Records and environments are self-describing (``kind``, and a record names its cell, seed,
status and environment), so a catalog that was deleted, truncated to zero bytes, replaced
by a copy made without its WAL, or is not a database any more can be rebuilt: every record
no ``cell_executions`` row names gets one (in one run of kind ``rebuilt``, started at the
object's mtime: when it was written), every environment a row in ``environments``.
Timestamps and durations of the lost runs are gone for good; the records are not.

Training milestones (``repro_jupyter.checkpoint``) are: their manifest (``kind: milestone``)
names the milestone and the cell that saved it; the notebook is found again by that cell's id
among the notebooks beside the store (none found: the row names no notebook, but is kept).

Checkpoint payloads are not self-describing (the lost ``checkpoints`` rows mapped a value's
fingerprint to them), so they cannot be attributed again; rather than let ``gc`` collect them
they are listed in ``kept_objects``, which ``gc`` treats as roots.
A catalog file that is not a database is moved aside (``catalog.sqlite.broken-<time>``), never deleted.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from ..errors import StoreError
from . import Store
from .maintenance import DIGEST, _objects, reachable, read_json_object

KEPT_REASON = "present when the catalog was rebuilt; no record names it (a checkpoint whose row was lost?)"


@dataclass
class RebuildReport:
    """What ``fsck --rebuild-catalog`` added back: catalog rows for cell executions, environments
    and milestones, objects kept as gc roots, and where an unreadable catalog was moved."""

    records: int = 0  # cell executions added
    environments: int = 0  # environments added
    milestones: int = 0  # milestone rows added
    kept: int = 0  # objects no record names, kept for gc
    moved_aside: str | None = None  # where a catalog that was not a database went


def _usable_catalog(store: Store) -> str | None:
    """Open the catalog; a file that is not a database is moved aside (returned) and a new one made."""
    try:
        store.catalog._conn.execute("SELECT COUNT(*) FROM cell_executions").fetchone()
        return None
    except (StoreError, sqlite3.Error):
        store.close()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    main = store.root / "catalog.sqlite"
    aside = main.with_name(f"catalog.sqlite.broken-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{main}{suffix}")
        if src.exists():
            os.replace(src, f"{aside}{suffix}")
    store.catalog  # noqa: B018 - a fresh, empty catalog
    return str(aside)


def _record_row(value: Any) -> tuple[str, int | None, str, str] | None:
    """(cell_key, seed, environment, status) of a self-describing record, or None if it is not one."""
    if not isinstance(value, dict) or value.get("kind") != "cell_record":
        return None
    key, env, seed, status = (
        value.get("cell_key"),
        value.get("environment"),
        value.get("seed"),
        value.get("status"),
    )
    if not isinstance(key, str) or not isinstance(env, str) or not DIGEST.match(env):
        return None
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32 else None
    return key, seed, env, status if status in ("ok", "error") else "ok"


def rebuild_catalog(store: Store) -> RebuildReport:
    """Add the rows the catalog lacks for the records and environments in ``store`` (idempotent)."""
    if store.remote is not None:
        raise StoreError(
            f"{store.describe()} is a team store: its cache's catalog comes back with `jupyter repro sync`"
        )
    report = RebuildReport(moved_aside=_usable_catalog(store))
    conn = store.catalog._conn
    present = _objects(store)
    known_records = {r[0] for r in conn.execute("SELECT record FROM cell_executions")}
    known_envs = {r[0] for r in conn.execute("SELECT digest FROM environments")}
    known_milestones = {r[0] for r in conn.execute("SELECT manifest FROM milestones")}
    milestones: list[tuple[Any, ...]] = []
    executions: list[tuple[Any, ...]] = []
    environments: list[tuple[str, float]] = []
    for digest, path in sorted(present.items()):
        if digest in known_records or digest in known_envs:
            continue
        value = read_json_object(path)
        mtime = path.stat().st_mtime
        row = _record_row(value)
        if row is not None:
            key, seed, env, status = row
            executions.append((key, digest, env, seed, mtime, 0.0, status))
        elif isinstance(value, dict) and value.get("kind") == "environment":
            environments.append((digest, mtime))
        elif _is_milestone(value) and digest not in known_milestones:
            cell = value.get("cell")
            cell_key = cell.get("key") if isinstance(cell, dict) else None
            cell_key = cell_key if isinstance(cell_key, str) else None
            milestones.append((value["name"], digest, cell_key, mtime))
    run_id = f"rebuilt-{uuid.uuid4().hex}"
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        if executions:
            conn.execute(
                "INSERT INTO runs(run_id, notebook, kind, master_seed, started_at, finished_at, host, pid,"
                " status) VALUES (?, NULL, 'rebuilt', NULL, ?, ?, ?, ?, 'rebuilt')",
                (run_id, min(e[4] for e in executions), now, socket.gethostname(), os.getpid()),
            )
            conn.executemany(
                "INSERT INTO cell_executions(run_id, cell_key, record, environment, seed, started_at,"
                " duration_s, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, *e) for e in executions],
            )
        conn.executemany("INSERT OR IGNORE INTO environments(digest, first_seen) VALUES (?, ?)", environments)
        owners = _notebooks_by_cell(store.root.parent) if milestones else {}
        conn.executemany(
            "INSERT INTO milestones(notebook, name, manifest, run_id, cell_key, created_at)"
            " VALUES (?, ?, ?, NULL, ?, ?)",
            [(owners.get(key or ""), name, digest, key, mtime) for name, digest, key, mtime in milestones],
        )
        live, _ = reachable(store, present)  # this connection sees the rows just added
        orphans = sorted(set(present) - live)
        conn.executemany(
            "INSERT OR IGNORE INTO kept_objects(object, reason) VALUES (?, ?)",
            [(d, KEPT_REASON) for d in orphans],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    report.records, report.environments, report.kept = len(executions), len(environments), len(orphans)
    report.milestones = len(milestones)
    store.catalog.checkpoint_wal()
    return report


def _is_milestone(value: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and value.get("kind") == "milestone" and isinstance(value.get("name"), str)


def _notebooks_by_cell(folder: Path) -> dict[str, str]:
    """``{cell id: notebook file name}`` for the notebooks in ``folder`` (unreadable ones skipped)."""
    import json

    owners: dict[str, str] = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells") or []
        except (OSError, ValueError, AttributeError):
            continue
        for cell in cells:
            if isinstance(cell, dict) and isinstance(cell.get("id"), str):
                owners.setdefault(cell["id"], path.name)
    return owners
