"""Display state: figures, axes, artists, widgets and IPython display objects.

What they draw is already compared as the cell's output (images pixel by pixel), and their pickle bytes
change between identical runs (renderer caches, object ids), so they are recorded with a ``skipped`` reason
and never compared as state.  Containers of nothing but display objects (``fig, ax = plt.subplots()``, the
object array of Axes from ``plt.subplots(2, 2)``) are display state too.
"""

from __future__ import annotations

from typing import Any

from .walk import Fingerprint, Kind, Walk, display, module_root

KINDS: list[Kind] = []  # (predicate on the type, handler), in priority order

DISPLAY_ROOTS = frozenset(
    {"matplotlib", "mpl_toolkits", "seaborn", "ipywidgets", "IPython", "matplotlib_inline"}
)


def _is_display(t: type) -> bool:
    return module_root(t) in DISPLAY_ROOTS


def _display(value: Any, walk: Walk) -> Fingerprint:
    return display(value)


KINDS.append((_is_display, _display))
