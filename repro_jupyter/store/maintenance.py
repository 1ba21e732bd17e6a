"""Store maintenance: ``fsck`` (is every object intact and every reference present?) and ``gc``.

Roots are the records, environments and checkpoints named in the catalog, the objects
``fsck --rebuild-catalog`` kept (``kept_objects``), and every digest written in a notebook
beside the store (cell and notebook ``repro_jupyter`` pointers): the notebook is the one copy
of its pointers that no store accident can take away.  Inside a reachable JSON object, the
values under ``REFERENCE_KEYS`` are references that must exist (``fsck`` reports them missing);
any other digest-shaped string that names a present object keeps it alive too, so a pointer
under a key added later is never collected by an older ``gc``.

``gc`` deletes only unreachable objects older than a grace period (a writer puts an object on
disk *before* the catalog row that references it).  It refuses (``StoreError``) when the
catalog is missing or empty while objects exist (it would delete every record), and when an
older self-describing record or environment is not in the catalog: the run log is append-only,
so that is a lost row (a crash, a catalog copied without its WAL), and the checkpoints of that
run may have lost theirs too.  ``fsck --rebuild-catalog`` gives the rows back first.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import digests
from ..errors import StoreError
from . import Store

DIGEST = digests.DIGEST_RE
DIGEST_ANYWHERE = digests.DIGEST_ANYWHERE_RE
# "previous": a record's state chain (state_chain.py)
REFERENCE_KEYS = frozenset({"environment", "record", "object", "checkpoint", "previous"})
SELF_DESCRIBING = frozenset({"cell_record", "environment"})
MAX_JSON_BYTES = 16 * 1024 * 1024  # bigger objects are binary payloads (checkpoints): no references
GRACE_SECONDS = 3600


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


def notebooks_beside(folders: Iterable[Path]) -> list[Path]:
    """The notebooks (and Jupyter's checkpoint copies of them) directly in ``folders``."""
    found: set[Path] = set()
    for folder in folders:
        for pattern in ("*.ipynb", ".ipynb_checkpoints/*.ipynb"):
            try:
                found.update(p.resolve() for p in Path(folder).glob(pattern) if p.is_file())
            except OSError:
                continue
    return sorted(found)


def notebook_roots(folders: Iterable[Path]) -> set[str]:
    """Every digest written anywhere in those notebooks: a superset of their pointers, read as bytes so
    a notebook that does not parse (hand-edited, half-merged) still protects its records."""
    roots: set[str] = set()
    for path in notebooks_beside(folders):
        try:
            roots.update(m.decode() for m in DIGEST_ANYWHERE.findall(path.read_bytes()))
        except OSError:
            continue
    return roots


def notebook_pointers(folders: Iterable[Path]) -> dict[str, str]:
    """digest -> notebook name, for the ``record``/``environment`` pointers of notebooks that parse."""
    pointers: dict[str, str] = {}
    for path in notebooks_beside(folders):
        try:
            nb = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if not isinstance(nb, dict):
            continue
        metas = [(nb.get("metadata") or {})]
        cells = nb.get("cells")
        metas += [c.get("metadata") for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []
        for meta in metas:
            repro = meta.get("repro_jupyter") if isinstance(meta, dict) else None
            for digest in references(repro) if isinstance(repro, dict) else ():
                pointers.setdefault(digest, path.name)
    return pointers


@dataclass
class FsckReport:
    """What ``fsck`` found: object ids corrupt or missing, relative paths of interrupted writes,
    what it quarantined, records no catalog row names, and whether the catalog is lost."""

    objects: int = 0
    corrupt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # referenced by the catalog, a record or a notebook
    temporary: list[str] = field(default_factory=list)  # leftovers of interrupted writes
    quarantined: list[str] = field(default_factory=list)
    unindexed: list[str] = field(default_factory=list)  # records/environments no catalog row names
    catalog_lost: bool = False  # objects exist, the catalog names none of them

    @property
    def clean(self) -> bool:
        """No corrupt or missing object and the catalog not lost; temporaries
        and unindexed records alone do not make a store unclean."""
        return not (self.corrupt or self.missing or self.catalog_lost)


def _objects(store: Store) -> dict[str, Path]:
    """Every finished object in the store by id: ``objects/ab/…`` (sha256), ``objects/blake3/ab/…``."""
    found: dict[str, Path] = {}
    for algorithm, folder in digests.SUBDIR.items():
        top = store.objects.objects / folder if folder else store.objects.objects
        if not top.is_dir():
            continue
        for sub in top.iterdir():
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for path in sub.iterdir():
                if not path.name.startswith(".tmp-"):
                    found[f"{algorithm}:{sub.name}{path.name}"] = path
    return found


def _hash_file(path: Path, digest: str) -> str:
    """The id ``path``'s bytes have under the algorithm ``digest`` names."""
    algorithm = digests.split(digest)[0]
    h = digests.new_hasher(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return f"{algorithm}:{h.hexdigest()}"


def _small_json_bytes(path: Path) -> bytes | None:
    """The bytes of an object that may be JSON (small, starts like JSON), else None."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if data[:1] in (b"{", b"[") else None


def read_json_object(path: Path) -> object:
    """The JSON in a (small) object file, or None for binary payloads and unreadable files."""
    data = _small_json_bytes(path)
    try:
        return None if data is None else json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def self_describing_kind(path: Path) -> str | None:
    """``cell_record`` or ``environment`` when the object says it is one, else None."""
    value = read_json_object(path)
    kind = value.get("kind") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) and kind in SELF_DESCRIBING else None


def _catalog_roots(store: Store) -> set[str]:
    conn = store.catalog._conn
    roots = {r[0] for r in conn.execute("SELECT record FROM cell_executions")}
    roots |= {r[0] for r in conn.execute("SELECT environment FROM cell_executions")}
    roots |= {r[0] for r in conn.execute("SELECT digest FROM environments")}
    roots |= {r[0] for r in conn.execute("SELECT object FROM checkpoints")}
    roots |= {r[0] for r in conn.execute("SELECT object FROM kept_objects")}
    roots |= {r[0] for r in conn.execute("SELECT manifest FROM milestones")}  # its parts: by digest
    return {r for r in roots if isinstance(r, str)}


def reachable(
    store: Store,
    present: dict[str, Path],
    extra_roots: Iterable[str] = (),
    *,
    catalog: bool = True,
    seen: set[str] | None = None,
) -> tuple[set[str], set[str]]:
    """(reachable digests, referenced-but-missing digests) from the catalog's roots (``catalog``) and
    ``extra_roots``; ``seen`` continues an earlier walk (it is extended in place)."""
    seen = set() if seen is None else seen
    missing: set[str] = set()
    todo = [(d, True) for d in (_catalog_roots(store) if catalog else ())] + [(d, False) for d in extra_roots]
    while todo:
        digest, required = todo.pop()
        if digest in seen:
            continue
        path = present.get(digest)
        if path is None:
            if required:
                missing.add(digest)
            continue
        seen.add(digest)
        data = _small_json_bytes(path)
        if data is None:
            continue
        try:
            named = references(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, ValueError, RecursionError):
            named = set()
        todo.extend((d, True) for d in named if d not in seen)
        # any other digest that names a present object keeps it alive (never reported missing)
        todo.extend((d, False) for d in {m.decode() for m in DIGEST_ANYWHERE.findall(data)} - named)
    return seen, missing


def _older(path: Path, now: float, seconds: float) -> bool:
    try:
        return now - path.stat().st_mtime >= seconds
    except OSError:
        return False


def _refuse_lost_catalog(store: Store, present: dict[str, Path], what: str) -> None:
    if present and store.catalog.is_empty():
        raise StoreError(
            f"the catalog of {store.root} is missing or empty but {len(present)} objects exist: {what} "
            f"would delete every record; run `jupyter repro fsck --rebuild-catalog` on this folder first"
        )


def fsck(store: Store, quarantine: bool = False, notebook_dirs: Iterable[Path] = ()) -> FsckReport:
    """Hashes, references, interrupted writes, and whether the catalog still names the records."""
    report = FsckReport()
    present = _objects(store)
    report.objects = len(present)
    for digest, path in sorted(present.items()):
        if _hash_file(path, digest) != digest:
            report.corrupt.append(digest)
    for tmp in sorted(store.objects.objects.rglob(".tmp-*")):  # put_stream: objects/.tmp-*
        report.temporary.append(str(tmp.relative_to(store.root)))
    intact = {d: p for d, p in present.items() if d not in report.corrupt}
    report.catalog_lost = bool(present) and store.catalog.is_empty()
    pointers = notebook_pointers([*notebook_dirs, store.root.parent])
    live, missing = reachable(store, intact)
    missing |= {d for d in pointers if d not in present and not store.objects.has(d)}
    if store.remote is not None:  # a team store's cache holds only what was read here: absent is not lost
        missing = {d for d in missing if not store.remote.has(d)}
    report.missing = sorted(missing - set(report.corrupt))
    report.unindexed = sorted(
        d for d, p in intact.items() if d not in live and self_describing_kind(p) is not None
    )
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
    """What ``gc`` removed (or, with ``dry_run``, would remove): ids, bytes freed, and
    how many unreachable objects it kept for being younger than the grace period."""

    objects: int = 0
    reachable: int = 0
    removed: list[str] = field(default_factory=list)
    kept_young: int = 0
    bytes_freed: int = 0


def gc(
    store: Store,
    grace_seconds: float = GRACE_SECONDS,
    dry_run: bool = False,
    notebook_dirs: Iterable[Path] = (),
) -> GcReport:
    """Delete unreachable objects older than ``grace_seconds``; refuse when the catalog is lost."""
    present = _objects(store)
    _refuse_lost_catalog(store, present, "gc")
    now = time.time()
    live, _missing = reachable(store, present)
    unindexed = [
        d
        for d, p in present.items()
        if d not in live and _older(p, now, grace_seconds) and self_describing_kind(p) is not None
    ]
    if unindexed:
        raise StoreError(
            f"{len(unindexed)} record(s)/environment(s) in {store.root} are not in its catalog (rows lost: a "
            "crash, or a catalog copied without its WAL), so rows of checkpoints may be lost too: run "
            "`jupyter repro fsck --rebuild-catalog` on this folder before gc"
        )
    reachable(store, present, notebook_roots([*notebook_dirs, store.root.parent]), catalog=False, seen=live)
    report = GcReport(objects=len(present), reachable=len(live & set(present)))
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
