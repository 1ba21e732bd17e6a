"""``jupyter repro verify``: drift at the right first cell with the right cause, real kernels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY, schema
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook

NB = [
    "import numpy as np\nimport random",  # 0
    "lr = 0.1\nepochs = 3",  # 1  hyperparameters
    "x = np.linspace(0, 1, 5)\ny = np.sin(3 * x)\nprint(y.round(6))",  # 2  deterministic
    "noise = np.random.rand(3)\nprint(noise)",  # 3  seeded random
    "data = open('data.csv').read()\nprint(len(data), data.count(','))",  # 4  input file
    "w = lr * epochs\nprint(w)",  # 5  uses params
    "state_only = np.random.rand(2)",  # 6  no output
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A recorded notebook (and its store) that each test copies."""
    base = tmp_path_factory.mktemp("recorded")
    (base / "data.csv").write_text("a,b\n1,2\n3,4\n")
    src = make_notebook(base / "nb.ipynb", NB)
    assert cli("run", src, "-q", "--seed", "11") == 0
    return base


@pytest.fixture
def work(recorded, tmp_path):
    target = tmp_path / "w"
    shutil.copytree(recorded, target)
    return target


def _edit(path: Path, index: int, old: str, new: str) -> None:
    nb = nbformat.read(path, 4)
    assert old in nb.cells[index].source
    nb.cells[index].source = nb.cells[index].source.replace(old, new)
    nbformat.write(nb, path)


def _verify(path: Path, **kw) -> dict:
    report = verify_notebook(path, VerifyOptions(**kw))
    schema.validate("driftReport", report)
    return report


def test_recorded_notebook_reproduces(work):
    report = _verify(work / "nb.ipynb")
    assert report["status"] == "reproduced", report["reason"]
    assert report["first_drift"] is None and report["recorded"] is True
    assert {c["status"] for c in report["cells"]} == {"same"}


def test_changed_constant_drifts_at_that_cell_with_source_cause(work):
    _edit(work / "nb.ipynb", 2, "np.sin(3 * x)", "np.sin(4 * x)")
    report = _verify(work / "nb.ipynb")
    assert report["status"] == "drift"
    assert report["first_drift"] == {"index": 2, "id": "cell-2"}
    cell = report["cells"][2]
    assert cell["causes"][0]["kind"] == "source_changed"
    assert cell["differences"][0]["numeric"]["deltas"]


def test_changed_seed_drifts_at_first_random_cell_with_seed_cause(work):
    nb = nbformat.read(work / "nb.ipynb", 4)
    nb.metadata[METADATA_KEY]["master_seed"] = 12
    nbformat.write(nb, work / "nb.ipynb")
    report = _verify(work / "nb.ipynb")
    assert report["first_drift"]["index"] == 3
    assert report["cells"][3]["causes"][0]["kind"] == "seed"
    assert report["cells"][2]["status"] == "same"  # deterministic cells are unaffected


