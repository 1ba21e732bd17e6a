"""Cheap explain trials (``repro_jupyter.explain.shortcut``): when a trial may start from a
checkpoint, and that a set only such trials showed is proven from the top before it is named."""

from __future__ import annotations

from types import SimpleNamespace

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.explain import core, shortcut, trials
from repro_jupyter.explain.bisect import Bisection


def _nb(sources: list[str]):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for i, cell in enumerate(nb.cells):
        cell.metadata[METADATA_KEY] = {"record": f"sha256:{i:064x}"}
    return nb


def _report(nb, status="same"):
    return {"cells": [{"index": i, "status": status} for i in range(len(nb.cells))]}


class _Store:
    """Stands in for the store: every variable checkpointed unless named in ``missing``."""

    url = None
    root = "/tmp/store"

    def __init__(self, variables: dict, missing: frozenset = frozenset()) -> None:
        self.variables, self.missing = variables, missing
        self.objects = SimpleNamespace(get_record=lambda digest: {"state": {}})
        self.catalog = SimpleNamespace(checkpoint=lambda d: None if d in self.missing else {"format": "npy"})


@pytest.fixture
def store(monkeypatch):
    made = _Store({"data": {"digest": "fp-data"}})
    monkeypatch.setattr("repro_jupyter.state_chain.full_state", lambda store, record: store.variables)
    return made


@pytest.mark.parametrize(
    "earlier, why",
    [
        ("import pandas as pd\npd.set_option('display.precision', 2)", "pd.set_option()"),
        ("import matplotlib.pyplot as plt\nplt.style.use('ggplot')", "plt.style.use()"),
        ("import pandas as pd\npd.options.display.max_rows = 5", "assigns pd.options.display.max_rows"),
        ("import os\nos.environ['OMP_NUM_THREADS'] = '1'", "assigns os.environ['OMP_NUM_THREADS']"),
        ("import numpy as np\nnp.random.seed(0)", "np.random.seed()"),
        ("data = [1]\nimport pandas as pd\npd.DataFrame(data).to_csv('x.csv')", "to_csv()"),
        ("with open('out.txt', 'w') as fh:\n    fh.write('x')", "open(…) for writing"),
        ("import torch\ndef setup():\n    torch.set_num_threads(1)\nsetup()", "setup()"),
        (
            "import warnings\nclass Run:\n    def quiet(self):\n        warnings.simplefilter('ignore')\n"
            "Run().quiet()",
            "Run().quiet()",
        ),
        ("%time data = [1]", "runs %time"),
        ("!touch x", "runs !"),
        ("%%capture\ndata = [1]", "runs %capture"),
    ],
)
def test_an_earlier_cell_that_changes_what_a_checkpoint_does_not_hold_means_from_the_top(store, earlier, why):
    nb = _nb([earlier, "data = [2]", "print(data)"])
    found, reason = shortcut.plan(nb, store, _report(nb), 2)
    assert found is None and "trials start from the top" in reason
    assert why in reason and "cell 1" in reason


def test_a_sound_shortcut_keeps_definitions_checks_out_and_runs_only_the_drifting_cell(store):
    sources = [
        "%load_ext repro_jupyter\n%repro on",
        "import numpy as np\nimport matplotlib.pyplot as plt\ndef f(x):\n    return x * 2\n"
        "data = np.arange(5)\nplt.plot(data)\nprint(np.mean(data))",
        "%%repro\ndata = f(data)\ndata.sum()",
        "print(data)",
        "print('after')",
    ]
    nb = _nb(sources)
    found, reason = shortcut.plan(nb, store, _report(nb), 3)
    assert reason == "" and found is not None and found.start == 2
    cells = [c.source for c in found.notebook.cells]
    assert len(cells) == 4  # nothing after the drifting cell
    assert "run_line_magic('load_ext', 'repro_jupyter')" in cells[0]
    assert "import numpy as np" in cells[1] and "def f(x)" in cells[1] and "arange" not in cells[1]
    assert "plt.plot" not in cells[1] and "print" not in cells[1]
    assert "data = f(data)" not in cells[2]
    assert cells[2].endswith(
        f"checkout {nb.cells[2].metadata[METADATA_KEY]['record']} --eager --store /tmp/store')"
    )
    assert cells[3] == "print(data)"
    assert [c.source for c in nb.cells] == sources  # the notebook itself is not touched
    assert "restore the state after cell 3" in found.note(3) and "run only cell 4" in found.note(3)


