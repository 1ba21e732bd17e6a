"""What a comparison needs to know about the two runs besides their outputs.

When each run executed (its clock window, from the store's catalog), so a time the run printed can
be told from a real change; and whether a library that draws figures and tables changed version,
so pixels and markup get the tolerance a new renderer needs and nothing more.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..schema import METADATA_KEY
from .rules import CompareOptions

if TYPE_CHECKING:
    from ..store import Store

# distributions whose version changes how a figure or a table is drawn: where one differs (or the
# recorded environment is unknown) images get perceptual tolerance and HTML is judged by its text
RENDERERS = frozenset(
    {
        "matplotlib",
        "pillow",
        "pandas",
        "ipython",
        "sympy",
        "seaborn",
        "plotly",
        "bokeh",
        "altair",
        "scikit-image",
        "kiwisolver",
        "fonttools",
        "contourpy",
        "numpy",
    }
)


def with_run_windows(
    opts: CompareOptions, nb: Any, new_nb: Any, store: Store | None, new_store: Store | None
) -> CompareOptions:
    """Fill in when the recorded run and the new one ran, from the catalog where the caller could not."""
    windows = opts.run_windows

    def records(notebook: Any) -> list[str]:
        return [
            str(m["record"])
            for c in notebook.cells
            if isinstance(m := c.get("metadata", {}).get(METADATA_KEY), dict) and m.get("record")
        ]

    try:
        if windows.new is None and new_store is not None:
            windows = replace(
                windows, new=new_store.catalog.execution_window(records(new_nb), latest_run=True)
            )
        if windows.old is None and store is not None:
            before = windows.new[0] if windows.new else None
            windows = replace(windows, old=store.catalog.execution_window(records(nb), before=before))
    except Exception:  # an old or foreign catalog: no windows, clocks are then compared as text
        return opts
    return replace(opts, run_windows=windows)


def renderers_changed(env_diff: dict[str, Any] | None) -> bool:
    """A rendering library's version differs between the record and now."""
    return any(str(c.get("key", "")).lower() in RENDERERS for c in (env_diff or {}).get("packages") or [])
