"""Checkpoints chosen for export: the stored bytes as files, never a decoded value.

``--checkpoint NAME`` picks a variable from the last recorded state (the last
recorded cell that kept variable fingerprints), finds its checkpoint the way
``restore`` does (fingerprint -> catalog -> object, sha256 verified), and exports
that object as it is, named by its format.  Nothing is decoded, so nothing is
unpickled; a signed pickle stays a signed pickle that only its recorder's key opens.
What goes to another system is also checked for secrets: checkpointing never
stores a secret-looking name or small plain value, but a pickled object can hold one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..redact import is_secret_name
from ..state_chain import full_state, state_of
from ..store import Store
from .scrub import Scrubber

# the file name extension that tells a reader what the bytes are
EXTENSIONS = {
    "npy": "npy",
    "safetensors": "safetensors",
    "torch-optimizer": "safetensors",  # a safetensors file with the rest of the state dict in its metadata
    "parquet": "parquet",
    "json": "json",
    "torch-module": "rjckpt",  # repro-jupyter container: signed structure + safetensors state
    "pickle-hmac": "rjckpt",  # repro-jupyter container: HMAC-signed pickle
}
SIGNED_FORMATS = {"torch-module", "pickle-hmac"}
# objects up to this size are searched for secrets byte by byte; larger ones are bulk tensors in practice
SCAN_LIMIT = 64 << 20


@dataclass
class CheckpointFile:
    """One checkpoint to export: the variable, the cell whose state it comes from,
    and its verified store object as stored (format, size, meta), never decoded."""

    name: str
    cell_key: str
    format: str
    object: str
    fingerprint: str
    path: Path  # the verified store object
    size: int
    meta: dict[str, Any]
    type: str

    @property
    def file_name(self) -> str:
        """The artifact's file name: the variable name plus an extension that says the
        format (``rjckpt`` for our signed containers, ``bin`` for an unknown format)."""
        return f"{self.name}.{EXTENSIONS.get(self.format, 'bin')}"


def last_state(records: list[dict[str, Any]], store: Store) -> tuple[str, dict[str, Any]]:
    """(cell key, all live variables) of the last record that kept state (records hold deltas)."""
    for record in reversed(records):
        if state_of(record) is None:
            continue
        variables = full_state(store, record)
        if variables:
            return record["cell_key"], variables
    raise ExportError("no recorded cell kept its variables (state was off): nothing to checkpoint")


def _not_checkpointed_reason(records: list[dict[str, Any]], name: str) -> str:
    for record in reversed(records):
        reason = ((record.get("state") or {}).get("not_checkpointed") or {}).get(name)
        if reason:
            return reason
    return "no checkpoint in the catalog"


def find_checkpoints(
    store: Store, records: list[dict[str, Any]], names: list[str], scrub: Scrubber
) -> list[CheckpointFile]:
    """The verified store objects of ``names`` in the last recorded state; any problem is an error."""
    if not names:
        return []
    cell_key, variables = last_state(records, store)
    found = []
    for name in dict.fromkeys(names):
        if name not in variables:
            known = ", ".join(sorted(variables)[:12])
            raise ExportError(
                f"no variable {name!r} in the last recorded state (cell {cell_key}; has {known})"
            )
        if is_secret_name(name):
            raise ExportError(f"checkpoint {name!r} not exported: the name looks like a secret")
        fp = variables[name]
        if not fp.get("digest"):
            raise ExportError(f"{name!r} was not checkpointed: {fp.get('skipped', 'no fingerprint')}")
        try:
            entry = store.catalog.checkpoint(fp["digest"])
        except sqlite3.Error as exc:
            raise ExportError(f"cannot read the catalog of {store.root}: {exc}") from None
        if entry is None:
            raise ExportError(f"{name!r} was not checkpointed: {_not_checkpointed_reason(records, name)}")
        path = store.objects.verified_path(entry["object"])  # ObjectMissing / ObjectCorrupt: exit 2
        size = path.stat().st_size
        if size <= SCAN_LIMIT and scrub.leaks(path.read_bytes().decode("latin-1")):
            raise ExportError(f"checkpoint {name!r} not exported: its bytes look like they hold a secret")
        found.append(
            CheckpointFile(
                name=name,
                cell_key=cell_key,
                format=entry["format"],
                object=entry["object"],
                fingerprint=fp["digest"],
                path=path,
                size=size,
                meta=scrub.value(entry["meta"]),
                type=fp.get("type", ""),
            )
        )
    return found


def manifest(files: list[CheckpointFile]) -> dict[str, Any]:
    """What each exported checkpoint file is and how to read it."""
    return {
        "schema_version": 1,
        "kind": "checkpoint_manifest",
        "checkpoints": [
            {
                "name": f.name,
                "file": f.file_name,
                "cell_key": f.cell_key,
                "type": f.type,
                "format": f.format,
                "meta": f.meta,
                "object": f.object,
                "fingerprint": f.fingerprint,
                "size": f.size,
                **(
                    {"note": "signed with the recording user's key: restore with %repro restore"}
                    if f.format in SIGNED_FORMATS
                    else {}
                ),
            }
            for f in files
        ],
    }
