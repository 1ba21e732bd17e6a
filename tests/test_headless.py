"""``jupyter repro run`` end to end, with real kernels through nbclient."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY, schema
from repro_jupyter.store import open_store

from .conftest import ROOT, cli, make_notebook

DEMO = ROOT / "examples" / "demo.ipynb"

RANDOM_NB = [
    "import random\nimport numpy as np",
    "print(random.random())",
    "print(np.random.rand(2))",
    "total = 1 + 1\ntotal",
]


def _assert_same_text(a: Path, b: Path) -> None:
    """Byte-identical notebooks, with a readable diff when they are not."""
    import difflib

    old, new = a.read_text().splitlines(), b.read_text().splitlines()
    assert old == new, "\n".join(list(difflib.unified_diff(old, new, lineterm="", n=1))[:60])


def _cells(path: Path):
    return [c for c in nbformat.read(path, 4).cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """The demo run twice in a row (a -> b), as the README promises."""
    pytest.importorskip("torch")
    work = tmp_path_factory.mktemp("demo")
    a, b = work / "a.ipynb", work / "b.ipynb"
    assert cli("run", DEMO, "-o", a, "-q") == 0
    assert cli("run", a, "-o", b, "-q") == 0
    return a, b


def test_rerun_of_demo_is_byte_identical(demo_runs):
    a, b = demo_runs
    _assert_same_text(a, b)
    assert a.read_bytes() == b.read_bytes()


def test_every_code_cell_carries_valid_metadata(demo_runs):
    _, b = demo_runs
    nb = nbformat.read(b, 4)
    schema.validate("notebookMetadata", nb.metadata[METADATA_KEY])
    store = open_store(b.parent, create=False)
    for cell in _cells(b):
        meta = cell.metadata[METADATA_KEY]
        schema.validate("cellMetadata", meta)
        assert len(json.dumps(meta)) < 1024
        schema.validate("cellRecord", store.objects.get_json(meta["record"]))
        schema.validate("environment", store.objects.get_json(meta["environment"]))


def test_no_absolute_paths_or_host_in_notebook(demo_runs):
    import socket

    _, b = demo_runs
    text = json.dumps(nbformat.read(b, 4).metadata) + "".join(json.dumps(c.metadata) for c in _cells(b))
    assert str(b.parent) not in text and str(Path.home()) not in text
    assert socket.gethostname() not in text


def test_catalog_logs_runs_with_volatile_facts(demo_runs):
    _, b = demo_runs
    catalog = open_store(b.parent, create=False).catalog
    runs = catalog.runs()
    assert len(runs) == 2 and all(r["kind"] == "headless" and r["finished_at"] for r in runs)
    first_cell = _cells(b)[0]
    history = catalog.cell_history(first_cell.id)
    assert len(history) == 2 and history[0]["record"] == history[1]["record"]


def test_torch_environment_recorded(demo_runs):
    _, b = demo_runs
    store = open_store(b.parent, create=False)
    env = store.objects.get_json(nbformat.read(b, 4).metadata[METADATA_KEY]["environment"])
    assert env["torch"]["version"].startswith("2.")
    assert "torch" in env["packages"]["imported"] and "numpy" in env["packages"]["imported"]
    assert env["gpu"]["available"] in (True, False)
    if not env["gpu"]["available"]:
        assert env["gpu"]["reason"]


def test_different_master_seeds_differ_in_random_cells(tmp_path):
    src = make_notebook(tmp_path / "r.ipynb", RANDOM_NB)
    assert cli("run", src, "-o", tmp_path / "s1.ipynb", "--seed", "1", "-q") == 0
    assert cli("run", src, "-o", tmp_path / "s2.ipynb", "--seed", "2", "-q") == 0
    one = [c.metadata[METADATA_KEY] for c in _cells(tmp_path / "s1.ipynb")]
    two = [c.metadata[METADATA_KEY] for c in _cells(tmp_path / "s2.ipynb")]
    assert all(x["seed"] != y["seed"] for x, y in zip(one, two, strict=True))
    assert one[1]["outputs"] != two[1]["outputs"]  # random
    assert one[2]["outputs"] != two[2]["outputs"]  # numpy
    assert one[3]["outputs"] == two[3]["outputs"]  # deterministic arithmetic
    # and the same seed again reproduces exactly
    assert cli("run", src, "-o", tmp_path / "s1b.ipynb", "--seed", "1", "-q") == 0
    _assert_same_text(tmp_path / "s1.ipynb", tmp_path / "s1b.ipynb")


def test_seed_is_kept_in_notebook_metadata_and_reused(tmp_path):
    src = make_notebook(tmp_path / "r.ipynb", RANDOM_NB)
    assert cli("run", src, "-q") == 0  # in place, fresh master seed chosen and saved
    first = src.read_bytes()
    seed = nbformat.read(src, 4).metadata[METADATA_KEY]["master_seed"]
    assert isinstance(seed, int)
    assert cli("run", src, "-q") == 0
    assert src.read_bytes() == first


def test_headless_and_interactive_key_cells_by_id(tmp_path):
    src = make_notebook(tmp_path / "k.ipynb", ["x = 1", "y = 2"], ids=["first", "second"])
    assert cli("run", src, "-q") == 0
    keys = [c.metadata[METADATA_KEY]["cell_key"] for c in _cells(src)]
    assert keys == ["first", "second"]


def test_notebook_loading_the_extension_itself(tmp_path):
    src = make_notebook(
        tmp_path / "x.ipynb",
        ["%load_ext repro_jupyter", "%%repro --seed 5 --params n\nn = 3\nimport random\nrandom.random()"],
    )
    assert cli("run", src, "-q") == 0
    cells = _cells(src)
    assert cells[0].outputs == []  # no "already loaded" noise
    assert cells[1].metadata[METADATA_KEY]["seed"] == 5
    record = open_store(tmp_path, create=False).objects.get_json(cells[1].metadata[METADATA_KEY]["record"])
    assert record["params"] == {"n": 3}


def test_old_notebook_without_cell_ids_gets_stable_ids(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1")])
    nb.nbformat_minor = 4
    del nb.cells[0]["id"]
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(nb))
    assert cli("run", path, "-o", tmp_path / "o1.ipynb", "-q") == 0
    assert cli("run", path, "-o", tmp_path / "o2.ipynb", "-q") == 0
    ids = [_cells(tmp_path / n)[0].id for n in ("o1.ipynb", "o2.ipynb")]
    assert ids[0] == ids[1]


def test_failing_cell_is_recorded_and_exit_code_is_1(tmp_path, capsys):
    src = make_notebook(tmp_path / "f.ipynb", ["a = 1", "1/0", "b = 2"])
    out = tmp_path / "out.ipynb"
    assert cli("run", src, "-o", out, "-q") == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and err.count("\n") == 1
    cells = _cells(out)
    assert cells[1].metadata[METADATA_KEY]["status"] == "error"
    assert METADATA_KEY not in cells[2].metadata  # never ran


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not a valid notebook"),
        ('{"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid notebook"),
        ("", "not a valid notebook"),
    ],
)
def test_malformed_notebook_is_one_clear_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.ipynb"
    bad.write_text(content)
    assert cli("run", bad) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert bad.read_text() == content  # nothing lost


def test_missing_notebook_and_missing_kernel(tmp_path, capsys):
    assert cli("run", tmp_path / "nope.ipynb") == 2
    assert "no such notebook" in capsys.readouterr().err
    src = make_notebook(tmp_path / "k.ipynb", ["1"])
    assert cli("run", src, "--kernel", "no-such-kernel") == 2
    err = capsys.readouterr().err
    assert "no-such-kernel" in err and "\n" not in err.strip()


def test_without_git_and_without_torch(tmp_path):
    """A plain notebook in a non-git folder: git recorded as unavailable, torch never imported."""
    src = make_notebook(tmp_path / "p.ipynb", ["import sys\nprint('torch' in sys.modules)"])
    assert cli("run", src, "-q") == 0
    cell = _cells(src)[0]
    assert cell.outputs[0]["text"] == "False\n"
    env = open_store(tmp_path, create=False).objects.get_json(cell.metadata[METADATA_KEY]["environment"])
    assert env["git"] == {"available": False, "reason": "not a git repository"}
    assert env["torch"] is None


def test_git_state_is_recorded_and_notebook_itself_is_not_dirt(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git not installed")

    def git(*a):
        subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init")
    src = make_notebook(tmp_path / "g.ipynb", ["x = 1"])
    git("add", "g.ipynb")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "nb")
    assert cli("run", src, "-q") == 0
    first = src.read_bytes()
    assert cli("run", src, "-q") == 0  # the notebook itself changed on disk: still not "dirty"
    assert src.read_bytes() == first
    env = open_store(tmp_path, create=False).objects.get_json(
        nbformat.read(src, 4).metadata[METADATA_KEY]["environment"]
    )
    assert env["git"]["available"] and len(env["git"]["commit"]) == 40 and env["git"]["dirty"] is False
    (tmp_path / "code.py").write_text("x")
    git("add", "code.py")
    assert cli("run", src, "-q") == 0
    env2 = open_store(tmp_path, create=False).objects.get_json(
        nbformat.read(src, 4).metadata[METADATA_KEY]["environment"]
    )
    assert env2["git"]["dirty"] is True and env2["git"]["diff_digest"]


def test_show_and_env_commands(demo_runs, capsys):
    _, b = demo_runs
    assert cli("show", b) == 0
    out = capsys.readouterr().out
    assert "master seed" in out and "drew torch" in out
    assert cli("show", b, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["cells"]) == 6 and all(c["record"] for c in data["cells"])
    assert cli("env", "--json") == 0
    env = json.loads(capsys.readouterr().out)
    assert env["digest"].startswith("sha256:")


def test_console_script_and_jupyter_subcommand(tmp_path):
    exe = Path(sys.executable).parent / "jupyter"
    proc = subprocess.run([str(exe), "repro", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "repro-jupyter" in proc.stdout


def test_show_reports_missing_store_object(tmp_path, capsys):
    src = make_notebook(tmp_path / "m.ipynb", ["x = 1"])
    assert cli("run", src, "-q") == 0
    meta = _cells(src)[0].metadata[METADATA_KEY]
    obj = open_store(tmp_path, create=False).objects.path_for(meta["record"])
    obj.chmod(0o644)
    obj.write_text("tampered")
    assert cli("show", src) == 0
    out = capsys.readouterr().out
    assert "record unreadable" in out and "corrupt" in out
    obj.unlink()
    assert cli("show", src) == 0
    assert "missing" in capsys.readouterr().out


def test_unwritable_output_is_a_clear_error_and_input_survives(tmp_path, capsys):
    src = make_notebook(tmp_path / "w.ipynb", ["x = 1"])
    before = src.read_bytes()
    (tmp_path / "blocker").write_text("a file where a folder should be")
    assert cli("run", src, "-o", tmp_path / "blocker" / "out.ipynb") == 2
    err = capsys.readouterr().err.strip()
    assert "cannot write" in err and "\n" not in err
    assert src.read_bytes() == before


def test_lazily_imported_numpy_random_is_seeded_and_its_draws_recorded(tmp_path):
    """NumPy 2 imports numpy.random on first use: seeded then, and the draw shows as consumed."""
    src = make_notebook(tmp_path / "lazy.ipynb", ["import numpy as np", "v = np.random.rand()\nprint(v)"])
    assert cli("run", src, "-q", "--seed", "3") == 0
    first = _cells(src)[1].outputs[0]["text"]
    meta = _cells(src)[1].metadata[METADATA_KEY]
    record = open_store(tmp_path, create=False).objects.get_json(meta["record"])
    assert "numpy" in record["rng"]["consumed"] and "numpy" in record["seeded"]
    assert cli("run", src, "-q", "--seed", "3") == 0
    assert _cells(src)[1].outputs[0]["text"] == first


def test_status_shows_a_widget_where_the_lab_extension_is_absent(tmp_path):
    """nbclient is a frontend without our extension: %repro status renders an ipywidgets view."""
    src = make_notebook(tmp_path / "w.ipynb", ["%load_ext repro_jupyter\n%repro status"])
    assert cli("run", src, "-q") == 0
    outputs = _cells(src)[0].outputs
    assert any("master seed" in o.get("text", "") for o in outputs)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_consecutive_streams_are_merged_as_jupyterlab_does(tmp_path):
    """However stdout was flushed, the saved notebook has one stream per run of prints."""
    src = make_notebook(
        tmp_path / "s.ipynb",
        [
            "import sys, time\nfrom IPython.display import display\n"
            "print('a', flush=True); time.sleep(0.2)\nprint('b', flush=True); time.sleep(0.2)\n"
            "print('e', file=sys.stderr, flush=True)\ndisplay('shown')\nprint('c')"
        ],
    )
    assert cli("run", src, "-q") == 0
    outputs = nbformat.read(src, 4).cells[0].outputs
    kinds = [(o.output_type, o.get("name"), o.get("text")) for o in outputs]
    assert kinds == [
        ("stream", "stdout", "a\nb\n"),
        ("stream", "stderr", "e\n"),
        ("display_data", None, None),
        ("stream", "stdout", "c\n"),
    ]


def test_a_short_cell_timeout_does_not_apply_to_the_runs_own_set_up(tmp_path, monkeypatch):
    """``--timeout 2`` on a busy machine failed with "AssertionError:" because the kernel took longer than
    2 s to answer the silent set-up request (nbclient's timeout path asserts a cell)."""
    from repro_jupyter import headless

    monkeypatch.setattr(headless, "LOAD_LINE", "__import__('time').sleep(7)\n" + headless.LOAD_LINE)
    path = make_notebook(tmp_path / "nb.ipynb", ["x = 1\nprint(x)"])
    nb, meta, failure = headless.run_notebook(path, tmp_path / "out.ipynb", timeout=5)
    assert failure is None and nb.cells[0].outputs[0]["text"] == "1\n"
    assert meta and meta["cells"]
