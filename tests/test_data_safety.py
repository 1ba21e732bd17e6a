"""The store never loses a record: a lost catalog, a catalog copied without its WAL, a read-only
store, two runs of one notebook at once.  Real kernels (``jupyter repro run``), real SQLite."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.errors import NotebookError
from repro_jupyter.notebook_io import file_state, write_unless_changed
from repro_jupyter.store import open_store
from repro_jupyter.store.maintenance import _objects, fsck
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook

SOURCES = ["import random\nx = random.random()", "print(round(x, 6))"]


def _recorded(folder: Path, sources=SOURCES) -> Path:
    src = make_notebook(folder / "nb.ipynb", sources)
    assert cli("run", src, "-q") == 0
    return src


def _pointers(nb_path: Path) -> set[str]:
    nb = nbformat.read(nb_path, 4)
    found = {nb.metadata[METADATA_KEY]["environment"]}
    for cell in nb.cells:
        meta = cell.metadata.get(METADATA_KEY)
        if meta:
            found |= {meta["record"], meta["environment"]}
    return found


def _one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    return lines[0]


# ------------------------------------------------------------------------------ lost catalog


@pytest.mark.parametrize("loss", ["deleted", "zero-length", "not-a-database"])
def test_gc_refuses_a_lost_catalog_and_rebuild_gives_the_records_back(tmp_path, capsys, loss):
    src = _recorded(tmp_path)
    store_dir = tmp_path / ".repro"
    before = set(_objects(open_store(tmp_path, create=False)))
    assert _pointers(src) <= before
    for path in store_dir.glob("catalog.sqlite*"):
        path.unlink()
    if loss == "zero-length":
        (store_dir / "catalog.sqlite").write_bytes(b"")
    if loss == "not-a-database":
        (store_dir / "catalog.sqlite").write_bytes(b"garbage " * 1000)
    capsys.readouterr()

    if loss == "not-a-database":
        assert cli("fsck", tmp_path) == 2
        assert "cannot open the catalog" in _one_error(capsys.readouterr().err)
        assert cli("gc", tmp_path, "--grace", "0") == 2
        assert "cannot open the catalog" in _one_error(capsys.readouterr().err)
    else:
        assert cli("fsck", tmp_path) == 1  # no longer "clean": the catalog names nothing
        assert "catalog  missing or empty" in capsys.readouterr().out
        assert cli("gc", tmp_path, "--grace", "0") == 2
        line = _one_error(capsys.readouterr().err)
        assert "missing or empty" in line and "--rebuild-catalog" in line
    assert set(_objects(open_store(tmp_path, create=False))) == before  # nothing deleted

    assert cli("fsck", tmp_path, "--rebuild-catalog") == 0
    out = capsys.readouterr().out
    assert "added 2 cell execution(s) and 1 environment(s)" in out
    if loss == "not-a-database":
        assert "moved to" in out and list(store_dir.glob("catalog.sqlite.broken-*"))
    assert cli("gc", tmp_path, "--grace", "0") == 0
    assert set(_objects(open_store(tmp_path, create=False))) == before
    history = open_store(tmp_path, create=False).catalog.cell_history("cell-0")
    assert [row["record"] for row in history] == [
        nbformat.read(src, 4).cells[0].metadata[METADATA_KEY]["record"]
    ]
    assert verify_notebook(src, VerifyOptions())["status"] == "reproduced"


def test_a_catalog_copied_without_its_wal_rows_loses_no_record_to_gc(tmp_path, capsys):
    """An old copy of catalog.sqlite put back (rows of the last run lost): gc refuses (checkpoint rows
    may be lost with them) and deletes nothing; rebuild adds the rows and keeps what it cannot attribute."""
    src = _recorded(tmp_path)
    old_catalog = tmp_path / "old-catalog.sqlite"
    shutil.copy(tmp_path / ".repro" / "catalog.sqlite", old_catalog)
    make_notebook(src, ["x = 2", "print(x * 21)"])
    assert cli("run", src, "-q") == 0
    latest = _pointers(src)
    for path in (tmp_path / ".repro").glob("catalog.sqlite*"):
        path.unlink()
    shutil.copy(old_catalog, tmp_path / ".repro" / "catalog.sqlite")
    capsys.readouterr()

    store = open_store(tmp_path, create=False)
    report = fsck(store, notebook_dirs=[tmp_path])
    assert report.clean and len(report.unindexed) == 2  # the last run's two records
    objects = set(_objects(store))
    assert cli("gc", tmp_path, "--grace", "0") == 2  # rows were lost: checkpoints' rows may be too
    assert "not in its catalog" in _one_error(capsys.readouterr().err)
    assert set(_objects(store)) == objects and all(store.objects.has(d) for d in latest)
    assert cli("fsck", tmp_path, "--rebuild-catalog") == 0
    assert "kept 1 object(s) no record names" in capsys.readouterr().out  # x = 2's checkpoint
    assert not fsck(store).unindexed
    assert cli("gc", tmp_path, "--grace", "0") == 0
    assert set(_objects(store)) == objects
    assert verify_notebook(src, VerifyOptions())["status"] == "reproduced"


def test_a_notebook_pointer_missing_from_the_store_is_reported_by_fsck(tmp_path, capsys):
    src = _recorded(tmp_path)
    record = nbformat.read(src, 4).cells[1].metadata[METADATA_KEY]["record"]
    with sqlite3.connect(tmp_path / ".repro" / "catalog.sqlite") as conn:
        conn.execute("DELETE FROM cell_executions WHERE record = ?", (record,))
    path = open_store(tmp_path, create=False).objects.path_for(record)
    path.unlink()
    capsys.readouterr()
    assert cli("fsck", tmp_path) == 1
    assert f"missing  {record}" in capsys.readouterr().out


def test_every_catalog_row_of_a_run_is_in_catalog_sqlite_itself(tmp_path):
    """Copying only catalog.sqlite (no -wal) after a run keeps every row: the WAL was checkpointed."""
    src = _recorded(tmp_path)
    copy = tmp_path / "copy" / "catalog.sqlite"
    copy.parent.mkdir()
    shutil.copy(tmp_path / ".repro" / "catalog.sqlite", copy)
    assert not (copy.parent / "catalog.sqlite-wal").exists()
    with sqlite3.connect(copy) as conn:
        records = {r[0] for r in conn.execute("SELECT record FROM cell_executions")}
        runs = conn.execute("SELECT status FROM runs").fetchall()
    cells = nbformat.read(src, 4).cells
    assert records == {c.metadata[METADATA_KEY]["record"] for c in cells}
    assert runs == [("finished",)]


# ------------------------------------------------------------------------------ read-only store


def _make_read_only(folder: Path) -> str:
    """Make ``folder`` unwritable even for root (permission bits do not stop root): the immutable
    attribute where the file system has it, else a read-only bind mount; returns how."""
    if shutil.which("chattr"):
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if done.returncode == 0:
            return "chattr"
    if os.geteuid() == 0:
        mount = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True)
        if mount.returncode == 0:
            return "mount"
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return "chmod"
    pytest.skip("cannot make a folder read-only for root here (no chattr, no mount)")


def _undo_read_only(folder: Path, how: str) -> None:
    if how == "chattr":
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    elif how == "mount":
        subprocess.run(["umount", str(folder)], check=False)
    else:
        folder.chmod(0o755)


def test_read_only_store_falls_back_to_the_cache_named_and_readers_find_it(tmp_path, monkeypatch, capsys):
    """A `.repro` that already holds an earlier run becomes read-only (for root too: chattr +i or a
    read-only bind mount): the new run's records go to the cache store, a warning names it, and
    verify/show/fsck read them there (before: "2/2 recorded", exit 0, verify: object missing)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work = tmp_path / "work"
    src = _recorded(work)
    make_notebook(src, ["x = 3", "print(x * 14)"])
    how = _make_read_only(work / ".repro")
    try:
        capsys.readouterr()
        assert cli("run", src) == 0
        out, err = capsys.readouterr()
        assert "2/2 code cells recorded" in out
        warning = [line for line in err.splitlines() if "warning" in line]
        assert len(warning) == 1 and str(tmp_path / "cache") in warning[0] and "not writable" in warning[0]
        store = open_store(work, create=False)
        assert str(store.root).startswith(str(tmp_path / "cache"))
        assert all(store.objects.has(d) for d in _pointers(src))
        assert verify_notebook(src, VerifyOptions())["status"] == "reproduced"
        assert cli("fsck", work) == 0
        saved = nbformat.read(src, 4)  # the runner names the cache; no cell's outputs carry the warning
        assert [o.get("name") for o in saved.cells[0].outputs] == [], saved.cells[0].outputs
        assert saved.metadata[METADATA_KEY]["store_fallback"] == "user cache"
    finally:
        _undo_read_only(work / ".repro", how)
    print(f"read-only store made with {how}")


