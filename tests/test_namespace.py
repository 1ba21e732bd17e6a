"""Skipping work soundly: what is re-hashed after a cell, counted (no timing)."""

from __future__ import annotations

import numpy as np
import pytest

from repro_jupyter import fingerprint as fingerprint_module
from repro_jupyter import namespace
from repro_jupyter.namespace import StateTracker, candidate_names

BIG = 128 * 1024 * 1024 // 4  # 128 MB of float32 keeps the test quick; the bench uses 1 GiB


@pytest.fixture
def counted(monkeypatch):
    """Count fingerprint calls per type, through the real fingerprint function."""
    calls: list[str] = []
    real = fingerprint_module.fingerprint

    def counting(value):
        calls.append(type(value).__name__)
        return real(value)

    monkeypatch.setattr(namespace, "fingerprint", counting)
    return calls


def _run(tracker, ns, source):
    exec(compile(source, "<cell>", "exec"), ns)
    return tracker.update(ns, source, set())


def test_one_element_change_of_a_big_array_is_detected(counted):
    ns: dict = {}
    tracker = StateTracker()
    before = _run(tracker, ns, f"import numpy as np\nbig = np.zeros({BIG}, dtype=np.float32)\nsmall = 1")
    after = _run(tracker, ns, "big[12345] = 1.0")
    assert before["big"]["digest"] != after["big"]["digest"]


def test_cell_touching_only_a_small_variable_rehashes_nothing_large(counted):
    ns: dict = {}
    tracker = StateTracker()
    _run(tracker, ns, f"import numpy as np\nbig = np.zeros({BIG}, dtype=np.float32)\nsmall = [1]")
    counted.clear()
    _run(tracker, ns, "small.append(2)")
    assert counted == ["list"]
    assert tracker.last_stats.hashed_bytes < 1000 and tracker.last_stats.reused >= 1


def test_in_place_write_through_a_function_from_an_earlier_cell_is_detected(counted):
    ns: dict = {}
    tracker = StateTracker()
    first = _run(tracker, ns, "import numpy as np\narr = np.zeros(10)\ndef bump():\n    arr[0] += 1")
    second = _run(tracker, ns, "bump()")
    assert first["arr"]["digest"] != second["arr"]["digest"]


def test_write_through_a_method_and_through_a_container_are_detected():
    ns: dict = {}
    tracker = StateTracker()
    first = _run(
        tracker,
        ns,
        "import numpy as np\nw = np.zeros(4)\nholder = {'w': w}\n"
        "class Trainer:\n    def step(self):\n        w[1] = 5\nt = Trainer()",
    )
    second = _run(tracker, ns, "holder['w'][2] = 7")
    assert first["w"]["digest"] != second["w"]["digest"]
    third = _run(tracker, ns, "t.step()")
    assert second["w"]["digest"] != third["w"]["digest"]


def test_unanalysable_cells_hash_everything(counted):
    ns: dict = {}
    tracker = StateTracker()
    _run(tracker, ns, "import numpy as np\na = np.zeros(5)\nb = np.ones(5)")
    counted.clear()
    _run(tracker, ns, "exec('a[0] = 3')")
    assert sorted(counted) == ["ndarray", "ndarray"] and tracker.last_stats.full


def test_magics_that_run_code_make_the_cell_unanalysable():
    assert candidate_names("%time x = f()", {}) is None
    assert candidate_names("%%capture\nx = 1", {}) is None
    assert candidate_names("%matplotlib inline\ny = 2", {}) == {"get_ipython", "y"}


def test_torch_version_counter_fast_path(counted):
    torch = pytest.importorskip("torch")
    ns: dict = {"torch": torch}
    tracker = StateTracker()
    _run(tracker, ns, "t = torch.zeros(1000)\nu = torch.ones(10)")
    counted.clear()
    _run(tracker, ns, "s = t.sum()")  # t is read, not written: its _version proves it unchanged
    assert counted.count("Tensor") == 1  # only the new scalar s
    before = tracker._previous["t"][1]["digest"]
    _run(tracker, ns, "t.add_(1)")
    assert tracker._previous["t"][1]["digest"] != before


def test_model_and_optimizer_are_co_variables():
    torch = pytest.importorskip("torch")
    ns: dict = {"torch": torch}
    tracker = StateTracker()
    fps = _run(
        tracker, ns, "m = torch.nn.Linear(2, 2)\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\nalias = m"
    )
    assert fps["m"]["shares"] == ["alias", "opt"] and fps["opt"]["shares"] == ["alias", "m"]
    assert fps["alias"]["digest"] == fps["m"]["digest"]


def test_numpy_array_is_hashed_when_it_is_a_candidate(counted):
    ns: dict = {"np": np}
    tracker = StateTracker()
    _run(tracker, ns, "a = np.zeros(3)")
    counted.clear()
    _run(tracker, ns, "b = a.sum()")  # numpy has no version counter: a read is re-hashed (sound)
    assert counted.count("ndarray") == 1


def test_a_dataframe_read_from_a_csv_with_one_changed_value_fingerprints_differently(tmp_path):
    """pandas 3: ``getattr(df, "columns", [df.name])`` raised, so every frame was silently skipped."""
    pd = pytest.importorskip("pandas")
    from repro_jupyter.fingerprint import fingerprint

    rows = "city,temp\nOslo,1.5\nLima,22.0\nPune,30.25\n"
    (tmp_path / "a.csv").write_text(rows)
    (tmp_path / "b.csv").write_text(rows.replace("22.0", "22.5"))
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    fa, fb, again = fingerprint(a), fingerprint(b), fingerprint(pd.read_csv(tmp_path / "a.csv"))
    assert "skipped" not in fa and fa["digest"] and not fa.get("opaque")
    assert fa["digest"] != fb["digest"]
    assert fa["digest"] == again["digest"]
    assert fingerprint(a["temp"])["digest"] != fingerprint(b["temp"])["digest"]
    renamed = a.rename(columns={"temp": "celsius"})
    assert fingerprint(renamed)["digest"] != fa["digest"]  # labels are part of the value


def test_requires_grad_and_eval_mode_changes_are_rehashed():
    """Neither bumps a tensor's ``_version``: the fast path must not prove the module unchanged."""
    torch = pytest.importorskip("torch")
    ns: dict = {"torch": torch}
    tracker = StateTracker()
    first = _run(tracker, ns, "m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))")
    second = _run(tracker, ns, "m[1].eval()")
    assert first["m"]["digest"] != second["m"]["digest"]
    third = _run(tracker, ns, "m[0].weight.requires_grad_(False)")
    assert second["m"]["digest"] != third["m"]["digest"]
