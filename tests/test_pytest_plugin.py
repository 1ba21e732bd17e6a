"""``pytest --repro``: one item per code cell, real kernels, readable failures, xdist groups."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_output

from repro_jupyter import pytest_items
from repro_jupyter.pytest_items import format_cell_failure
from repro_jupyter.pytest_plugin import collection_enabled, verify_options

from .conftest import cli, make_notebook

pytest_plugins = ["pytester"]

SOURCES = [
    "import numpy as np\nrng = np.random.default_rng(0)",  # 0
    "k = 3\nprint(k)",  # 1  the constant the drift test edits
    "x = np.linspace(0, 1, 4) * k\nprint(x.round(4))",  # 2  downstream of cell 1
    "print(rng.random(2).round(4))",  # 3  independent of cell 1
]
IDS = ["setup", "param", "scaled", "draw"]


def _plugin_args() -> list[str]:
    """``-p`` only until the ``pytest11`` entry point is installed (loading it twice is an error)."""
    installed = any(
        ep.value.split(":")[0] == "repro_jupyter.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    if installed and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return []
    return ["-p", "repro_jupyter.pytest_plugin"]


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # (the rewrite warning: this process imported the plugin before the inner run)
    quiet = ["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    return pytester.runpytest(*_plugin_args(), *quiet, *args)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A notebook recorded once with ``jupyter repro run`` (plus its store); tests copy it."""
    base = tmp_path_factory.mktemp("recorded")
    make_notebook(base / "nb.ipynb", SOURCES, ids=IDS)
    assert cli("run", base / "nb.ipynb", "-q") == 0
    return base


def _copy_recorded(recorded: Path, target: Path) -> Path:
    shutil.copytree(recorded, target, dirs_exist_ok=True)
    return target / "nb.ipynb"


def _unrecorded(path: Path) -> Path:
    """Never recorded: verified against its saved outputs; two cells are tagged to be skipped."""
    make_notebook(
        path,
        ["print(0.1 + 0.2)", "raise RuntimeError('never run')", "raise RuntimeError('never run either')"],
        ids=["sum", "tagged-repro", "tagged-nbval"],
    )
    nb = nbformat.read(path, 4)
    nb.cells[0].outputs = [new_output("stream", name="stdout", text="0.3\n")]  # float noise: within rtol
    nb.cells[0].execution_count = 1
    nb.cells[1].metadata["tags"] = ["repro-skip"]
    nb.cells[2].metadata["tags"] = ["nbval-skip"]
    nbformat.write(nb, path)
    return path


def test_notebooks_are_not_collected_without_repro(pytester, recorded):
    _copy_recorded(recorded, pytester.path)
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_recorded_notebook_passes_every_cell_and_runs_it_once(pytester, recorded, monkeypatch):
    _copy_recorded(recorded, pytester.path)
    calls = []
    real = pytest_items.verify_notebook

    def counting(path, options):
        calls.append(Path(path).name)
        return real(path, options)

    monkeypatch.setattr(pytest_items, "verify_notebook", counting)
    result = _run(pytester, "--repro", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*nb.ipynb::cell[[]1-setup] PASSED*", "*nb.ipynb::cell[[]4-draw] PASSED*"], consecutive=False
    )
    assert calls == ["nb.ipynb"]


def test_planted_drift_fails_that_cell_and_its_downstream_only(pytester, recorded):
    nb_path = _copy_recorded(recorded, pytester.path)
    nb = nbformat.read(nb_path, 4)
    nb.cells[1].source = "k = 4\nprint(k)"
    nbformat.write(nb, nb_path)
    result = _run(pytester, "--repro", "-rf")
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    summary = out.split("short test summary")[1]
    assert "FAILED nb.ipynb::cell[2-param] - nb.ipynb cell 2 drift: " in summary
    assert "FAILED nb.ipynb::cell[3-scaled] - nb.ipynb cell 3 drift: " in summary
    assert "cell[1-setup]" not in summary and "cell[4-draw]" not in summary
    # the edited cell: a unified diff, the numbers and the ranked causes
    assert "--- recorded" in out and "+++ re-executed" in out
    assert re.search(r"^\s+-3$", out, re.M) and re.search(r"^\s+\+4$", out, re.M)
    assert "3 -> 4 (integers must match exactly)" in out
    assert "source_changed" in out and "likely cause: " in out
    # the downstream cell says where the drift started, with relative deltas and the tolerance
    assert "downstream of the first drift, at cell 2" in out
    assert "(rel 33.3%, rtol 1e-05)" in out and "tolerance: rtol 1e-05, atol 1e-08" in out
    assert "Traceback" not in out and "pytest_items.py" not in out


def test_unrecorded_notebook_with_skip_tags(pytester):
    _unrecorded(pytester.path / "plain.ipynb")
    result = _run(pytester, "--repro", "-rsP")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1] plain.ipynb: cell 2: skipped by tag",
            "SKIPPED [[]1] plain.ipynb: cell 3: skipped by tag",
        ]
    )
    # the within-tolerance cell passes and says why in a report section
    result.stdout.fnmatch_lines(
        ["*Captured repro call*", "*0.3 -> 0.30000000000000004 (rel 1.85e-16, rtol 1e-05)"]
    )


