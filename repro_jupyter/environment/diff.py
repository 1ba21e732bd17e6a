"""What differs between two environment snapshots, by section.

One implementation for the root-cause report of ``verify`` and for
``jupyter repro env diff``: ``{section: [{key, old, new}]}`` with only the
sections that differ.  Packages are compared on the distributions the notebook
imported (an installed-but-unused package cannot change a result).  Lists that are
really sets (``SET_LISTS``: threadpoolctl's pools, in library load order; the CPU's SIMD
flags) are compared without their order, so an import order is never a "threads change".
"""

from __future__ import annotations

import json
from typing import Any

Change = dict[str, Any]

# flattened keys whose list order means nothing (sorted before comparing)
SET_LISTS = frozenset({"threads.threadpools", "cpu.flags"})


def _canonical_order(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: json.dumps(v, sort_keys=True, default=str))


def _flat(value: Any, prefix: str = "", section: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k), section))
        return out
    if isinstance(value, list):
        if f"{section}.{prefix}" in SET_LISTS:
            value = _canonical_order(value)
        return {
            prefix: ", ".join(map(str, value))
            if all(not isinstance(v, (dict, list)) for v in value)
            else value
        }
    return {prefix: value}


def _section(old: Any, new: Any, section: str = "") -> list[Change]:
    a, b = _flat(old or {}, section=section), _flat(new or {}, section=section)
    return [
        {"key": k, "old": a.get(k), "new": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
    ]


def environment_diff(
    old: dict[str, Any] | None, new: dict[str, Any] | None, all_packages: bool = False
) -> dict[str, list[Change]]:
    """Sections that differ; ``packages`` covers imported distributions unless ``all_packages``."""
    if not old or not new:
        return {}
    out: dict[str, list[Change]] = {}
    which = "installed" if all_packages else "imported"
    old_pkgs = (old.get("packages") or {}).get(which) or {}
    new_pkgs = (new.get("packages") or {}).get(which) or {}
    if not all_packages:  # a package the notebook imports now but did not then: compare installed versions
        installed_old = (old.get("packages") or {}).get("installed") or {}
        installed_new = (new.get("packages") or {}).get("installed") or {}
        for name in set(old_pkgs) | set(new_pkgs):
            old_pkgs.setdefault(name, installed_old.get(name))
            new_pkgs.setdefault(name, installed_new.get(name))
    packages = [
        {"key": k, "old": old_pkgs.get(k), "new": new_pkgs.get(k)}
        for k in sorted(set(old_pkgs) | set(new_pkgs))
        if old_pkgs.get(k) != new_pkgs.get(k)
    ]
    if packages:
        out["packages"] = packages
    for section in ("python", "os", "cpu", "memory", "threads", "torch", "gpu", "git", "env_vars"):
        changes = _section(old.get(section), new.get(section), section)
        if changes:
            out[section] = changes
    return out
