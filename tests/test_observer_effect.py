"""The tool must not change what it observes: recording a notebook imports no library the notebook did not.

Checkpointing ``x = 1`` used to import NumPy (``encode_ndarray`` did ``import numpy`` to ask whether the value
was an array), so the first cell was recorded without BLAS facts and every later one with them, a re-run was
not byte-identical, and the environment listed numpy for a notebook that never used it.  Real kernels through
``jupyter repro run`` (nbclient).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.state_chain import full_state
from repro_jupyter.store import open_store

from .conftest import cli, make_notebook

HEAVY = ("numpy", "pandas", "torch", "scipy", "sklearn", "PIL", "matplotlib", "pyarrow", "safetensors")

SOURCES = [
    "x = 1",
    "print(x)",
    # values for every checkpoint format that needs no library: JSON, and the signed pickle
    # (a set built by a call: params.py records a set *literal* in iteration order, see the report)
    "config = {'lr': 0.1, 'layers': [64, 32], 'name': 'run'}\nseen = set(['a', 'b'])\n"
    "from fractions import Fraction\nratio = Fraction(1, 3)",
    f"import sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))",
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    work = tmp_path_factory.mktemp("observer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPRO_JUPYTER_SIGNING_KEY", str(work / "key" / "signing_key"))
        src = make_notebook(work / "plain.ipynb", SOURCES)
        first, second = work / "first.ipynb", work / "second.ipynb"
        assert cli("run", src, "-o", first, "-q") == 0
        assert cli("run", first, "-o", second, "-q") == 0
    return first, second


def _code_cells(path):
    return [c for c in nbformat.read(path, 4).cells if c.cell_type == "code"]


def test_recording_imports_no_library_the_notebook_did_not(recorded):
    first, _ = recorded
    last = _code_cells(first)[-1]
    assert last.outputs and last.outputs[0]["text"].strip() == "[]", last.outputs


def test_every_cell_records_the_same_environment_without_numpy(recorded):
    first, _ = recorded
    digests = {c.metadata[METADATA_KEY]["environment"] for c in _code_cells(first)}
    assert len(digests) == 1, digests
    env = open_store(first.parent, create=False).objects.get_json(digests.pop())
    assert "numpy" not in json.dumps(env["packages"]["imported"])
    assert "numpy_blas" not in env["threads"]


def test_the_values_were_still_checkpointed(recorded):
    first, _ = recorded
    cell = _code_cells(first)[2]
    store = open_store(first.parent, create=False)
    record = store.objects.get_json(cell.metadata[METADATA_KEY]["record"])
    assert set(full_state(store, record)) >= {"config", "seen", "ratio", "x"}  # records hold deltas
    assert not record["state"].get("not_checkpointed"), record["state"]


def test_a_rerun_is_byte_identical(recorded):
    first, second = recorded
    assert first.read_bytes() == second.read_bytes()


def test_thread_pools_are_recorded_in_an_order_that_does_not_depend_on_load_order(monkeypatch):
    """threadpoolctl lists pools in library load order; the same pools must give the same environment."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from repro_jupyter.environment.system import threads_info

    pools = [
        {"internal_api": "openblas", "version": "0.3.27", "num_threads": 2, "threading_layer": "pthreads"},
        {"internal_api": "openmp", "version": None, "num_threads": 2},
        {"internal_api": "mkl", "version": "2024.1", "num_threads": 1, "threading_layer": "intel"},
    ]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: list(pools))
    forward = threads_info()["threadpools"]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: list(reversed(pools)))
    assert threads_info()["threadpools"] == forward
    assert len(forward) == 3


def test_pyarrow_imported_for_a_parquet_checkpoint_is_not_the_notebooks(tmp_path):
    """pandas 2 imports pyarrow only on demand: a checkpoint's import must not enter the environment."""
    pytest.importorskip("pyarrow")
    script = (
        "import sys\nimport pandas as pd\n"
        "from repro_jupyter.checkpoint import encode\n"
        "from repro_jupyter.environment.packages import imported_distributions\n"
        "frame = pd.DataFrame({'a': [1, 2]})\n"  # (pandas 3 itself imports pyarrow on the way)
        "for name in [n for n in sys.modules if n.split('.')[0] == 'pyarrow']:\n"
        "    del sys.modules[name]\n"  # as with pandas 2: pyarrow not loaded yet
        "assert encode(frame).format == 'parquet'\n"
        "assert 'pyarrow' in sys.modules\n"
        "print(sorted(imported_distributions()))\n"
    )
    env = {**os.environ, "REPRO_JUPYTER_SIGNING_KEY": str(tmp_path / "key")}
    cmd = [sys.executable, "-c", script]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pyarrow" not in done.stdout and "pandas" in done.stdout
