"""Shared fixtures: an in-process IPython shell that raises instead of swallowing
errors, helpers to build notebooks, and the corpus location."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytest_plugins = ("pytest_jupyter.jupyter_server",)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture
def jp_server_config(jp_server_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"repro_jupyter": True},
            # as the JupyterLab extension template: a server that requires authentication on every
            # endpoint, so a handler that forgot @tornado.web.authenticated cannot pass unnoticed
            "allow_unauthenticated_access": False,
        }
    }


@pytest.fixture
def ip(tmp_path, monkeypatch):
    """A fresh in-process IPython shell with the extension loaded, cwd in a temp dir."""
    from IPython.core.interactiveshell import InteractiveShell

    from repro_jupyter import magics

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "repro_jupyter")
    yield shell
    magics.unload(shell)
    shell.config.pop("ReproMagics", None)
    shell.extension_manager.loaded.discard("repro_jupyter")
    for name in [n for n in shell.user_ns if not n.startswith("_") and n not in shell.user_ns_hidden]:
        del shell.user_ns[name]


def run(shell, source: str, cell_id: str | None = None, *, expect_error: bool = False):
    """Run a cell like a frontend would and re-raise its error, so a cell that fails by accident
    fails the test instead of being printed and forgotten.

    A test whose cell is meant to fail says so with ``expect_error=True``: the result comes back
    for the test to inspect, and a cell that unexpectedly succeeds fails the test."""
    result = shell.run_cell(source, cell_id=cell_id, store_history=True)
    if expect_error:
        assert not result.success, f"the cell was expected to fail but succeeded:\n{source}"
        return result
    result.raise_error()
    return result


def make_notebook(path: Path, sources: list[str], ids: list[str] | None = None, **metadata) -> Path:
    cells = [new_code_cell(src) for src in sources]
    for i, cell in enumerate(cells):
        cell.id = ids[i] if ids else f"cell-{i}"
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.update(metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def cli(*args: str) -> int:
    from repro_jupyter.cli import main

    return main([str(a) for a in args])


def store_text(store_root: Path) -> str:
    """Every byte of a store, as text, for leak searches (SQLite included)."""
    chunks = []
    for p in sorted(store_root.rglob("*")):
        if p.is_file():
            chunks.append(p.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)


def corpus_or_skip() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS} (CI always has it)")
    return CORPUS


__all__ = ["run", "make_notebook", "cli", "store_text", "corpus_or_skip", "ROOT", "json", "os", "shutil"]
