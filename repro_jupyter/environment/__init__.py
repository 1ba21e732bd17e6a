"""Environment snapshots: one dict per distinct environment, content-addressed.

A snapshot holds only stable facts (no free memory, no host name, no time), so
the same machine and packages always give the same digest and re-runs leave the
notebook unchanged.  ``EnvironmentTracker`` re-captures cheaply: the expensive
parts are cached per kernel and only the imported-distributions part is redone
when new modules appear.
"""

from __future__ import annotations

import os
from typing import Any

from ..canonical import digest_json
from ..schema import SCHEMA_VERSION
from . import packages, system
from .envvars import captured_environment
from .git import git_info
from .gpu import gpu_info


def capture(
    notebook_dir: str | os.PathLike[str] | None = None,
    git_exclude: list[str] | None = None,
    include_installed: bool = True,
) -> dict[str, Any]:
    """A full environment snapshot (valid against ``record.v1.json#/$defs/environment``)."""
    snapshot: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "environment",
        "python": system.python_info(),
        "os": system.os_info(),
        "cpu": system.cpu_info(),
        "memory": system.memory_info(),
        "threads": system.threads_info(),
        "torch": system.torch_info(),
        "gpu": gpu_info(),
        "git": git_info(notebook_dir or os.getcwd(), git_exclude),
        "env_vars": captured_environment(),
        "packages": {
            "imported": packages.imported_distributions(),
            "installed": packages.installed_distributions() if include_installed else {},
        },
    }
    return snapshot


def environment_digest(snapshot: dict[str, Any]) -> str:
    """The snapshot's content address (sha256 of its canonical JSON): equal
    environments share one store object, so a re-run stores nothing new."""
    return digest_json(snapshot)


class EnvironmentTracker:
    """Keeps the current snapshot of one kernel, re-capturing only what can have changed."""

    def __init__(self, notebook_dir: str | None, git_exclude: list[str] | None = None) -> None:
        self.notebook_dir = notebook_dir
        self.git_exclude = git_exclude or []
        self._static: dict[str, Any] | None = None
        self._modules: frozenset[str] = frozenset()
        self._snapshot: dict[str, Any] | None = None
        self._digest: str | None = None

    def current(self) -> tuple[dict[str, Any], str, bool]:
        """(snapshot, digest, changed since the last call)."""
        modules = packages.top_level_modules()
        if self._snapshot is not None and modules == self._modules:
            return self._snapshot, self._digest or "", False
        if self._static is None:
            self._static = capture(self.notebook_dir, self.git_exclude)
        snapshot = dict(self._static)
        snapshot["packages"] = {
            "imported": packages.imported_distributions(modules),
            "installed": self._static["packages"]["installed"],
        }
        # torch/threads facts appear only once the notebook imports those libraries
        snapshot["threads"] = system.threads_info()
        snapshot["torch"] = system.torch_info()
        digest = environment_digest(snapshot)
        changed = digest != self._digest
        self._modules, self._snapshot, self._digest = modules, snapshot, digest
        return snapshot, digest, changed

    def invalidate(self) -> None:
        """Forget everything (``%repro env --refresh``, or after ``%pip install``)."""
        packages.refresh_caches()
        self._static = self._snapshot = self._digest = None
        self._modules = frozenset()


__all__ = ["capture", "environment_digest", "EnvironmentTracker"]
