"""fsck and gc on real stores; several kernels recording into one store while gc runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import nbformat

from repro_jupyter import METADATA_KEY
from repro_jupyter.store import open_store
from repro_jupyter.store.maintenance import fsck, gc
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook


def _recorded(tmp_path, name="nb.ipynb"):
    src = make_notebook(tmp_path / name, ["import random\nx = random.random()", "print(round(x, 6))"])
    assert cli("run", src, "-q") == 0
    return src


def test_fsck_finds_corrupt_and_missing_objects_and_quarantines(tmp_path, capsys):
    src = _recorded(tmp_path)
    store = open_store(tmp_path, create=False)
    assert fsck(store).clean
    meta = nbformat.read(src, 4).cells[0].metadata[METADATA_KEY]
    record = store.objects.path_for(meta["record"])
    record.chmod(0o644)
    record.write_text("{}")
    env = store.objects.path_for(meta["environment"])
    env.unlink()
    report = fsck(store)
    assert report.corrupt == [meta["record"]] and meta["environment"] in report.missing
    assert cli("fsck", tmp_path) == 1
    assert "corrupt" in capsys.readouterr().out
    report = fsck(store, quarantine=True)
    assert report.quarantined == [meta["record"]] and not record.exists()
    assert list((tmp_path / ".repro" / "quarantine").rglob("*"))


def test_gc_removes_only_unreachable_old_objects(tmp_path):
    _recorded(tmp_path)
    store = open_store(tmp_path, create=False)
    before = fsck(store).objects
    orphan, _ = store.objects.put_json({"orphan": True})
    young, _ = store.objects.put_json({"young": True})
    old = time.time() - 7200
    os.utime(store.objects.path_for(orphan), (old, old))
    report = gc(store)
    assert report.removed == [orphan] and report.kept_young == 1
    assert not store.objects.has(orphan) and store.objects.has(young)
    assert fsck(store).clean and fsck(store).objects == before + 1


def test_four_kernels_record_into_one_store_while_gc_runs(tmp_path):
    sources = [
        "import numpy as np\na = np.random.rand(50)",
        "print(a.sum().round(6))",
        "b = a * 2",
        "b.mean()",
    ]
    paths = [
        make_notebook(tmp_path / f"nb{i}.ipynb", sources, ids=[f"k{i}-{j}" for j in range(4)])
        for i in range(4)
    ]
    stop = threading.Event()
    gc_runs = [0]

    def collector():
        while not stop.is_set():
            try:
                gc(open_store(tmp_path))
                gc_runs[0] += 1
            except Exception as exc:  # a locked catalog must never reach the user; fail loudly here
                raise AssertionError(f"gc failed: {exc}") from exc
            time.sleep(0.05)

    thread = threading.Thread(target=collector)
    thread.start()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "repro_jupyter.cli", "run", str(p), "-q"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in paths
    ]
    errors = [proc.communicate(timeout=240)[1] for proc in procs]
    stop.set()
    thread.join(30)
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert not any("database is locked" in e for e in errors)
    assert gc_runs[0] > 0
    store = open_store(tmp_path, create=False)
    assert fsck(store).clean
    assert len(store.catalog.runs()) == 4
    for path in paths:  # every record is there: each notebook verifies from the shared store
        report = verify_notebook(path, VerifyOptions())
        assert report["status"] == "reproduced", report["reason"]