def test_no_shortcut_when_a_variable_was_not_checkpointed_or_a_cell_did_not_reproduce(monkeypatch):
    monkeypatch.setattr("repro_jupyter.state_chain.full_state", lambda store, record: store.variables)
    nb = _nb(["data = [1]", "print(data)"])
    big = _Store({"data": {"digest": "fp", "skipped": "larger than checkpoint_max_object_bytes"}})
    found, reason = shortcut.plan(nb, big, _report(nb), 1)
    assert found is None and "'data' was not checkpointed (larger than" in reason
    lost = _Store({"data": {"digest": "fp"}}, missing=frozenset({"fp"}))
    assert "'data' was not checkpointed" in shortcut.plan(nb, lost, _report(nb), 1)[1]
    ok = _Store({"data": {"digest": "fp"}})
    found, reason = shortcut.plan(nb, ok, _report(nb, "unverified"), 1)
    assert found is None and reason == "cell 1 was unverified in verify: trials start from the top"
    assert shortcut.plan(nb, ok, _report(nb), 0) == (None, "")  # nothing before the drift to skip


def test_a_failed_checkout_is_found_in_the_cell_outputs():
    nb = _nb(["x", "y"])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="restored 1 variable(s) from cell c: a\n"),
        nbformat.v4.new_output("stream", name="stdout", text="  model: not checkpointed (unpicklable)\n"),
    ]
    assert shortcut.checkout_problem(nb, 0) == "model: not checkpointed (unpicklable)"
    nb.cells[0].outputs = [
        nbformat.v4.new_output("error", ename="UsageError", evalue="no record", traceback=[])
    ]
    assert shortcut.checkout_problem(nb, 0) == "UsageError: no record"
    nb.cells[0].outputs = []
    assert shortcut.checkout_problem(nb, 0) == ""


def test_a_set_only_cheap_trials_showed_is_run_from_the_top_and_a_wrong_lead_is_searched_again(monkeypatch):
    """The cheap trials say p0 fixes it, the runs from the top say p5: p5 is the answer."""
    pins = [f"p{i}==1.0" for i in range(8)]
    calls: list[tuple[tuple[str, ...], bool]] = []

    def fake_run(ctx, kernel, *, upto=None, env=None, jupyter_path=None, shortcut=None):
        subset = tuple(jupyter_path.split(","))
        calls.append((subset, shortcut is not None))
        culprit = "p0==1.0" if shortcut is not None else "p5==1.0"
        result = "reproduced" if culprit in subset else "drift"
        return trials.Outcome(result, 0.1, {}, start=1 if shortcut is not None else None)

    builder = SimpleNamespace(
        build=lambda subset: SimpleNamespace(
            kernel_name="k",
            jupyter_path=",".join(subset),
            digest="sha256:" + "0" * 64,
            pins=subset,
            reused=True,
        )
    )
    monkeypatch.setattr(trials, "run", fake_run)
    events: list[dict] = []
    run = core._Run(SimpleNamespace(), core.ExplainOptions(max_trials=12, on_event=events.append))
    run.shortcut = SimpleNamespace(start=1)
    changes = [
        SimpleNamespace(pin=p, name=p[:2], recorded="1.0", now="2.0", text=lambda p=p: p) for p in pins
    ]
    cause, text = core._packages(run, builder, changes, 2)
    assert cause is not None and [c["name"] for c in cause["put_back"]] == ["p5"], text
    assert calls[0] == (tuple(pins), False)  # everything put back: from the top
    assert calls[-1] == (("p5==1.0",), False)  # the proof: from the top
    assert any(cheap for _, cheap in calls)
    assert any("the search starts again from the top" in n for n in run.notes)
    assert run.bisection["trials"] == len(calls) <= 12
    # progress (the Lab's "Find the cause"): each trial announced, then its report entry, in order
    kinds = [e["event"] for e in events if e["event"] != "environment"]
    assert kinds == ["trial", "done"] * len(calls)
    assert [e["trial"] for e in events if e["event"] == "done"] == run.trials
    assert events[0] == {
        "event": "environment",
        "text": "preparing a trial environment with " + ", ".join(p.replace("==", " ") for p in pins),
    }


def test_bisection_marks_the_trials_whose_answer_is_the_result():
    seen: list[tuple[tuple[str, ...], bool]] = []
    names = tuple(f"p{i}" for i in range(8))

    def fixes(subset, final):
        seen.append((subset, final))
        return "p7" in subset

    assert Bisection(fixes, 12).run(names) == ("p7",)
    assert seen[0] == (names, True) and seen[-1] == (("p7",), True)
    assert all(not final for _, final in seen[1:-1])


def test_the_explain_report_is_redacted_where_it_is_made(tmp_path):
    """A shortcut note quotes the assignment it refused (``os.environ['<a token>']``): the CLI printed
    the report before anything redacted it."""
    import json

    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    nb = _nb([f"import os\nos.environ['{token}'] = '1'", "print(1)"])
    _, why = shortcut.plan(nb, None, _report(nb), 1)
    assert token in why  # the note itself quotes the source
    run = core._Run(SimpleNamespace(path=tmp_path / "nb.ipynb"), core.ExplainOptions())
    run.notes.append(why)
    out = core._report(run, "not_proven", "no cause proven", None, {"status": "drift"})
    assert token not in json.dumps(out) and "<redacted>" in out["notes"][0]
