"""``jupyter repro fsck|gc|sync DIR``: check, clean and (for a team store) synchronise a folder's store."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..store import open_store, resolve_location
from ..store.maintenance import GRACE_SECONDS, fsck, gc
from ..store.rebuild import rebuild_catalog


def add_fsck_parser(sub: Any) -> None:
    """``fsck [FOLDER]``: a notebook folder or a notebook in it; ``--quarantine`` moves
    corrupt objects aside, ``--rebuild-catalog`` first restores lost catalog rows."""
    p = sub.add_parser("fsck", help="verify every object's hash and every catalog reference of a store")
    p.add_argument("folder", type=Path, nargs="?", default=Path("."), help="the notebook folder (default .)")
    p.add_argument("--quarantine", action="store_true", help="move corrupt objects and write leftovers aside")
    p.add_argument(
        "--rebuild-catalog",
        action="store_true",
        help="add the catalog rows lost records and environments lack (after a deleted or truncated catalog)",
    )


def add_gc_parser(sub: Any) -> None:
    """``gc [FOLDER]``: ``--grace`` seconds protect objects a
    writer may not have indexed yet; ``--dry-run`` only counts."""
    p = sub.add_parser("gc", help="remove store objects no record or environment can reach")
    p.add_argument("folder", type=Path, nargs="?", default=Path("."))
    p.add_argument(
        "--grace",
        type=float,
        default=GRACE_SECONDS,
        help="keep unreachable objects younger than "
        "this many seconds (a writer may still be adding its catalog row)",
    )
    p.add_argument("--dry-run", action="store_true")


def add_sync_parser(sub: Any) -> None:
    """``sync [FOLDER]``: for a team store; ``--store`` overrides the configured URL."""
    p = sub.add_parser(
        "sync", help="team store: upload what this machine has not sent yet, then import the team's catalog"
    )
    p.add_argument("folder", type=Path, nargs="?", default=Path("."), help="the notebook folder (default .)")
    p.add_argument("--store", help="the store URL (default: as configured for the folder)")


def main_sync(args: argparse.Namespace) -> int:
    """Retry uploads a kernel could not make (offline, crashed) and pull everyone else's runs."""
    location = resolve_location(_folder(args.folder), args.store)
    if not location.remote:  # never create a store just to say there is nothing to do
        print(f"{location.describe()} is a local store: nothing to synchronise")
        return 0
    store = open_store(_folder(args.folder), create=True, url=args.store)
    try:
        pushed = store.push(everyone=True)
        imported = store.pull()
        runs = len(store.catalog.runs())
    finally:
        store.close()
    assert pushed is not None
    print(
        f"{store.describe()}: sent {pushed.ops} catalog change(s) in {pushed.entries} entr"
        f"{'y' if pushed.entries == 1 else 'ies'} and {pushed.objects} object(s); imported {imported} "
        f"entr{'y' if imported == 1 else 'ies'}; {runs} run(s) known"
    )
    return 0


def main_fsck(args: argparse.Namespace) -> int:
    """Check the folder's store (optionally rebuilding the catalog first) and list
    what is wrong: 0 clean, 1 corrupt or missing objects or a lost catalog."""
    folder = _folder(args.folder)
    store = open_store(folder, create=False)
    try:
        if args.rebuild_catalog:
            rebuilt = rebuild_catalog(store)
            if rebuilt.moved_aside:
                print(f"the catalog was not a database: moved to {rebuilt.moved_aside}")
            print(
                f"{store.describe()}: catalog rebuilt: added {rebuilt.records} cell execution(s) and "
                f"{rebuilt.environments} environment(s), {rebuilt.milestones} milestone(s); "
                f"kept {rebuilt.kept} object(s) no record names"
            )
        report = fsck(store, quarantine=args.quarantine, notebook_dirs=[folder])
    finally:
        store.close()
    print(
        f"{store.describe()}: {report.objects} objects, {len(report.corrupt)} corrupt, "
        f"{len(report.missing)} missing, {len(report.temporary)} interrupted writes"
    )
    if report.catalog_lost:
        print(
            f"  catalog  missing or empty while {report.objects} objects exist: "
            "`jupyter repro fsck --rebuild-catalog` rebuilds it from the records"
        )
    elif report.unindexed:
        print(
            f"  {len(report.unindexed)} record(s)/environment(s) no catalog row names (kept by gc): "
            "`jupyter repro fsck --rebuild-catalog` adds them"
        )
    for digest in report.corrupt:
        print(f"  corrupt  {digest}")
    for digest in report.missing:
        print(f"  missing  {digest}")
    for digest in report.quarantined:
        print(f"  quarantined {digest}")
    return 0 if report.clean else 1


def main_gc(args: argparse.Namespace) -> int:
    """Delete unreachable objects older than ``--grace`` seconds and print the
    counts; StoreError (no deletion) when the catalog is lost or lacks records."""
    if not (math.isfinite(args.grace) and args.grace >= 0):
        raise UsageError(f"--grace must be a number of seconds >= 0, not {args.grace}")
    folder = _folder(args.folder)
    store = open_store(folder, create=False)
    try:
        report = gc(store, grace_seconds=args.grace, dry_run=args.dry_run, notebook_dirs=[folder])
    finally:
        store.close()
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{store.root}: {report.objects} objects, {report.reachable} reachable, {verb} {len(report.removed)} "
        f"({report.bytes_freed} bytes), kept {report.kept_young} younger than the grace period"
    )
    return 0


def _folder(path: Path) -> Path:
    return path.parent if path.suffix == ".ipynb" else path


class _Command:
    def __init__(self, add: Any, main: Any) -> None:
        self.add_parser, self.main = add, main


fsck_cmd = _Command(add_fsck_parser, main_fsck)
gc_cmd = _Command(add_gc_parser, main_gc)
sync_cmd = _Command(add_sync_parser, main_sync)
