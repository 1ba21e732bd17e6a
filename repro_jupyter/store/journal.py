"""The catalog of a team store: a local SQLite catalog merged from an immutable remote journal.

SQLite cannot be shared through object storage, so each machine keeps its own
catalog (in the local cache) and every catalog write is also queued, in the same
transaction, as an *op* in ``journal_outbox``.  ``push`` uploads the objects the
queued ops refer to, then publishes the ops as one journal entry
``catalog/<sha256>.json`` and forgets them; ``pull`` imports every entry whose name
is not yet in ``journal_imported``.  Entries from many writers arrive in any order
and an op may be published twice (a crash between the upload and the
bookkeeping), so applying an op is idempotent and order-free (``IMPORT_SQL``).
Outbox rows survive a crash or a failed upload: the next flush, or
``jupyter repro sync``, sends them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import digests
from ..canonical import canonical_bytes
from ..errors import ObjectCorrupt, ObjectMissing, ReproWarning, StoreError
from .catalog import Catalog
from .objects import _hex
from .remote import one_line

if TYPE_CHECKING:
    from . import Store
    from .remote import RemoteTier

JOURNAL_FORMAT = "repro-jupyter/catalog-journal/v1"
MAX_OPS_PER_ENTRY = 2000

JOURNAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    writer TEXT NOT NULL,
    op TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_imported (name TEXT PRIMARY KEY, imported_at REAL NOT NULL);
"""

IMPORT_SQL = {
    "start_run": (
        "INSERT INTO runs(run_id, notebook, kind, master_seed, started_at, host, pid, status)"
        " VALUES (:run_id, :notebook, :kind, :master_seed, :started_at, :host, :pid, 'running')"
        " ON CONFLICT(run_id) DO UPDATE SET notebook = excluded.notebook, kind = excluded.kind,"
        " master_seed = excluded.master_seed, started_at = excluded.started_at,"
        " host = excluded.host, pid = excluded.pid"
    ),
    # a finish seen before its start (another entry, listed first) creates the row the start fills in
    "finish_run": (
        "INSERT INTO runs(run_id, kind, started_at, finished_at, status)"
        " VALUES (:run_id, 'unknown', :finished_at, :finished_at, :status)"
        " ON CONFLICT(run_id) DO UPDATE SET finished_at = excluded.finished_at, status = excluded.status"
    ),
    "add_environment": "INSERT OR IGNORE INTO environments(digest, first_seen) VALUES (:digest, :first_seen)",
    "add_cell_execution": (
        "INSERT INTO cell_executions(run_id, cell_key, record, environment, seed, started_at,"
        " duration_s, status) SELECT :run_id, :cell_key, :record, :environment, :seed, :started_at,"
        " :duration_s, :status WHERE NOT EXISTS (SELECT 1 FROM cell_executions"
        " WHERE run_id = :run_id AND cell_key = :cell_key AND started_at = :started_at)"
    ),
    "add_checkpoint": (
        "INSERT OR IGNORE INTO checkpoints(fingerprint, format, object, meta, size)"
        " VALUES (:fingerprint, :format, :object, :meta, :size)"
    ),
    # a milestone is its (name, manifest, time): seen twice, imported once
    "add_milestone": (
        "INSERT INTO milestones(notebook, name, manifest, run_id, cell_key, created_at)"
        " SELECT :notebook, :name, :manifest, :run_id, :cell_key, :created_at WHERE NOT EXISTS"
        " (SELECT 1 FROM milestones WHERE name = :name AND manifest = :manifest"
        " AND created_at = :created_at AND notebook IS :notebook)"
    ),
}


