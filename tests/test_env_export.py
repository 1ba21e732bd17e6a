"""Environment export and diff (the same diff code as verify's root causes)."""

from __future__ import annotations

import json

import nbformat

from repro_jupyter import METADATA_KEY
from repro_jupyter.environment.export import conda, dockerfile, requirements
from repro_jupyter.store import open_store

from .conftest import cli, make_notebook

ENV = {
    "python": {"version": "3.11.7"},
    "gpu": {"available": False},
    "packages": {
        "imported": {"numpy": "2.4.6", "torch": "2.13.0+cpu", "repro-jupyter": "0.1.0"},
        "installed": {"numpy": "2.4.6", "torch": "2.13.0+cpu", "six": "1.17.0"},
    },
}


def test_requirements_pin_imported_and_note_the_torch_index():
    text = requirements(ENV)
    assert "numpy==2.4.6" in text and "torch==2.13.0+cpu" in text and "six" not in text
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    assert "repro-jupyter" not in text.split("\n", 2)[2]
    assert "six==1.17.0" in requirements(ENV, all_packages=True)


def test_conda_and_dockerfile():
    assert "python=3.11.7" in conda(ENV) and "      - numpy==2.4.6" in conda(ENV)
    docker = dockerfile(ENV)
    assert docker.splitlines()[1] == "FROM python:3.11.7-slim" and "requirements.txt" in docker


def test_export_and_diff_cli(tmp_path, capsys):
    src = make_notebook(tmp_path / "e.ipynb", ["import numpy as np\nprint(np.__version__)"])
    assert cli("run", src, "-q") == 0
    out = tmp_path / "requirements.txt"
    assert cli("env", "export", src, "-o", out) == 0
    assert "numpy==" in out.read_text()
    assert cli("env", "diff", src, src) == 0
    assert "same environment" in capsys.readouterr().out
    # plant a changed environment: a copy of the recorded one with another numpy version
    store = open_store(tmp_path, create=False)
    env = store.objects.get_json(nbformat.read(src, 4).metadata[METADATA_KEY]["environment"])
    env["packages"]["imported"]["numpy"] = "1.26.4"
    digest, _ = store.objects.put_json(env)
    assert cli("env", "diff", src, digest, "--json") == 1
    diff = json.loads(capsys.readouterr().out)
    assert diff["packages"][0]["key"] == "numpy" and diff["packages"][0]["new"] == "1.26.4"
    assert cli("env", "diff", src, "current") in (0, 1)
