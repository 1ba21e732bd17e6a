"""One cell numbering for people: the 1-based position among *all* cells (markdown included).

It is what JupyterLab's status bar shows ("Cell 3/8") and what the panel, the lineage and the inline
drift view say, so ``jupyter repro verify``, the reports and ``pytest --repro`` say it too.  Machine
readable reports keep the 0-based ``index`` (a position in ``nb.cells``) and the cell ``id`` beside it.
"""

from __future__ import annotations

from typing import Any


def cell_number(index: Any) -> Any:
    """The number people see for the cell at 0-based ``index`` (anything else is passed through)."""
    return index + 1 if isinstance(index, int) and not isinstance(index, bool) else index


def cell_label(index: Any) -> str:
    """``cell N`` with the number people see (1-based among all cells) for the 0-based ``index``."""
    return f"cell {cell_number(index)}"
