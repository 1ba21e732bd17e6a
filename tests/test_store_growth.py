"""The store grows with what changed, not with the size of the namespace times the number of cells.

A cell record holds only the variables that changed since the previous record of its kernel
session (``state.previous``), with a tombstone for a deleted one; restore/checkout, and every
other reader of "all live variables after a cell", follow the chain (``state_chain.full_state``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.compare.cell import state_differences
from repro_jupyter.errors import StoreError
from repro_jupyter.state_chain import full_state
from repro_jupyter.store import open_store

from .conftest import cli, make_notebook, run

N = 300
MIDDLE = 150  # checkout target: the record of cell index MIDDLE
DELETED = 50  # ``del x50`` runs before MIDDLE


@pytest.fixture(autouse=True)
def signing_key(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REPRO_JUPYTER_SIGNING_KEY", str(tmp_path_factory.mktemp("key") / "signing_key"))


def _sources() -> list[str]:
    sources = [f"x{i} = {i}" for i in range(N)]
    sources[100] = f"del x{DELETED}"  # a tombstone in the middle of the chain
    return sources


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One notebook of N one-line cells, run twice into two output notebooks."""
    folder = tmp_path_factory.mktemp("growth")
    src = make_notebook(folder / "g.ipynb", _sources())
    first, second = folder / "first.ipynb", folder / "second.ipynb"
    assert cli("run", src, "-q", "--seed", "3", "-o", first) == 0
    assert cli("run", src, "-q", "--seed", "3", "-o", second) == 0
    return folder, first, second


def _records(path: Path) -> list[str]:
    nb = nbformat.read(path, 4)
    return [c.metadata[METADATA_KEY]["record"] for c in nb.cells]


def test_records_grow_linearly(recorded):
    folder, first, _ = recorded
    store = open_store(folder, create=False)
    sizes = [store.objects.path_for(d).stat().st_size for d in _records(first)]
    half = N // 2
    early, late = sum(sizes[:half]), sum(sizes[half:])
    # a full copy of the namespace in every record makes the second half cost about 3x the first
    assert late <= 1.3 * early, (early, late)
    assert max(sizes[half:]) <= 1.5 * max(sizes[1:half]), (max(sizes[1:half]), max(sizes[half:]))


def test_records_chain_and_hold_only_what_changed(recorded):
    folder, first, _ = recorded
    store = open_store(folder, create=False)
    digests = _records(first)
    records = [store.objects.get_json(d) for d in digests]
    assert records[0]["state"]["previous"] is None
    for i in range(1, N):
        assert records[i]["state"]["previous"] == digests[i - 1]
    assert sorted(records[7]["state"]["variables"]) == ["x7"]
    assert records[100]["state"]["variables"] == {f"x{DELETED}": {"deleted": True}}
    whole = full_state(store, records[N - 1])
    assert set(whole) == {f"x{i}" for i in range(N) if i not in (DELETED, 100)}


def test_rerun_is_byte_identical(recorded):
    _, first, second = recorded
    assert first.read_bytes() == second.read_bytes()


def test_checkout_of_a_middle_cell_brings_back_every_variable(recorded, ip):
    folder, first, _ = recorded
    digest = _records(first)[MIDDLE]
    ip.user_ns[f"x{DELETED}"] = "stale"  # deleted before that cell: checkout must remove it
    ip.user_ns["x299"] = "later"  # defined after that cell: removed too
    ip.run_line_magic("repro", f"checkout {digest} --eager --store {folder / '.repro'}")
    expected = {f"x{i}": i for i in range(MIDDLE + 1) if i not in (DELETED, 100)}
    got = {n: ip.user_ns[n] for n in expected}
    assert got == expected
    assert f"x{DELETED}" not in ip.user_ns and "x299" not in ip.user_ns and "x100" not in ip.user_ns
    for name in expected:
        del ip.user_ns[name]
    ip.run_line_magic("repro", f"restore {digest} --store {folder / '.repro'}")
    assert {n: ip.user_ns[n] for n in expected} == expected


def test_restore_by_cell_id_in_a_live_session(ip):
    run(ip, "%repro on --seed 4")
    run(ip, "a = [1, 2]\nb = 'keep'", cell_id="c1")
    run(ip, "a.append(3)\nc = 5", cell_id="c2")
    run(ip, "del b\nd = 6", cell_id="c3")
    run(ip, "e = 7", cell_id="c4")
    for name in ("a", "b", "c", "d", "e"):
        ip.user_ns.pop(name, None)
    ip.run_line_magic("repro", "checkout c3 --eager")
    assert ip.user_ns["a"] == [1, 2, 3] and ip.user_ns["c"] == 5 and ip.user_ns["d"] == 6
    assert "b" not in ip.user_ns and "e" not in ip.user_ns


def test_a_broken_chain_is_one_line_error(recorded, tmp_path):
    import shutil

    folder, first, _ = recorded
    copy = tmp_path / "copy"
    shutil.copytree(folder / ".repro", copy / ".repro")
    store = open_store(copy, create=False)
    digests = _records(first)
    last = store.objects.get_json(digests[-1])
    path = store.objects.path_for(digests[MIDDLE])
    path.chmod(0o644)
    path.unlink()
    with pytest.raises(StoreError) as err:
        full_state(store, last)
    assert "state chain broken" in str(err.value) and "\n" not in str(err.value)


def _delta_record(variables: dict, previous: str | None = "sha256:p") -> dict:
    return {"state": {"previous": previous, "variables": variables}}


def test_judge_compares_what_each_cell_changed():
    fp1, fp2 = {"type": "int", "digest": "sha256:1"}, {"type": "int", "digest": "sha256:2"}
    same = _delta_record({"x": fp1})
    assert state_differences(same, _delta_record({"x": dict(fp1)}, "sha256:other")) == []
    assert state_differences(_delta_record({"x": fp1}), _delta_record({"x": fp2})) == ["x"]
    # changed in one run, untouched in the other: still a difference
    assert state_differences(_delta_record({"x": fp1}), _delta_record({})) == ["x"]
    tomb = {"deleted": True}
    assert state_differences(_delta_record({"x": tomb}), _delta_record({"x": tomb})) == []
    assert state_differences(_delta_record({"x": tomb}), _delta_record({"x": fp1})) == ["x"]


def test_a_record_made_before_deltas_is_compared_with_the_whole_state(recorded):
    """verify of a notebook recorded before deltas: its records hold whole states; comparing one with
    a delta would call every untouched variable a difference."""
    from repro_jupyter.state_chain import comparable

    folder, first, _ = recorded
    store = open_store(folder, create=False)
    new = store.objects.get_json(_records(first)[MIDDLE])
    old = {**new, "state": {"variables": full_state(store, new)}}  # as recorded before deltas
    assert len(state_differences(old, new)) == MIDDLE - 2  # the false alarm: all but x150 (and x50)
    assert state_differences(*comparable(store, old, store, new)) == []
    changed = {**old, "state": {"variables": {**old["state"]["variables"], "x3": {"type": "int"}}}}
    assert state_differences(*comparable(store, changed, store, new)) == ["x3"]