def test_no_writable_store_anywhere_is_one_line_and_exit_2_before_any_kernel(tmp_path, monkeypatch, capsys):
    """`.repro` is a file (a store cannot be made there, for root too) and the cache folder cannot be
    created (XDG_CACHE_HOME is a file): nothing can be recorded, so run says so and stops."""
    (tmp_path / "cache").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    src = make_notebook(tmp_path / "nb.ipynb", SOURCES)
    (tmp_path / ".repro").write_text("not a store")
    before = src.read_bytes()
    capsys.readouterr()
    assert cli("run", src) == 2
    out, err = capsys.readouterr()
    line = _one_error(err)
    assert "cannot record" in line and ".repro" in line
    assert "recorded" not in out and src.read_bytes() == before


# ------------------------------------------------------------------------------ concurrent runs

WAIT_FOR_GO = (
    "import os, time\n"
    "with open('started', 'a') as fh:\n"
    "    fh.write(f'{os.getpid()}\\n')\n"
    "while not os.path.exists('go'):\n"
    "    time.sleep(0.05)"
)


def test_two_runs_of_one_notebook_the_second_refuses_and_keeps_its_work(tmp_path):
    src = make_notebook(tmp_path / "nb.ipynb", [WAIT_FOR_GO, "print(6 * 7)"])
    cmd = [sys.executable, "-m", "repro_jupyter.cli", "run", "-q", str(src)]
    procs = [
        subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 120
        started = tmp_path / "started"
        while not (started.exists() and len(started.read_text().split()) == 2):
            assert time.monotonic() < deadline, "the two kernels did not start"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.1)
        (tmp_path / "go").write_text("")
        results = [(p.wait(120), *p.communicate()) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert sorted(r[0] for r in results) == [0, 2], results
    loser = next(r for r in results if r[0] == 2)
    line = _one_error(loser[2])
    assert "changed on disk" in line
    sides = list(tmp_path.glob("nb.repro-conflict-*.ipynb"))
    assert len(sides) == 1 and str(sides[0]) in line
    store = open_store(tmp_path, create=False)
    for path in (src, sides[0]):  # both results whole, every pointer stored
        nb = nbformat.read(path, 4)
        assert nb.cells[1].outputs[0]["text"] == "42\n"
        assert all(store.objects.has(d) for d in _pointers(path))


def test_a_touched_file_with_the_same_bytes_is_no_conflict(tmp_path):
    path = make_notebook(tmp_path / "nb.ipynb", ["1"])
    before = file_state(path)
    os.utime(path, (time.time() + 10, time.time() + 10))
    written = []
    write_unless_changed("nb", path, before, lambda nb, p: written.append(p))
    assert written == [path]
    path.write_text(path.read_text() + " ")
    with pytest.raises(NotebookError, match="changed on disk"):
        write_unless_changed("nb", path, before, lambda nb, p: written.append(p))
    assert written[1].name.startswith("nb.repro-conflict-")


def test_rebuild_attributes_a_milestone_to_the_notebook_whose_cell_saved_it(tmp_path):
    """A milestone manifest names the cell that saved it: a rebuilt catalog finds that cell's notebook
    beside the store (the notebook column is what `jupyter repro checkpoints NB` lists by)."""
    from repro_jupyter.store.rebuild import rebuild_catalog

    make_notebook(tmp_path / "train.ipynb", ["x = 1", "y = 2"], ids=["setup", "fit"])
    store = open_store(tmp_path)
    manifest, _ = store.objects.put_json({"kind": "milestone", "name": "epoch-3", "cell": {"key": "fit"}})
    orphan, _ = store.objects.put_json({"kind": "milestone", "name": "elsewhere", "cell": {"key": "gone"}})
    assert rebuild_catalog(store).milestones == 2
    rows = {r["name"]: r for r in store.catalog.milestones()}
    assert rows["epoch-3"]["notebook"] == "train.ipynb" and rows["epoch-3"]["cell_key"] == "fit"
    assert rows["elsewhere"]["notebook"] is None
    assert rebuild_catalog(store).milestones == 0  # idempotent
    store.close()
