"""Notebook files (``repro_jupyter.notebook_io``): stable cell ids, writes that never lose a save, and
the core that never reaches into the CLI or the server to do its job."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat

from repro_jupyter.notebook_io import read_notebook
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import make_notebook

ROOT = Path(__file__).resolve().parent.parent / "repro_jupyter"


def test_repeated_and_missing_cell_ids_get_stable_unique_ones(tmp_path):
    """A copy-pasted cell repeats its id in hand-edited files: two cells must never share one record key,
    and the repaired ids must be the same on every read (nbformat's repair picks random ones)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in ("a = 1", "b = 2", "c = 3", "a = 1")]
    raw = json.loads(nbformat.writes(nb))
    raw["cells"][0]["id"] = raw["cells"][1]["id"] = "same"
    raw["cells"][3]["id"] = "same"
    del raw["cells"][2]["id"]
    path = tmp_path / "dup.ipynb"
    path.write_text(json.dumps(raw))
    first = [c.id for c in read_notebook(path).cells]
    assert first[0] == "same" and len(set(first)) == 4
    assert [c.id for c in read_notebook(path).cells] == first  # stable across reads


def test_verify_update_keeps_a_save_made_while_it_ran(tmp_path):
    """``verify --update`` replaced the notebook even when an editor had saved it meanwhile."""
    path = make_notebook(tmp_path / "nb.ipynb", ["x = 1", "print(x)"])
    from repro_jupyter.cli import main

    assert main(["run", str(path), "-q"]) == 0
    edited = path.read_text().replace("print(x)", "print(x + 1)")

    def editor_saves(done: int, total: int, cell: object) -> None:
        if done == 1:
            path.write_text(edited)

    report = verify_notebook(path, VerifyOptions(update=True, progress=editor_saves))
    assert path.read_text() == edited  # the save survives
    assert report["status"] == "error" and "changed on disk while this run executed" in report["reason"]
    side = list(tmp_path.glob("nb.repro-conflict-*.ipynb"))
    assert len(side) == 1 and "print(x)" in side[0].read_text()


def _imports(path: Path) -> set[str]:
    rel = path.relative_to(ROOT.parent)
    package = list(rel.parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found |= {module, *(f"{module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_the_core_never_imports_the_cli_or_the_server():
    """Adapters (cli/, server/) call the core, never the other way round; the package's own entry point
    (``repro_jupyter/__init__.py``, which Jupyter Server calls) is the one place that wires the server."""
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("cli", "server") or rel == Path("__init__.py"):
            continue
        bad = sorted(m for m in _imports(path) if m.startswith(("repro_jupyter.cli", "repro_jupyter.server")))
        if bad:
            offenders.append(f"{rel}: {bad[0]}")
    assert offenders == []


def test_the_kernel_side_does_not_import_notebook_files_or_the_schema_validator():
    """``%load_ext repro_jupyter`` once took 1.6 s instead of 0.3 s because the output digests pulled in
    notebook_io, hence nbformat and jsonschema: every kernel paid for what only runners need."""
    import subprocess
    import sys

    code = (
        "import sys, repro_jupyter.magics, repro_jupyter.recorder\n"
        "print(sorted(m for m in ('nbformat', 'jsonschema', 'nbclient', 'repro_jupyter.notebook_io') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_no_module_imports_the_package_root_for_the_contract():
    """``__init__`` → ``magics`` → ``recorder`` → ``__init__`` was an import cycle: modules took
    ``METADATA_KEY`` and ``SCHEMA_VERSION`` from the package root.  They live in the leaf
    ``repro_jupyter.schema``; only ``__version__`` (set before anything else) may come from the root."""
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel == Path("__init__.py"):
            continue
        rooted = {m for m in _imports(path) if m.startswith("repro_jupyter.") and m.count(".") == 1}
        bad = sorted(m for m in rooted if m.split(".")[1] in ("METADATA_KEY", "SCHEMA_VERSION"))
        if bad:
            offenders.append(f"{rel}: {bad[0]}")
    assert offenders == []


def test_the_schema_version_lives_in_the_schema_file_only():
    """Python reads it from record.v1.json and the generated schema.ts exports the same const."""
    import json
    import re

    from repro_jupyter import SCHEMA_VERSION, schema

    raw = json.loads((ROOT / "schema" / "record.v1.json").read_text())
    assert SCHEMA_VERSION == raw["$defs"]["notebookMetadata"]["properties"]["schema_version"]["const"]
    assert schema.SCHEMA_VERSION is SCHEMA_VERSION
    generated = (ROOT.parent / "labextension" / "src" / "schema.ts").read_text()
    assert re.findall(r"export const SCHEMA_VERSION = (\d+);", generated) == [str(SCHEMA_VERSION)]
    sources = "".join(p.read_text() for p in (ROOT.parent / "labextension" / "src").glob("*.ts"))
    assert len(re.findall(r"\bSCHEMA_VERSION\s*=", sources)) == 1  # only the generated one
