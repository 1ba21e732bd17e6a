"""The SQLite catalog: runs, cell executions and environments.

The catalog indexes the immutable objects and is the only place that holds
volatile facts (timestamps, durations, host name): the append-only run log.
WAL mode and a busy timeout let several kernels record into one store; every
write is one short transaction.  Closing a catalog checkpoints the WAL into
``catalog.sqlite`` (``wal_checkpoint(TRUNCATE)``): a kernel that exits without
SQLite's own last-connection checkpoint would otherwise leave every row of the run
in ``catalog.sqlite-wal``, and copying ``catalog.sqlite`` alone would lose them.
"""

from __future__ import annotations

import socket
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    notebook TEXT,
    kind TEXT NOT NULL,
    master_seed INTEGER,
    started_at REAL NOT NULL,
    finished_at REAL,
    host TEXT,
    pid INTEGER,
    status TEXT
);
CREATE TABLE IF NOT EXISTS cell_executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    cell_key TEXT NOT NULL,
    record TEXT NOT NULL,
    environment TEXT NOT NULL,
    seed INTEGER,
    started_at REAL NOT NULL,
    duration_s REAL NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cell_executions_by_cell ON cell_executions(cell_key, started_at);
CREATE INDEX IF NOT EXISTS cell_executions_by_record ON cell_executions(record);
CREATE TABLE IF NOT EXISTS environments (
    digest TEXT PRIMARY KEY,
    first_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    fingerprint TEXT NOT NULL,
    format TEXT NOT NULL,
    object TEXT NOT NULL,
    meta TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, format)
);
CREATE TABLE IF NOT EXISTS milestones (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notebook TEXT,
    name TEXT NOT NULL,
    manifest TEXT NOT NULL,
    run_id TEXT,
    cell_key TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS milestones_by_name ON milestones(notebook, name, created_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kept_objects (object TEXT PRIMARY KEY, reason TEXT NOT NULL);
"""

BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_WAIT_MS = 2_000
CHECKPOINT_FIELDS = ("fingerprint", "format", "object", "meta", "size")
RUN_FIELDS = ("run_id", "notebook", "kind", "master_seed", "started_at", "host", "pid")
MILESTONE_FIELDS = ("notebook", "name", "manifest", "run_id", "cell_key", "created_at")
CELL_EXECUTION_FIELDS = (
    "run_id",
    "cell_key",
    "record",
    "environment",
    "seed",
    "started_at",
    "duration_s",
    "status",
)


class Catalog:
    """The run log of one store: SQLite in WAL mode, every write one short transaction, so
    several kernels can record into it at once; sqlite3.Error when the file cannot be opened."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._wrote = False  # close() checkpoints the WAL only for a connection that wrote
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            pass  # e.g. a network file system without shared memory: stay in rollback mode
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._conn:
            self._conn.executescript(SCHEMA)
            self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1')")

    def checkpoint_wal(self) -> None:
        """Move every committed row from ``catalog.sqlite-wal`` into ``catalog.sqlite`` and empty the WAL.

        Best effort, waiting at most ``CHECKPOINT_WAIT_MS`` for another connection's transaction (the
        next close finishes the job); a busy or read-only catalog is no reason to fail a run.
        """
        try:
            self._conn.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:
            pass
        finally:
            try:
                self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            except sqlite3.Error:
                pass

    def close(self) -> None:
        """Close; a connection that wrote first checkpoints its rows into ``catalog.sqlite``."""
        if self._wrote:
            self.checkpoint_wal()
        self._conn.close()

    def is_empty(self) -> bool:
        """True when the catalog names nothing (a lost or freshly created ``catalog.sqlite``)."""
        tables = ("cell_executions", "environments", "checkpoints", "kept_objects", "milestones")
        query = " OR ".join(f"EXISTS(SELECT 1 FROM {t})" for t in tables)
        return not self._conn.execute(f"SELECT {query}").fetchone()[0]

    def _write(self, sql: str, args: tuple[Any, ...], op: tuple[str, dict[str, Any]] | None = None) -> None:
        """One short transaction; ``op`` names the change for a team store's journal (same transaction)."""
        self._wrote = True
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute(sql, args)
            if op is not None:
                self._journal(*op)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _journal(self, op: str, args: dict[str, Any]) -> None:
        """A local store keeps no journal; ``journal.JournaledCatalog`` queues ``op`` for upload."""

    def start_run(
        self, notebook: str | None, kind: str, master_seed: int | None, run_id: str | None = None
    ) -> str:
        """Open a run row (status 'running', with host, pid and wall-clock
        start); returns ``run_id``, a new uuid hex when None."""
        run_id = run_id or uuid.uuid4().hex
        row = (run_id, notebook, kind, master_seed, time.time(), socket.gethostname(), _pid())
        self._write(
            "INSERT INTO runs(run_id, notebook, kind, master_seed, started_at, host, pid, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'running')",
            row,
            ("start_run", dict(zip(RUN_FIELDS, row, strict=True))),
        )
        return run_id

    def finish_run(self, run_id: str, status: str = "finished") -> None:
        """Stamp the run's end time and final ``status``; an unknown ``run_id`` changes nothing."""
        now = time.time()
        self._write(
            "UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?",
            (now, status, run_id),
            ("finish_run", {"run_id": run_id, "finished_at": now, "status": status}),
        )

    def add_environment(self, digest: str) -> None:
        """Note an environment snapshot object as in use (a gc
        root); idempotent, ``first_seen`` keeps the first time."""
        now = time.time()
        self._write(
            "INSERT OR IGNORE INTO environments(digest, first_seen) VALUES (?, ?)",
            (digest, now),
            ("add_environment", {"digest": digest, "first_seen": now}),
        )

    def add_cell_execution(
        self,
        run_id: str,
        cell_key: str,
        record: str,
        environment: str,
        seed: int | None,
        started_at: float,
        duration_s: float,
        status: str,
    ) -> None:
        """Append one execution to the run log: record and environment object ids,
        the seed it ran with, its start (epoch seconds) and duration in seconds."""
        row = (run_id, cell_key, record, environment, seed, started_at, duration_s, status)
        self._write(
            "INSERT INTO cell_executions(run_id, cell_key, record, environment, seed, started_at,"
            " duration_s, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            row,
            ("add_cell_execution", dict(zip(CELL_EXECUTION_FIELDS, row, strict=True))),
        )

    def add_checkpoint(self, fingerprint: str, fmt: str, obj: str, meta: dict[str, Any], size: int) -> None:
        """Index a stored checkpoint object by value fingerprint and
        format; a pair already indexed keeps its first object."""
        import json

        row = (fingerprint, fmt, obj, json.dumps(meta, sort_keys=True), size)
        self._write(
            "INSERT OR IGNORE INTO checkpoints(fingerprint, format, object, meta, size)"
            " VALUES (?, ?, ?, ?, ?)",
            row,
            ("add_checkpoint", dict(zip(CHECKPOINT_FIELDS, row, strict=True))),
        )

    def checkpoint(self, fingerprint: str) -> dict[str, Any] | None:
        """Where the value with this fingerprint was checkpointed (any format), or None."""
        import json

        row = self._conn.execute(
            "SELECT * FROM checkpoints WHERE fingerprint = ? ORDER BY format LIMIT 1", (fingerprint,)
        ).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["meta"] = json.loads(out["meta"])
        return out

    def add_milestone(
        self, notebook: str | None, name: str, manifest: str, run_id: str | None, cell_key: str | None
    ) -> None:
        """A named training milestone (``repro_jupyter.checkpoint``): the name points at its manifest
        object; a name saved again (a re-run) gets a new row, and the latest row wins."""
        row = (notebook, name, manifest, run_id, cell_key, time.time())
        self._write(
            "INSERT INTO milestones(notebook, name, manifest, run_id, cell_key, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            row,
            ("add_milestone", dict(zip(MILESTONE_FIELDS, row, strict=True))),
        )

    def milestones(self, notebook: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        """Milestone rows, oldest first; ``notebook``/``name`` filter (None: any)."""
        where, args = [], []
        for column, value in (("notebook", notebook), ("name", name)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT * FROM milestones" + (" WHERE " + " AND ".join(where) if where else "")
        return [dict(r) for r in self._conn.execute(sql + " ORDER BY created_at, id", args)]

    def cell_history(self, cell_key: str) -> list[dict[str, Any]]:
        """Every logged execution of ``cell_key`` across all
        runs, oldest first, as plain dicts of catalog columns."""
        rows = self._conn.execute(
            "SELECT * FROM cell_executions WHERE cell_key = ? ORDER BY started_at", (cell_key,)
        ).fetchall()
        return [dict(r) for r in rows]

    def execution_window(
        self, records: list[str], before: float | None = None, latest_run: bool = False
    ) -> tuple[float, float] | None:
        """When the executions that produced ``records`` ran: (first start, last end), or None.

        ``before`` keeps only executions that started earlier (the recorded run, not the one
        verifying it now); ``latest_run`` keeps only the most recent run among them (a replay).
        Used to tell a cell's own clock (a time printed while it ran) from a computed date.
        """
        if not records:
            return None
        marks = ",".join("?" for _ in records)
        where = f"record IN ({marks})" + (" AND started_at < ?" if before is not None else "")
        args: tuple[Any, ...] = (*records, before) if before is not None else tuple(records)
        if latest_run:
            row = self._conn.execute(
                f"SELECT run_id FROM cell_executions WHERE {where} ORDER BY started_at DESC LIMIT 1", args
            ).fetchone()
            if row is None:
                return None
            where, args = where + " AND run_id = ?", (*args, row[0])
        row = self._conn.execute(
            f"SELECT MIN(started_at), MAX(started_at + duration_s) FROM cell_executions WHERE {where}", args
        ).fetchone()
        return (float(row[0]), float(row[1])) if row and row[0] is not None else None

    def runs(self) -> list[dict[str, Any]]:
        """Every run row, oldest first; ``status`` stays
        'running' for a kernel that never finished its run."""
        return [dict(r) for r in self._conn.execute("SELECT * FROM runs ORDER BY started_at")]


def _pid() -> int:
    import os

    return os.getpid()
