"""How a relative change is written for people, the same everywhere.

The CLI, the pytest plugin and the HTML report print a drift's relative change with this one function,
and the Lab panel's ``formatPercent`` (labextension/src/driftview.ts) follows the same rule; both are
tested against one table of cases (``labextension/src/__tests__/percent_cases.json``), so a number reads
the same in a terminal, a CI log and the notebook.

The rule: a visible change (at least 0.01%) is a percent with three significant digits (``40%``,
``33.3%``, ``0.123%``); below that it is float noise and shown as the ratio itself (``1.85e-16``:
``1.85e-14%`` reads badly).  The sign is kept.  Anything that is not a finite number is shown as it is.
"""

from __future__ import annotations

import math
from typing import Any

NOISE_BELOW = 1e-4


def format_percent(rel: Any) -> str:
    """A relative change (0.4 is 40%) for people: ``40%``, ``33.3%``, ``-0.123%``; below 0.01%
    the ratio itself (``1.85e-16``); None is "", anything not a finite number as it is."""
    if isinstance(rel, bool) or not isinstance(rel, (int, float)):
        return "" if rel is None else str(rel)
    if not math.isfinite(rel):
        return str(rel)
    return f"{rel * 100:.3g}%" if abs(rel) >= NOISE_BELOW or rel == 0 else f"{rel:.3g}"
