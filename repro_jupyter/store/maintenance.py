"""Store maintenance: ``fsck`` (is every object intact and every reference present?) and ``gc``.

Reachability: roots are the records and environments named in the catalog; inside
a reachable JSON object, the values under the keys in ``REFERENCE_KEYS`` (at any
depth) are references to further objects.  Other digests in records (the source,
outputs, RNG states, input files) are content digests, not objects.
``gc`` deletes only unreachable objects older than a grace period: a writer puts
an object on disk *before* the catalog row that references it, so a fresh object
with no row yet may belong to a writer that is still running.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import Store

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
REFERENCE_KEYS = frozenset({"environment", "record", "object", "checkpoint"})


def references(value: object) -> set[str]:
    """Object digests referenced by a record (values under REFERENCE_KEYS, at any depth)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key in REFERENCE_KEYS and isinstance(child, str) and DIGEST.match(child):
                    found.add(child)
                elif isinstance(child, (dict, list)):
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(c for c in item if isinstance(c, (dict, list)))
    return found


GRACE_SECONDS = 3600


@dataclass
class FsckReport:
    objects: int = 0
    corrupt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # referenced by the catalog or a record, absent
    temporary: list[str] = field(default_factory=list)  # leftovers of interrupted writes
    quarantined: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.corrupt or self.missing)


def _objects(store: Store) -> dict[str, Path]:
    found = {}
    if not store.objects.objects.is_dir():
        return found
    for sub in store.objects.objects.iterdir():
        if not sub.is_dir() or len(sub.name) != 2:
            continue
        for path in sub.iterdir():
            if path.name.startswith(".tmp-"):
                continue
            found["sha256:" + sub.name + path.name] = path
    return found


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _roots(store: Store) -> set[str]:
    conn = store.catalog._conn
    roots = {r[0] for r in conn.execute("SELECT record FROM cell_executions")}
    roots |= {r[0] for r in conn.execute("SELECT environment FROM cell_executions")}
    roots |= {r[0] for r in conn.execute("SELECT digest FROM environments")}
    roots |= {r[0] for r in conn.execute("SELECT object FROM checkpoints")}
    return roots


def reachable(store: Store, present: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(reachable digests, referenced-but-missing digests)."""
    seen: set[str] = set()
    missing: set[str] = set()
    todo = list(_roots(store))
    while todo:
        digest = todo.pop()
        if digest in seen:
            continue
        seen.add(digest)
        path = present.get(digest)
        if path is None:
            missing.add(digest)
            continue
        if path.stat().st_size > 16 * 1024 * 1024:
            continue  # big binary payloads (checkpoints) hold no references
        try:
            value = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        todo.extend(d for d in references(value) if d not in seen)
    return seen, missing


def fsck(store: Store, quarantine: bool = False) -> FsckReport:
    report = FsckReport()
    present = _objects(store)
    report.objects = len(present)
    for digest, path in sorted(present.items()):
        if _hash_file(path) != digest:
            report.corrupt.append(digest)
    for tmp in store.objects.objects.glob("*/.tmp-*"):
        report.temporary.append(str(tmp.relative_to(store.root)))
    _, missing = reachable(store, {d: p for d, p in present.items() if d not in report.corrupt})
    if store.remote is not None:  # a team store's cache holds only what was read here: absent is not lost
        missing = {d for d in missing if not store.remote.has(d)}
    report.missing = sorted(missing - set(report.corrupt))
    if quarantine and (report.corrupt or report.temporary):
        target = store.root / "quarantine" / time.strftime("%Y%m%dT%H%M%S")
        target.mkdir(parents=True, exist_ok=True)
        for digest in report.corrupt:
            shutil.move(str(present[digest]), target / digest.split(":", 1)[1])
            report.quarantined.append(digest)
        for rel in report.temporary:
            shutil.move(str(store.root / rel), target / Path(rel).name)
            report.quarantined.append(rel)
    return report


@dataclass
class GcReport:
    objects: int = 0
    reachable: int = 0
    removed: list[str] = field(default_factory=list)
    kept_young: int = 0
    bytes_freed: int = 0


def gc(store: Store, grace_seconds: float = GRACE_SECONDS, dry_run: bool = False) -> GcReport:
    present = _objects(store)
    live, _missing = reachable(store, present)
    report = GcReport(objects=len(present), reachable=len(live & set(present)))
    now = time.time()
    for digest, path in present.items():
        if digest in live:
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if now - stat.st_mtime < grace_seconds:
            report.kept_young += 1
            continue
        report.removed.append(digest)
        report.bytes_freed += stat.st_size
        if not dry_run:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    return report
