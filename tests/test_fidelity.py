"""The fidelity harness (``bench/fidelity.py``, issue 12): its fast subset, and the harness itself.

The subset records three corpus notebooks with ``jupyter repro run`` and verifies them at once
(0 false drift), then injects a changed literal, another master seed, a changed CSV value and a
changed hyperparameter, each of which must be caught at the right cell with the right cause.
The unit tests below check that the harness's expectations (found with ``ast`` and a plain
nbclient oracle) are right, so a FAIL in the table is the tool's, not the harness's.
"""

from __future__ import annotations

import subprocess

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from bench import fidelity, fidelity_inject, fidelity_oracle
from bench.fidelity_corpus import QUICK, select
from bench.fidelity_table import render

from .conftest import corpus_or_skip

# (notebook, injection) pairs of the fast subset that must be applicable: if the harness stops
# finding them, it measures nothing and must say so
APPLICABLE = [
    ("wwt_05_scalar_types", "constant"),
    ("wwt_05_scalar_types", "param"),
    ("pdsh_03.07", "data"),
    ("nbval_latex_example", "constant"),
    ("nbval_latex_example", "seed"),
    ("testbook_dataframe", "constant"),  # a DataFrame's value, not only its display (pandas 3 frames)
]


@pytest.fixture(scope="module")
def quick_rows(tmp_path_factory):
    corpus_or_skip()
    pytest.importorskip("pandas")
    pytest.importorskip("sympy")
    results = fidelity.run_all(select(None, quick=True), jobs=1, keep=tmp_path_factory.mktemp("fidelity"))
    return {row["id"]: row for row in results["rows"]}


@pytest.mark.parametrize("nb_id", QUICK)
def test_record_then_verify_has_no_false_drift(quick_rows, nb_id):
    row = quick_rows[nb_id]
    assert row["record"]["exit"] == 0, row["record"]["message"]
    assert row["verify"]["false_drifts"] == [], row["verify"]["false_drifts"]
    assert row["verify"]["exit"] == 0, row["verify"]["message"]


@pytest.mark.parametrize(("nb_id", "kind"), APPLICABLE)
def test_injected_change_is_caught_at_the_right_cell_with_the_right_cause(quick_rows, nb_id, kind):
    result = quick_rows[nb_id]["injections"][kind]
    assert result["status"] != "n/a", f"the harness found nothing to inject: {result['why']}"
    assert result["status"] == "ok", f"{result['why']} ({result.get('change')}; got {result.get('got')})"


# --- the harness itself: no kernels below unless said ----------------------------------------


def _notebook(*sources, outputs=None):
    cells = []
    for i, source in enumerate(sources):
        if source.startswith("#md "):
            cells.append(new_markdown_cell(source[4:]))
            continue
        cell = new_code_cell(source)
        cell.outputs = [new_output("execute_result", data={"text/plain": "x"}, execution_count=1)]
        if outputs and i in outputs:
            cell.outputs = outputs[i]
        cells.append(cell)
    return new_notebook(cells=cells)


def test_constant_candidates_skip_indexes_keywords_comments_and_strings():
    nb = _notebook(
        "#md text",
        "x = [1, 2, 3]\nx[1] + len(x)  # 7 in a comment",
        "round(2.5, ndigits=3) + float('4')",
        "print(2 * 21)",
    )
    found = fidelity_inject.constant_candidates(nb)
    assert [(c.index, c.old, c.new) for c in found] == [(2, "2.5", "3.75"), (3, "2", "3"), (3, "21", "22")]
    assert found[1].changed_source == "print(3 * 21)"
    assert found[1].changed_statement == "print(3 * 21)" and found[1].body == ""


def test_constant_candidates_need_a_recorded_result_and_plain_python():
    nb = _notebook("%time 2 + 2", "y = 3", "y * 2")
    nb.cells[1].outputs = []
    nb.cells[2].outputs = [new_output("error", ename="E", evalue="", traceback=[])]
    assert fidelity_inject.constant_candidates(nb) == []


def test_constant_candidates_elsewhere_leave_defs_and_literal_assignments_to_the_others():
    nb = _notebook("lr = 0.5\ndef f():\n    return 7\nw = np.ones(3) * 4\nw", outputs={0: []})
    found = fidelity_inject.constant_candidates(nb, shown=False)
    assert [(c.index, c.old, c.new) for c in found] == [(0, "3", "4"), (0, "4", "5")]
    assert found[1].body == "" and found[1].statement == nb.cells[0].source
    assert found[1].changed_source.endswith("w = np.ones(3) * 5\nw")


