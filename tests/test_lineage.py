"""The lineage graph answers "where did this variable come from": versions per write, the cell that
wrote each, loop temporaries marked, cells named as people number them (real kernel, real store)."""

from __future__ import annotations

from repro_jupyter.lineage import graph

from .conftest import cli, make_notebook


def test_versions_writers_and_temporaries(tmp_path):
    src = make_notebook(
        tmp_path / "lin.ipynb",
        [
            "X = [1, 2]\ntotal = 0\nfor i in range(3):\n    total += i",
            "X = X * 2",
            "print(total + len(X))",
        ],
    )
    assert cli("run", src, "-q") == 0
    g = graph(src)
    variables = {(n["label"], n["version"]): n for n in g["nodes"] if n["kind"] == "variable"}
    assert variables[("X", 1)]["written_by"] == 0 and variables[("X", 2)]["written_by"] == 1
    assert variables[("i", 1)]["temporary"] is True  # a loop variable
    assert variables[("total", 1)]["temporary"] is False and variables[("X", 1)]["temporary"] is False
    cells = {n["cell_index"]: n["label"] for n in g["nodes"] if n["kind"] == "cell"}
    assert cells[0].startswith("cell 1: X = [1, 2]") and cells[2].startswith("cell 3: print")
    reads = {(e["source"], e["target"]) for e in g["edges"] if e["kind"] == "reads"}
    assert ("var:X:1", "cell:1") in reads and ("var:X:2", "cell:2") in reads  # each reader, its version
