"""The milestones of a notebook as rows for people and for ``--json`` (``jupyter repro checkpoints``).

A row joins the catalog's volatile facts (when, which run and cell) with the manifest object, read and
verified; a manifest that cannot be read is listed with its one-line problem, never skipped silently.
"""

from __future__ import annotations

import time
from typing import Any

from ..canonical import short
from ..errors import ReproError
from ..store import Store
from .restore import read_manifest


def milestones(store: Store, notebook: str | None) -> list[dict[str, Any]]:
    """Every milestone row of ``notebook`` (oldest first) with its manifest or ``error``."""
    out = []
    for row in store.catalog.milestones(notebook=notebook):
        entry: dict[str, Any] = {
            "name": row["name"],
            "manifest_digest": row["manifest"],
            "created_at": row["created_at"],
            "run_id": row["run_id"],
            "cell_key": row["cell_key"],
        }
        try:
            entry["manifest"] = read_manifest(store, row["manifest"])
        except ReproError as exc:
            entry["error"] = str(exc)
        out.append(entry)
    return out


def _summary(manifest: dict[str, Any]) -> str:
    parts = manifest.get("parts", {})
    roles = ",".join(
        r for r in ("weights", "optimizer", "scheduler", "scaler", "loader", "probe") if r in parts
    )
    bits = [roles or "-"]
    seeds = manifest.get("seeds") or {}
    if seeds:
        bits.append(f"seed {seeds.get('master')}/{seeds.get('cell', '-')}")
    model = manifest.get("model") or {}
    if model:
        bits.append(f"{model.get('class')} ({'rebuildable' if model.get('rebuild') else 'notebook-only'})")
    if manifest.get("exact_resume") is False:
        bits.append("resume not exact")
    extra = manifest.get("extra") or {}
    if extra:
        bits.append(" ".join(f"{k}={v}" for k, v in sorted(extra.items()))[:80])
    if not manifest.get("recorded", False):
        bits.append("unrecorded kernel")
    return "  ".join(bits)


def format_rows(rows: list[dict[str, Any]]) -> list[str]:
    """One line per milestone row for ``jupyter repro checkpoints``: name, short
    manifest id, local save time, cell, then a summary or the row's error."""
    lines = []
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["created_at"]))
        head = f"{row['name']:<16} {short(row['manifest_digest'])}  {when}  cell {row['cell_key'] or '-'}"
        detail = f"ERROR {row['error']}" if "error" in row else _summary(row["manifest"])
        lines.append(f"{head}  {detail}")
    return lines
