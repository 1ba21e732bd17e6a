"""repro-jupyter: reproducible ML notebooks.

The kernel observes (``%%repro``), the store remembers (``.repro/``), the server
serves (``/repro-jupyter/``) and the frontend shows.  This module only wires the
entry points that Jupyter discovers; the work lives in the submodules.
"""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.1.0"

SCHEMA_VERSION = 1
METADATA_KEY = "repro_jupyter"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "repro-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "repro_jupyter"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .server.handlers import setup_handlers

    setup_handlers(server_app.web_app)
    server_app.log.info("repro_jupyter server extension registered at /repro-jupyter/")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext repro_jupyter``: register the magics and the cell hooks."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload

    unload(ipython)
