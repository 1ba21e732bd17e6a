"""Installed distributions, and the ones the notebook actually imported.

Listing distributions costs ~50 ms, so it is done once per kernel; mapping
``sys.modules`` to distributions is redone only when new top-level modules
appeared since the last look.
"""

from __future__ import annotations

import importlib.metadata as md
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def installed_distributions() -> dict[str, str]:
    """``{normalised name: version}`` for every distribution visible to this interpreter."""
    out: dict[str, str] = {}
    for dist in md.distributions():
        name = dist.metadata.get("Name")
        if name:
            out[_normalise(name)] = dist.version
    return dict(sorted(out.items()))


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@lru_cache(maxsize=1)
def _module_to_distributions() -> dict[str, list[str]]:
    return {k: sorted({_normalise(d) for d in v}) for k, v in md.packages_distributions().items()}


def top_level_modules() -> frozenset[str]:
    return frozenset(name.partition(".")[0] for name in list(sys.modules) if not name.startswith("_"))


def imported_distributions(modules: frozenset[str] | None = None) -> dict[str, str]:
    """Distributions that provide a module imported in this interpreter, with versions."""
    modules = top_level_modules() if modules is None else modules
    mapping = _module_to_distributions()
    versions = installed_distributions()
    out: dict[str, str] = {}
    for module in modules:
        for dist in mapping.get(module, ()):
            if dist in versions:
                out[dist] = versions[dist]
    return dict(sorted(out.items()))


def refresh_caches() -> None:
    """Forget cached listings (after ``%pip install`` inside the kernel)."""
    installed_distributions.cache_clear()
    _module_to_distributions.cache_clear()