def test_perturbed_input_file_drifts_with_data_cause(work):
    (work / "data.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    report = _verify(work / "nb.ipynb")
    assert report["first_drift"]["index"] == 4
    first = report["cells"][4]["causes"][0]
    assert first["kind"] == "data" and "data.csv" in first["detail"]


def test_changed_hyperparameter_drifts_with_params_cause(work):
    _edit(work / "nb.ipynb", 1, "lr = 0.1", "lr = 0.2")
    report = _verify(work / "nb.ipynb")
    assert report["first_drift"]["index"] == 1
    cause = report["cells"][1]["causes"][0]
    assert cause["kind"] == "params" and "lr 0.1 -> 0.2" in cause["detail"]
    assert report["cells"][1]["differences"][0]["kind"] == "state"
    later = report["cells"][5]
    assert later["status"] == "drift" and any(c["kind"] == "upstream" for c in later["causes"])


def test_state_only_drift_is_drift(work):
    """A variable that drifted with no visible output is drift (here: an edited random cell)."""
    _edit(work / "nb.ipynb", 6, "np.random.rand(2)", "np.random.rand(2) + 1")
    report = _verify(work / "nb.ipynb")
    cell = report["cells"][6]
    assert cell["status"] == "drift" and cell["differences"][0]["kind"] == "state"
    assert cell["differences"][0]["variables"] == ["state_only"]


def test_tiny_numeric_change_is_within_tolerance_and_exit_0(work, capsys):
    nb = nbformat.read(work / "nb.ipynb", 4)
    out = nb.cells[5].outputs[0]
    value = float(out["text"].strip())
    out["text"] = f"{value * (1 + 1e-9)!r}\n"
    nbformat.write(nb, work / "nb.ipynb")
    report = _verify(work / "nb.ipynb", compare=_opts(compare_state=True))
    assert report["cells"][5]["status"] == "within_tolerance"
    assert report["status"] == "reproduced"
    assert cli("verify", work / "nb.ipynb", "--rtol", "1e-12", "--atol", "0", "-q") == 1


def _opts(**kw):
    from repro_jupyter.compare.rules import CompareOptions

    return CompareOptions(**kw)


def test_benign_noise_is_not_drift(tmp_path):
    src = make_notebook(
        tmp_path / "noise.ipynb",
        [
            "import time, datetime\nclass Foo: pass\nprint(Foo())\n"
            "print(datetime.datetime.now().isoformat())",
            "import sys\nprint('warning!', file=sys.stderr)\n{'b', 'a', 'c'}",
        ],
    )
    assert cli("run", src, "-q") == 0
    report = _verify(src)
    assert report["status"] == "reproduced", report["reason"]
    assert report["cells"][0]["status"] == "benign"


def test_unseeded_randomness_is_named_and_flaky_with_two_runs(tmp_path):
    src = make_notebook(
        tmp_path / "u.ipynb",
        # auto-seeding (the default) would make default_rng() reproducible: this notebook opts out
        [
            "%repro on --no-auto-seed\nimport numpy as np",
            "rng = np.random.default_rng()\nprint(rng.random())",
        ],
    )
    assert cli("run", src, "-q") == 0
    report = _verify(src)
    assert report["first_drift"]["index"] == 1
    assert report["cells"][1]["causes"][0]["kind"] == "unseeded_randomness"
    report2 = _verify(src, runs=2)
    cell = report2["cells"][1]
    assert cell["flaky"] is True and cell["causes"][0]["kind"] == "nondeterministic_here"


def test_cli_exit_codes_and_reports(work, tmp_path, capsys):
    assert cli("verify", work / "nb.ipynb", "-q", "--report-json", tmp_path / "r.json") == 0
    data = json.loads((tmp_path / "r.json").read_text())
    schema.validate("driftReport", data)
    _edit(work / "nb.ipynb", 2, "np.sin(3 * x)", "np.sin(4 * x)")
    html, junit = tmp_path / "r.html", tmp_path / "r.xml"
    assert cli("verify", work / "nb.ipynb", "--html", html, "--junit", junit) == 1
    out = capsys.readouterr().out
    assert "DRIFT" in out and "source_changed" in out
    import xml.etree.ElementTree as ET

    suite = ET.fromstring(junit.read_text())
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert int(suite.get("failures")) >= 1
    page = html.read_text()
    assert "source_changed" in page or "source changed" in page
    assert "<mark" in page  # the changed numbers are highlighted


def test_update_accepts_new_outputs(work):
    _edit(work / "nb.ipynb", 2, "np.sin(3 * x)", "np.sin(4 * x)")
    assert cli("verify", work / "nb.ipynb", "-q", "--update") == 1
    assert cli("verify", work / "nb.ipynb", "-q") == 0


@pytest.mark.parametrize("problem", ["syntax", "kernel", "store", "malformed"])
def test_could_not_verify_is_exit_2_with_one_line(work, capsys, problem):
    path = work / "nb.ipynb"
    if problem == "syntax":
        _edit(path, 5, "w = lr * epochs", "w = lr *")
    elif problem == "kernel":
        nb = nbformat.read(path, 4)
        # a missing *Python* kernelspec runs on python3 (tests/test_truth.py); another language cannot
        nb.metadata["kernelspec"].update(name="no-such-kernel", language="julia")
        nbformat.write(nb, path)
    elif problem == "store":
        shutil.rmtree(work / ".repro")
    else:
        path.write_text('{"cells": [')
    assert cli("verify", path) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith(f"{path}: ERROR — ")
    assert {
        "syntax": "syntax error",
        "kernel": "no-such-kernel",
        "store": "missing store",
        "malformed": "not a valid notebook",
    }[problem] in out[0]
    assert "Traceback" not in "\n".join(out)


def test_unrecorded_notebook_uses_stored_outputs_and_leaves_no_store(tmp_path):
    src = make_notebook(tmp_path / "plain.ipynb", ["print(6 * 7)"])
    nbformat.write(nbformat.read(src, 4), src)
    from nbclient import NotebookClient

    nb = nbformat.read(src, 4)
    NotebookClient(nb, kernel_name="python3").execute()
    nbformat.write(nb, src)
    report = _verify(src)
    assert report["status"] == "reproduced" and report["recorded"] is False
    assert not (tmp_path / ".repro").exists()
    nb.cells[0].outputs[0]["text"] = "43\n"
    nbformat.write(nb, src)
    report = _verify(src)
    assert report["status"] == "drift" and report["cells"][0]["causes"][0]["kind"] != "seed"


def test_parallel_jobs(work, tmp_path):
    other = tmp_path / "copy"
    shutil.copytree(work, other)
    assert cli("verify", work / "nb.ipynb", other / "nb.ipynb", "-j", "2", "-q") == 0


def test_seed_sensitivity_reports_spread_of_seed_dependent_numbers(tmp_path, capsys):
    src = make_notebook(
        tmp_path / "s.ipynb",
        [
            "import numpy as np, datetime",
            "print('score', round(np.random.rand(), 4), 'fixed', 42)\n"
            "print('at', datetime.datetime.now())",  # the run's own clock is not seed-dependent
        ],
    )
    out = tmp_path / "sens.json"
    assert cli("sensitivity", src, "--seeds", "3", "--report-json", out) == 0
    report = json.loads(out.read_text())
    numbers = report["cells"][0]["numbers"]
    assert len(numbers) == 1  # 42 does not depend on the seed
    assert numbers[0]["context"].startswith("score ▢") and len(set(numbers[0]["values"])) == 3
    assert numbers[0]["min"] <= numbers[0]["median"] <= numbers[0]["max"]
    assert "spread" in capsys.readouterr().out


def test_pyproject_settings_apply_and_the_command_line_wins(tmp_path, capsys):
    """``[tool.repro-jupyter]`` of the nearest pyproject.toml: a user normaliser and tolerances."""
    project = tmp_path / "proj"
    src = make_notebook(project / "nbs" / "run.ipynb", ["print('run id: abc123')", "print(1.0)"])
    assert cli("run", src, "-q") == 0
    nb = nbformat.read(src, 4)
    nb.cells[0].outputs[0]["text"] = "run id: zz9999\n"
    nb.cells[1].outputs[0]["text"] = "1.001\n"
    nbformat.write(nb, src)
    assert cli("verify", src, "-q") == 1  # no settings: both cells drift

    (project / "pyproject.toml").write_text(
        "[tool.repro-jupyter]\nrtol = 0.01\n"
        'normalize = [{name = "run-id", pattern = "run id: \\\\w+", replace = "run id: <ID>"}]\n'
    )
    report = _verify(src)
    assert [c["status"] for c in report["cells"]] == ["benign", "within_tolerance"], report["cells"]
    assert cli("verify", src, "-q", "--rtol", "1e-6") == 1  # the command line beats the file
    (project / "pyproject.toml").write_text("[tool.repro-jupyter\nbroken")
    assert cli("verify", src, "-q") == 2  # an unreadable file is said in one line (exit 2), never ignored
