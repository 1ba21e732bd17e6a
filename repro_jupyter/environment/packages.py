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
    """``{normalised name: version}`` for every distribution visible to this interpreter; where a name
    is installed twice (a venv layered over another), the first on ``sys.path``: the one imported,
    and the one ``importlib.metadata.version`` reports."""
    out: dict[str, str] = {}
    for dist in md.distributions():
        meta = dist.metadata  # an email Message: a missing header is absent, not an error
        name = meta["Name"] if "Name" in meta else None
        if name:
            out.setdefault(_normalise(name), dist.version)
    return dict(sorted(out.items()))


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@lru_cache(maxsize=1)
def _module_to_distributions() -> dict[str, list[str]]:
    return {k: sorted({_normalise(d) for d in v}) for k, v in md.packages_distributions().items()}


_MODULES_CACHE: tuple[int, frozenset[str]] = (-1, frozenset())


def top_level_modules() -> frozenset[str]:
    """Top-level modules loaded now, less those our own probes imported (see gpu.PROBE_MODULES).

    Called after every recorded cell: the set is rebuilt only when ``sys.modules`` grew or
    shrank (modules are almost never replaced one for one), which costs one ``len``.
    """
    global _MODULES_CACHE
    size = len(sys.modules)
    if size == _MODULES_CACHE[0]:
        return _MODULES_CACHE[1]
    from .gpu import PROBE_MODULES

    names = {name.partition(".")[0] for name in list(sys.modules) if not name.startswith("_")}
    _MODULES_CACHE = (size, frozenset(names - PROBE_MODULES))
    return _MODULES_CACHE[1]


# The kernel and this tool import these (and their requirements) on their own: listing them as
# "imported by the notebook" would make every tornado upgrade look like a cause of drift.
INFRASTRUCTURE_ROOTS = ("ipykernel", "repro-jupyter", "comm", "ipywidgets", "matplotlib-inline")


@lru_cache(maxsize=1)
def infrastructure_distributions() -> frozenset[str]:
    """Transitive requirements (extras too) of the kernel and of repro-jupyter itself."""
    seen: set[str] = set()
    todo = list(INFRASTRUCTURE_ROOTS)
    while todo:
        name = _normalise(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for req in requires:  # extras included: over-inclusion is safe, ALWAYS_USER protects ML libs
            base = req.split(";")[0].strip()
            for sep in "<>=!~[ (":
                base = base.split(sep)[0]
            if base:
                todo.append(base)
    return frozenset(seen)


def imported_distributions(modules: frozenset[str] | None = None) -> dict[str, str]:
    """Distributions the notebook imported (kernel infrastructure left out), with versions.

    A distribution is kept when one of its modules is loaded and it is not part of
    the kernel's own dependency tree, unless it is a well-known ML library that the
    kernel merely happens to share (numpy is never infrastructure).
    """
    modules = top_level_modules() if modules is None else modules
    mapping = _module_to_distributions()
    versions = installed_distributions()
    infrastructure = infrastructure_distributions() - ALWAYS_USER
    out: dict[str, str] = {}
    for module in modules:
        for dist in mapping.get(module, ()):
            if dist in versions and dist not in infrastructure:
                out[dist] = versions[dist]
    return dict(sorted(out.items()))


ALWAYS_USER = frozenset(
    {
        "numpy",
        "pandas",
        "scipy",
        "torch",
        "matplotlib",
        "scikit-learn",
        "jax",
        "tensorflow",
        "pillow",
        "pyarrow",
        "polars",
    }
)


def refresh_caches() -> None:
    """Forget cached listings (after ``%pip install`` inside the kernel)."""
    installed_distributions.cache_clear()
    _module_to_distributions.cache_clear()
    infrastructure_distributions.cache_clear()