class JournaledCatalog(Catalog):
    """A catalog whose writes are also queued for the remote journal (same transaction)."""

    def __init__(self, path: Path, url: str) -> None:
        super().__init__(path)
        self.writer_id = uuid.uuid4().hex
        self._conn.executescript(JOURNAL_SCHEMA)
        # the credential-free URL only (location.redact_url): a cache names the store it mirrors
        self._conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('remote', ?)", (url,))

    def _journal(self, op: str, args: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT INTO journal_outbox(writer, op) VALUES (?, ?)",
            (self.writer_id, json.dumps({"op": op, "args": args}, sort_keys=True)),
        )

    def pending(self, writer: str | None, limit: int = MAX_OPS_PER_ENTRY) -> list[tuple[int, dict[str, Any]]]:
        """Queued ops, oldest first: this writer's, or everyone's (``writer=None``)."""
        sql = "SELECT seq, op FROM journal_outbox"
        args: tuple[Any, ...] = ()
        if writer is not None:
            sql, args = sql + " WHERE writer = ?", (writer,)
        rows = self._conn.execute(sql + " ORDER BY seq LIMIT ?", (*args, limit)).fetchall()
        return [(int(r["seq"]), json.loads(r["op"])) for r in rows]

    def pending_count(self) -> int:
        """How many catalog ops, of any writer of this cache, are still waiting for upload."""
        return int(self._conn.execute("SELECT COUNT(*) FROM journal_outbox").fetchone()[0])

    def mark_published(self, seqs: list[int], name: str) -> None:
        """Forget the published ops and remember the entry ``name`` as imported
        (one transaction), so ``pull`` does not apply our own entry again."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany("DELETE FROM journal_outbox WHERE seq = ?", [(s,) for s in seqs])
            self._conn.execute(
                "INSERT OR IGNORE INTO journal_imported(name, imported_at) VALUES (?, ?)", (name, time.time())
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def mark_seen(self, names: list[str]) -> None:
        """Remember refused entry ``names`` as imported, so
        each is warned about once rather than on every open."""
        with self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO journal_imported(name, imported_at) VALUES (?, ?)",
                [(n, time.time()) for n in names],
            )

    def imported_names(self) -> set[str]:
        """Names of the journal entries already applied to (or refused by, or published from) this catalog."""
        return {r[0] for r in self._conn.execute("SELECT name FROM journal_imported")}

    def import_entries(self, entries: dict[str, bytes]) -> tuple[int, dict[str, str]]:
        """Apply journal entries (one transaction; each entry all or nothing).

        Returns (ops applied, {entry name: why refused}).  An entry that is not well formed, or
        whose ops do not fit the catalog, is refused on its own and remembered, so one bad entry
        on a shared store (a bug, a newer writer, a planted file) never blocks the others.
        """
        applied = 0
        refused: dict[str, str] = {}
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for name, data in entries.items():
                self._conn.execute("SAVEPOINT entry")
                try:
                    applied += self._apply(data)
                except (ValueError, TypeError, KeyError, StoreError, sqlite3.Error) as exc:
                    self._conn.execute("ROLLBACK TO entry")
                    refused[name] = one_line(exc)
                self._conn.execute("RELEASE entry")
                self._conn.execute(
                    "INSERT OR IGNORE INTO journal_imported(name, imported_at) VALUES (?, ?)",
                    (name, time.time()),
                )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        return applied, refused

    def _apply(self, data: bytes) -> int:
        entry = json.loads(data)
        ops = entry.get("ops") if isinstance(entry, dict) and entry.get("format") == JOURNAL_FORMAT else None
        if not isinstance(ops, list):
            raise ValueError(f"not a {JOURNAL_FORMAT} entry")
        applied = 0
        for op in ops:
            if not isinstance(op, dict):
                raise ValueError("an op is not an object")
            name: Any = op.get("op")  # any JSON value: one that names no op finds no SQL
            sql = IMPORT_SQL.get(name)
            if sql is None:  # ops of a newer version are skipped, not fatal
                continue
            self._conn.execute(sql, checked_args(name, op.get("args")))
            applied += 1
        return applied


_PARAMS = {op: frozenset(re.findall(r":(\w+)", sql)) for op, sql in IMPORT_SQL.items()}
_DIGEST_ARGS = {"record", "environment", "object", "digest"}


def checked_args(op: Any, args: Any) -> dict[str, Any]:
    """The args an op needs, each a JSON scalar, digests well formed; ValueError otherwise."""
    if not isinstance(args, dict):
        raise ValueError(f"{op}: args are not an object")
    missing = _PARAMS[op] - set(args)
    if missing:
        raise ValueError(f"{op}: missing {sorted(missing)[0]!r}")
    out = {k: args[k] for k in _PARAMS[op]}
    for key, value in out.items():
        if not isinstance(value, (str, int, float, type(None))):
            raise ValueError(f"{op}: {key!r} is not a plain value")
        if key in _DIGEST_ARGS:
            _hex(str(value))  # StoreError for anything but an object id (sha256: or blake3:)
    return out


@dataclass
class PushReport:
    """What ``push`` sent: journal entries and ops published, objects
    uploaded, and the ids it could not send (missing or corrupt locally)."""

    entries: int = 0
    ops: int = 0
    objects: int = 0  # objects sent (those already on the remote are not counted)
    unavailable: list[str] = field(default_factory=list)  # missing or corrupt in the local cache


def _referenced(store: Store, ops: list[dict[str, Any]]) -> set[str]:
    """Objects the ops refer to, and the objects their records refer to in turn."""
    from .maintenance import references

    found: set[str] = set()
    for op in ops:
        args = op.get("args") or {}
        for key in ("record", "environment", "digest", "object", "manifest"):
            if digests.is_digest(args.get(key)):
                found.add(args[key])
        if op.get("op") == "add_cell_execution":
            try:
                found |= references(store.objects.local.get_json(args["record"]))  # type: ignore[attr-defined]
            except StoreError:
                pass  # reported below as unavailable
    return found


def push(store: Store, *, everyone: bool = False) -> PushReport:
    """Upload queued catalog ops and their objects: objects first, then the journal entry.

    Only this writer's ops unless ``everyone``: what any kernel of this cache left behind
    (crashed, or the remote was down at its exit).  Two kernels may then publish the same
    ops; every import op is idempotent, so that costs a duplicate entry, never a record.
    Raises StoreError when the remote fails; what was not sent stays queued.
    """
    catalog = store.catalog
    remote = store.remote
    assert isinstance(catalog, JournaledCatalog) and remote is not None
    report = PushReport()
    try:
        _push_all(store, catalog, remote, report, everyone)
    except StoreError as exc:
        retry = "kept in the local cache; any kernel's next flush there, or `jupyter repro sync`, retries"
        raise StoreError(f"{exc} ({retry})") from None
    if report.unavailable:
        raise StoreError(
            f"{len(report.unavailable)} object(s) the catalog refers to are missing or corrupt in the local "
            f"cache {store.root} and were not uploaded to {remote.url} (first: {report.unavailable[0]})"
        )
    return report


def _push_all(
    store: Store, catalog: JournaledCatalog, remote: RemoteTier, report: PushReport, everyone: bool
) -> None:
    while rows := catalog.pending(None if everyone else catalog.writer_id):
        ops = [op for _, op in rows]
        for digest in sorted(_referenced(store, ops)):
            try:
                path = store.objects.local.verified_path(digest)  # type: ignore[attr-defined]
            except (ObjectMissing, ObjectCorrupt):
                report.unavailable.append(digest)  # never upload a corrupt copy: names are forever
                continue
            report.objects += remote.upload(digest, path)
        entry = {"format": JOURNAL_FORMAT, "writer": catalog.writer_id, "ops": ops}
        name = remote.publish(canonical_bytes(entry))
        catalog.mark_published([seq for seq, _ in rows], name)
        report.entries += 1
        report.ops += len(ops)


def pull(store: Store) -> int:
    """Import every journal entry not seen yet into the local catalog; the number imported.

    Uses its own connection, so any thread may call it (the store's catalog
    connection belongs to the background writer's thread).
    """
    remote = store.remote
    assert remote is not None
    catalog = JournaledCatalog(store.root / "catalog.sqlite", remote.url)
    try:
        seen = catalog.imported_names()
        new = [name for name in remote.journal_names() if name not in seen]
        if new:
            entries, refused = remote.read_journal(new)
            refused.update(catalog.import_entries(entries)[1])
            for name, why in sorted(refused.items()):
                message = f"{remote.url}: journal entry {name} refused: {why}"
                warnings.warn(message, ReproWarning, stacklevel=2)
            if refused:  # remembered as seen: warned once, not on every open
                catalog.mark_seen(sorted(refused))
        return len(new)
    finally:
        catalog.close()


__all__ = ["JournaledCatalog", "PushReport", "push", "pull", "JOURNAL_FORMAT"]