def test_message_prefers_the_tools_error_line():
    proc = subprocess.CompletedProcess(
        [],
        1,
        "wrote nb: 3/3 cells\nmaster seed 1",
        "[IPKernelApp] WARNING | x\njupyter repro run: error: cell 37 raised AttributeError: append",
    )
    assert fidelity.message(proc) == "jupyter repro run: error: cell 37 raised AttributeError: append"
    proc = subprocess.CompletedProcess([], 1, "nb.ipynb: DRIFT — cell 3 drift: x\n  ✗ cell 3", "")
    assert fidelity.message(proc) == "nb.ipynb: DRIFT — cell 3 drift: x | ✗ cell 3"


def test_param_candidates_need_a_later_reader_and_no_rebinding():
    nb = _notebook("lr = 0.5\nn = 3\nn += 1", "unused = 7", "epochs = -2", "print(lr, epochs)", "lr = 1")
    found = fidelity_inject.param_candidates(nb)
    assert [(p.index, p.name, p.old, p.new) for p in found] == [
        (0, "lr", "0.5", "0.75"),
        (2, "epochs", "2", "3"),
    ]
    assert found[1].changed_source == "epochs = -3"


def test_rng_cells_find_global_draws_not_seeded_generators():
    nb = _notebook(
        "import numpy as np\nrng = np.random.default_rng(1701)\nrng.random(3)",
        "np.random.seed(0)",
        "def noise():\n    return np.random.rand()",
        "noise() + 1",
        "from sklearn.model_selection import train_test_split\ntrain_test_split([1, 2], random_state=0)",
        "train_test_split([1, 2])",
        "import random\nrandom.choice([1, 2])",
    )
    assert fidelity_inject.rng_cells(nb) == [3, 5, 6]


def test_data_target_ignores_comments(tmp_path):
    nb = _notebook("# !curl -O data/pop.csv", "import pandas as pd\npop = pd.read_csv('data/pop.csv')")
    assert fidelity_inject.data_target(nb, ["data/pop.csv"]) == ("data/pop.csv", 1)
    csv = tmp_path / "pop.csv"
    csv.write_text("state,year,pop\nAL,2010,100\nAK,2011,200\nAZ,2012,300.5\n")
    said = fidelity_inject.change_one_number(csv)
    assert csv.read_text() == "state,year,pop\nAL,2010,100\nAK,2012,200\nAZ,2012,300.5\n", said


def test_first_change_ignores_what_differs_between_two_identical_runs():
    obs = fidelity_oracle.Observation
    base = {"0": obs([("stream", "stdout", "12 ms")], {"t": "1"}), "1": obs([], {"a": "1", "t": "1"})}
    again = {"0": obs([("stream", "stdout", "13 ms")], {"t": "2"}), "1": obs([], {"a": "1", "t": "2"})}
    variant = {"0": obs([("stream", "stdout", "11 ms")], {"t": "3"}), "1": obs([], {"a": "2", "t": "3"})}
    assert fidelity_oracle.first_change(base, again, variant, ["0", "1"]) == ("1", "variables a")
    assert fidelity_oracle.first_change(base, again, base, ["0", "1"]) is None


def test_oracle_outputs_mask_addresses_and_the_cells_temp_file_only():
    text = "/tmp/ipykernel_12/2837462.py:1: FutureWarning: <obj at 0x7f00aabbcc> 12:07 2.5"
    out = fidelity_oracle.normal_outputs([{"output_type": "stream", "name": "stderr", "text": text}])
    assert out == [("stream", "stderr", "/tmp/<cell>:1: FutureWarning: <obj at 0x?> 12:07 2.5")]


def test_judge_fails_a_wrong_cell_a_wrong_cause_and_a_silent_pass():
    def result(exit_code, index, kind):
        cell = {
            "index": index,
            "status": "drift",
            "causes": [{"kind": kind, "detail": "d"}],
            "differences": [],
        }
        return {
            "exit": exit_code,
            "first_drift": index,
            "cells": [cell] if index is not None else [],
            "message": "",
        }

    assert fidelity.judge(result(1, 7, "seed"), 7, "seed")["status"] == "ok"
    assert "want #8 (idx 7)" in fidelity.judge(result(1, 9, "seed"), 7, "seed")["why"]
    assert "top cause threads_change" in fidelity.judge(result(1, 7, "threads_change"), 7, "seed")["why"]
    assert "exit 0" in fidelity.judge(result(0, None, ""), 7, "seed")["why"]
    assert fidelity.judge(result(1, 3, "seed"), None, "seed")["status"] == "FAIL"


