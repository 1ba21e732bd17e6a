"""What a headless run writes into the notebook about itself: the pointers to its records, the errors the
saved file expects a cell to raise, and the cells it never ran.  Each rule keeps an earlier run's record or
output from vouching for something this run did not produce."""

from __future__ import annotations

from typing import Any

from .schema import METADATA_KEY


def apply_metadata(nb: Any, meta: dict[str, Any] | None) -> int:
    """Write the recorded pointers into the notebook; return the number of cells that got them.

    A code cell this run did not record loses the pointer an earlier run left: a stale record
    must never vouch for outputs this run did not produce.
    """
    if not meta:
        return 0
    cells = meta.get("cells") or {}
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cm = cells.get(cell.get("id"))
        if cm is not None:
            cell.metadata[METADATA_KEY] = cm
            count += 1
        else:
            cell.metadata.pop(METADATA_KEY, None)
    if meta.get("notebook"):
        nb.metadata[METADATA_KEY] = meta["notebook"]
    return count


def expected_errors(nb: Any) -> dict[int, set[str]]:
    """Per code cell, the error names it may raise: those its saved outputs show, or any (``*``) when the
    cell is marked to raise (nbval's ``# NBVAL_RAISES_EXCEPTION``, tags ``raises-exception`` ...)."""
    from .compare.rules import cell_control

    out: dict[int, set[str]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        names = {str(o.get("ename")) for o in cell.get("outputs", []) if o.get("output_type") == "error"}
        if cell_control(cell).raises:
            names.add("*")
        if names:
            out[index] = names
    return out


def mark_not_run(nb: Any, start: int) -> None:
    """Cells from ``start`` on did not run (or were interrupted): no outputs, no count, no record.

    Leaving an earlier run's outputs and pointers there would show results this run never produced.
    """
    for cell in nb.cells[start:]:
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop(METADATA_KEY, None)
