"""A cell's source as records name it, and "changed since it was recorded", decided in one place.

Records and cell metadata hold ``source``: the sha256 content address of the cell's code as one string.
The panel's staleness, lineage's stale cells, the judge (code edited since the record is never "same"),
the ranked causes and the MLflow export all ask the same question; a missing recorded digest means the
record cannot tell, so the answer is "not changed" there and the callers judge by what else they have.
"""

from __future__ import annotations

from typing import Any

from .canonical import digest_bytes


def source_text(cell: Any) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "") if isinstance(cell, dict) else getattr(cell, "source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def source_digest(source: str) -> str:
    """The content address a record gives this code (``cell_record.build_record``)."""
    return digest_bytes(source.encode())


def source_changed(source: str, recorded: Any) -> bool:
    """``source`` is not the code the ``recorded`` digest was made from (False when nothing was recorded)."""
    return bool(recorded) and recorded != source_digest(source)
