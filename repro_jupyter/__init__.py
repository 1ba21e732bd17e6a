"""repro-jupyter: reproducible ML notebooks.

The kernel observes (``%%repro``), the store remembers (``.repro/``), the server
serves (``/repro-jupyter/``) and the frontend shows.  This module only wires the
entry points that Jupyter discovers; the work lives in the submodules.
"""

from __future__ import annotations

import sys
import types
from typing import Any

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.1.0"

from .schema import METADATA_KEY as METADATA_KEY  # public names; the contract lives in .schema
from .schema import SCHEMA_VERSION as SCHEMA_VERSION


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "repro-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "repro_jupyter"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .server.handlers import setup_handlers
    from .server.kernel_start import fix_hash_seed

    setup_handlers(server_app.web_app)
    fix_hash_seed(server_app.kernel_manager)
    server_app.log.info("repro_jupyter server extension registered at /repro-jupyter/")


def checkpoint(
    name: str,
    *,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    scaler: Any = None,
    loader: Any = None,
    probe: Any = None,
    **extra: Any,
) -> str:
    """Save a training milestone (weights, optimizer, scheduler, scaler, loader and RNG states, a probe's
    outputs, a manifest linking the run); returns its manifest digest.  See ``repro_jupyter.milestones`` and
    docs/TRAINING.md.  Imported lazily: ``import repro_jupyter`` must not import torch."""
    from .milestones import checkpoint as save

    return save(
        name, model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler, loader=loader,
        probe=probe, **extra,
    )  # fmt: skip


def restore_checkpoint(
    name: str,
    *,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    scaler: Any = None,
    loader: Any = None,
    notebook: str | None = None,
) -> dict[str, Any]:
    """Restore a milestone into the objects passed and the global RNGs, every part checked before any object
    is changed (else one-line ``MilestoneError``); returns its manifest."""
    from .milestones import restore_checkpoint as restore

    return restore(
        name, model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler, loader=loader,
        notebook=notebook,
    )  # fmt: skip


class _Package(types.ModuleType):
    """``repro_jupyter.checkpoint`` is the function above, although a subpackage of that name (the value
    formats) exists: importing it makes Python ``setattr`` the package's attribute, which would turn the
    public API into a module the moment the magics load.  That one setattr is ignored; the subpackage stays
    importable by its full name (``from repro_jupyter.checkpoint import formats``: sys.modules)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "checkpoint" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext repro_jupyter``: register the magics and the cell hooks."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext repro_jupyter``: end a cell still being recorded, remove the
    hooks and the comm, and close the session (its pending writes are flushed)."""
    from .magics import unload

    unload(ipython)