def test_oracle_sees_a_seed_change_in_a_real_kernel(tmp_path):
    """One plain kernel run per seed: the oracle observes values, and seeds each cell itself."""
    nb = _notebook("import random\nv = random.random()", "w = 2")
    runs = [
        fidelity_oracle.run(tmp_path, fidelity_oracle.plain_steps(nb, master), uses_torch=False)
        for master in (1, 1, 2)
    ]
    assert runs[0]["0"].state["v"] == runs[1]["0"].state["v"]
    assert fidelity_oracle.first_change(*runs, keys=["0", "1"]) == ("0", "variables v")


def test_table_counts_false_drifts_and_failures():
    rows = [
        {"id": "a", "skip": "no lib.py"},
        {
            "id": "b",
            "record": {"exit": 0, "message": ""},
            "verify": {
                "exit": 1,
                "status": "drift",
                "message": "",
                "unverified": [],
                "false_drifts": [
                    {
                        "cell": "#3 (idx 2)",
                        "status": "drift",
                        "source": "ax",
                        "differences": ["x"],
                        "top_cause": "u",
                    }
                ],
            },
            "injections": {
                "constant": {"status": "ok", "expected_cell": 1},
                "seed": {"status": "n/a", "why": ""},
                "data": {"status": "n/a", "why": ""},
                "param": {"status": "FAIL", "why": "exit 0", "got": {}},
            },
        },
    ]
    text, clean = render(rows)
    assert not clean
    assert "| b | 0 | 1 | 1 (first #3 (idx 2)) | 0 | ok | n/a | n/a | FAIL(exit 0) |" in text
    assert "FALSE DRIFT at cell #3 (idx 2)" in text and "(param) FAIL: exit 0" in text


def test_an_expected_record_failure_is_not_a_failure_but_a_missing_one_is():
    def row(got, want):
        return {
            "id": "n",
            "note": "new error",
            "record": {"exit": got, "expected_exit": want, "message": "cell 3"},
        }

    text, clean = render([row(1, 1)])
    assert clean and "| n | 1 (expected): cell 3 |" in text
    missing = {"exit": 0, "status": "reproduced", "message": "", "unverified": [], "false_drifts": []}
    text, clean = render(
        [
            {
                **row(0, 1),
                "verify": missing,
                "injections": dict.fromkeys(("constant", "seed", "data", "param"), {"status": "n/a"}),
            }
        ]
    )
    assert not clean and "| n | 0 (want 1) | 0 |" in text and "- n: record exit 0" in text


def test_the_changed_oracle_run_sits_between_the_two_identical_ones(monkeypatch, tmp_path):
    """A clock a cell prints (`!ls -l` mtime) that reads the same in both base runs then reads the
    same in the changed run: mrd_01's seed injection once expected a drift from a minute boundary."""
    nb = _notebook("import random\nv = random.random()", "w = 2")
    order: list[str] = []
    book = fidelity.Notebook(select(["nbval_issue67_notebook1"], False)[0], tmp_path)

    def observe(label, steps, change=None):
        order.append(label)
        return {s.key: fidelity_oracle.Observation([], {"v": label}) for s in steps}

    monkeypatch.setattr(book, "observe", observe)
    monkeypatch.setattr(
        book, "variant", lambda *a: {"exit": 0, "first_drift": None, "cells": [], "message": ""}
    )
    nb.metadata["repro_jupyter"] = {"master_seed": 5}
    book.seed(nb)
    assert order == ["oracle-base", "oracle-seed", "oracle-again"]
    order.clear()
    nb = _notebook("print(2 * 21)")
    steps = []
    monkeypatch.setattr(
        book,
        "observe",
        lambda label, s, change=None: (
            steps.extend(s)
            or {x.key: fidelity_oracle.Observation([("stream", "stdout", x.source)], {}) for x in s}
        ),
    )
    assert book._confirmed_constant(nb, shown=True) is not None
    assert [s.key for s in steps] == ["0", "0/old1", "0/new", "1/new", "0/old2"]