def test_malformed_notebook_is_a_one_line_collection_error(pytester):
    (pytester.path / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    result = _run(pytester, "--repro")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken.ipynb: not a valid notebook:*"])
    assert "Traceback" not in result.stdout.str()


def test_unverifiable_notebook_fails_every_cell_with_the_reason(pytester, recorded):
    _copy_recorded(recorded, pytester.path)
    shutil.rmtree(pytester.path / ".repro")  # recorded metadata, but the store is gone
    result = _run(pytester, "--repro")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    assert len(re.findall(r"^notebook could not be verified: missing store", out, re.M)) == 4
    assert out.count("every cell of this notebook fails with this reason") == 1  # shown in full once
    assert "Traceback" not in out


def test_a_crashing_verifier_shows_a_short_traceback_once(pytester, recorded, monkeypatch):
    _copy_recorded(recorded, pytester.path)

    def crash(path, options):
        raise RuntimeError("boom")

    monkeypatch.setattr(pytest_items, "verify_notebook", crash)
    result = _run(pytester, "--repro")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    assert len(re.findall(r"^notebook could not be verified: RuntimeError: boom$", out, re.M)) == 4
    assert out.count("the verifier crashed") == 1 and "in crash" in out
    assert "_pytest/runner.py" not in out and "pluggy/_" not in out  # no pytest machinery in the traceback


@pytest.mark.parametrize("dist", ["loadfile", "loadgroup"])
def test_xdist_two_notebooks_in_parallel(pytester, recorded, dist):
    pytest.importorskip("xdist")
    _copy_recorded(recorded, pytester.path / "a")
    _unrecorded(pytester.path / "b" / "plain.ipynb")
    result = _run(pytester, "--repro", "-n", "2", "--dist", dist, "-v")
    result.assert_outcomes(passed=5, skipped=2)
    out = result.stdout.str()
    workers: dict[str, set[str]] = {}
    for worker, notebook in re.findall(r"\[(gw\d+)\] \[.*?\] \w+ (\S+\.ipynb)::cell\[\d+-[\w-]+\]\s", out):
        workers.setdefault(notebook, set()).add(worker)
    assert set(workers) == {"a/nb.ipynb", "b/plain.ipynb"}
    if dist == "loadgroup" and not re.search(r"::cell\[[^\]]*\]@", out):
        # pytest-xdist#1386 (pytest 9.2): xdist_group is not applied; the plugin must say so.
        assert "pytest-xdist#1386" in out
        return
    assert all(len(w) == 1 for w in workers.values()), workers  # each notebook ran once, on one worker


def test_options_from_ini_and_command_line(pytester):
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        repro = true
        repro_rtol = 1e-4
        repro_timeout = 30
        repro_strict_repr = true
        """
    )
    config = pytester.parseconfig(*_plugin_args())
    options = verify_options(config)
    assert collection_enabled(config)
    assert options.compare.rtol == 1e-4 and options.timeout == 30 and options.kernel is None
    assert options.compare.representation_is_benign is False
    config = pytester.parseconfig(*_plugin_args(), "--repro-rtol", "0.01", "--repro-kernel", "python3")
    options = verify_options(config)
    assert options.compare.rtol == 0.01 and options.kernel == "python3" and options.runs == 1

    result = _run(pytester, "--repro-rtol", "lots")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--repro-rtol / repro_rtol: expected float, got 'lots'*"])


def test_failure_text_shows_source_deltas_tolerance_and_causes():
    entry = {
        "index": 5,
        "id": "train",
        "status": "drift",
        "source": "\n".join(f"line_{i} = {i}" for i in range(20)),
        "differences": [
            {
                "kind": "output",
                "output_index": 0,
                "severity": "drift",
                "detail": "stdout: 1 number(s) differ, e.g. 0.25 -> 0.35 (rel 0.4 > rtol 1e-05)",
                "old": "loss 0.25\n",
                "new": "loss 0.35\n",
                "numeric": {
                    "deltas": [{"old": "0.25", "new": "0.35", "abs": 0.1, "rel": 0.4, "exact": False}],
                    "rtol": 1e-05,
                    "atol": 1e-08,
                },
            }
        ],
        "causes": [
            {"kind": "params", "score": 0.96, "detail": "hyperparameters changed: lr 0.1 -> 0.2"},
            {"kind": "upstream", "score": 0.5, "detail": "reads lr, which already differed after cell 1"},
        ],
    }
    report = {"first_drift": {"index": 1, "id": "p"}, "options": {"rtol": 1e-05, "atol": 1e-08}}
    text = format_cell_failure(entry, report, "train.ipynb")
    lines = text.splitlines()
    assert lines[0].startswith("train.ipynb cell 6 drift: stdout: 1 number(s) differ")
    assert "    line_14 = 14" in lines and "    line_15 = 15" not in lines
    assert "    ... (5 more lines)" in lines
    assert "      -loss 0.25" in lines and "      +loss 0.35" in lines
    assert "    numbers: 0.25 -> 0.35 (rel 40%, rtol 1e-05)" in lines
    assert "tolerance: rtol 1e-05, atol 1e-08" in lines
    assert "likely cause: 0.96 params: hyperparameters changed: lr 0.1 -> 0.2" in lines
    assert "        also: 0.50 upstream: reads lr, which already differed after cell 1" in lines
    assert "downstream of the first drift, at cell 2" in lines
