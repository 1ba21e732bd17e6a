"""One seed governs every stochastic component (issue 15 §1, §3).

In-process shell tests for auto-seeding and the deterministic-mode warning; real kernels through the
CLI for DataLoader workers, PYTHONHASHSEED, scikit-learn and a torch settings change under verify.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY, magics, schema, seeding
from repro_jupyter.compare.causes import rank_causes
from repro_jupyter.errors import ReproWarning
from repro_jupyter.store import open_store
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook, run

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

DRAWS = (
    "import random, numpy as np, torch\n"
    "a = np.random.default_rng().integers(1 << 30)\n"
    "b = random.Random().getrandbits(30)\n"
    "g = torch.Generator()\n"
    "c = int(torch.randint(1 << 30, (1,), generator=g))\n"
    "g.seed()\n"
    "d = int(torch.randint(1 << 30, (1,), generator=g))\n"
    "draws = (int(a), b, c, d)"
)


def _session(ip):
    return magics._LOADED[id(ip)].session


def _record(ip, key):
    _session(ip).flush()
    meta = _session(ip).cell_metadata[key]
    return open_store(Path.cwd(), create=False).objects.get_record(meta["record"])


def test_unseeded_generators_are_seeded_from_the_cell_seed(ip):
    run(ip, "%repro on --seed 5")
    run(ip, DRAWS, cell_id="draw")
    first = ip.user_ns["draws"]
    run(ip, DRAWS, cell_id="draw")
    assert ip.user_ns["draws"] == first  # the same cell seed: the same generators
    record = _record(ip, "draw")
    schema.validate("cellRecord", record)
    calls = [c["call"] for c in record["auto_seeded"]["calls"]]
    assert calls == [
        "numpy.random.default_rng()",
        "random.Random()",
        "torch.Generator()",
        "torch.Generator.seed()",
    ]
    assert record["unseeded"] == [] and record["nondeterministic"] is False
    run(ip, "%repro seed 6")
    run(ip, DRAWS, cell_id="draw")
    assert all(x != y for x, y in zip(ip.user_ns["draws"], first, strict=True))  # another master seed


def test_opt_out_flags_instead_and_patches_are_undone(ip):
    original_rng, original_random_seed = np.random.default_rng, random.Random.seed
    run(ip, "%repro on --no-auto-seed")
    assert magics._LOADED[id(ip)].auto_seed is False
    run(ip, DRAWS, cell_id="draw")
    record = _record(ip, "draw")
    schema.validate("cellRecord", record)
    assert "auto_seeded" not in record and record["options"]["auto_seed"] is False
    assert record["nondeterministic"] is True
    assert any("default_rng() without a seed" in u for u in record["unseeded"])
    assert any("torch.Generator.seed()" in u for u in record["unseeded"])
    # repro off: every constructor is the library's own again
    run(ip, "%repro off")
    run(ip, "pass")
    assert np.random.default_rng is original_rng and random.Random.seed is original_random_seed
    assert torch.Generator is torch._C.Generator
    # a generator made inside a recorded cell behaves as a plain one afterwards
    first, second = ip.user_ns["g"].seed(), ip.user_ns["g"].seed()
    assert first != second


def test_traitlet_turns_auto_seed_off(ip):
    run(ip, "%config ReproMagics.auto_seed = False")
    assert _session(ip).auto_seed is False
    run(ip, "%repro on")
    run(ip, "import numpy as np\nv = np.random.default_rng().random()", cell_id="u")
    assert _record(ip, "u")["nondeterministic"] is True


def test_deterministic_mode_warns_once_when_cuda_already_initialised(ip, monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(seeding, "_CUDA_WARNED", [])
    run(ip, "import torch")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(ip, "%%repro --deterministic\nx = 1", cell_id="d1")
        run(ip, "%%repro --deterministic\nx = 2", cell_id="d2")
    lines = [str(w.message) for w in caught if issubclass(w.category, ReproWarning)]
    cuda = [line for line in lines if "CUBLAS_WORKSPACE_CONFIG" in line]
    assert len(cuda) == 1 and "\n" not in cuda[0] and "after CUDA was initialised" in cuda[0]
    torch.use_deterministic_algorithms(False)


def test_deterministic_mode_is_silent_before_cuda(ip, monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(seeding, "_CUDA_WARNED", [])
    run(ip, "import torch")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(ip, "%%repro --deterministic\nx = 1", cell_id="d1")
    assert not [w for w in caught if "CUBLAS" in str(w.message)]
    torch.use_deterministic_algorithms(False)


def test_kernel_env_fixes_the_hash_seed_and_cublas_for_deterministic_runs():
    assert seeding.kernel_env(False, {})["PYTHONHASHSEED"] == "0"
    assert "CUBLAS_WORKSPACE_CONFIG" not in seeding.kernel_env(False, {})
    assert seeding.kernel_env(True, {})["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert seeding.kernel_env(False, {"PYTHONHASHSEED": "7"})["PYTHONHASHSEED"] == "7"
    assert seeding.kernel_env(False, {"PYTHONHASHSEED": "random"})["PYTHONHASHSEED"] == "0"


def test_torch_settings_change_ranks_as_a_named_cause():
    old = {
        "source": None,
        "deterministic_settings": {"cuda_matmul_allow_tf32": False, "cudnn_benchmark": False},
    }
    new = {"deterministic_settings": {"cuda_matmul_allow_tf32": True, "cudnn_benchmark": False}}
    causes = rank_causes(
        source="", old_record=old, new_record=new, env_diff={}, upstream=None, flaky=False, recorded=True
    )
    assert causes[0]["kind"] == "gpu_change"
    assert "torch.backends.cuda.matmul.allow_tf32 False -> True" in causes[0]["detail"]
    assert "benchmark" not in causes[0]["detail"]


def test_environment_records_torch_settings():
    from repro_jupyter.environment import capture

    env = capture(include_installed=False)
    schema.validate("environment", env)
    settings = env["torch"]["settings"]
    assert isinstance(settings["cudnn_benchmark"], bool)
    assert "cublas_workspace_config" in settings


# --- real kernels --------------------------------------------------------------------------


def _verify(path: Path) -> dict:
    report = verify_notebook(path, VerifyOptions())
    schema.validate("driftReport", report)
    return report


def _reseed(path: Path, master_seed: int) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.metadata[METADATA_KEY]["master_seed"] = master_seed
    nbformat.write(nb, path)


def _records(path: Path) -> list[dict]:
    nb = nbformat.read(path, as_version=4)
    store = open_store(path.parent, create=False)
    return [
        store.objects.get_record(c.metadata[METADATA_KEY]["record"])
        for c in nb.cells
        if METADATA_KEY in c.metadata
    ]


LOADER = [
    "import random\nimport numpy as np\nimport torch\nfrom torch.utils.data import DataLoader, Dataset\n"
    "class Augmented(Dataset):\n"
    "    def __len__(self):\n        return 8\n"
    "    def __getitem__(self, i):\n"
    "        jitter = np.random.default_rng().random()  # an unseeded generator inside the worker\n"
    "        return torch.tensor([i + random.random(), np.random.rand(), torch.rand(()).item(), jitter])",
    "loader = DataLoader(Augmented(), batch_size=4, shuffle=True, num_workers=2, persistent_workers=True)\n"
    "for epoch in range(2):\n"
    "    for batch in loader:\n"
    "        print(batch.numpy().round(6).tolist())",
]


def test_dataloader_workers_reproduce_and_follow_the_master_seed(tmp_path):
    src = make_notebook(tmp_path / "loader.ipynb", LOADER)
    assert cli("run", src, "-q", "--seed", "11") == 0
    record = _records(src)[1]
    assert any(s.startswith("torch DataLoader workers (2)") for s in record["seeded"]), record["seeded"]
    assert record["nondeterministic"] is False
    assert cli("verify", src, "-q") == 0
    _reseed(src, 12)
    report = _verify(src)
    assert report["status"] == "drift" and report["first_drift"]["index"] == 1
    assert report["cells"][1]["causes"][0]["kind"] == "seed"


def test_set_order_and_sklearn_reproduce_under_verify(tmp_path):
    pytest.importorskip("sklearn")
    words = ", ".join(repr(w) for w in ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"])
    src = make_notebook(
        tmp_path / "misc.ipynb",
        [
            f"import os, sys\nprint(list({{{words}}}))\nprint(sys.flags.hash_randomization)",
            "from sklearn.datasets import make_classification\n"
            "from sklearn.ensemble import RandomForestClassifier\n"
            "X, y = make_classification(n_samples=60, n_features=5, random_state=0)\n"
            "clf = RandomForestClassifier(n_estimators=4, max_depth=3).fit(X, y)  # random_state=None\n"
            "print(clf.predict_proba(X[:4]).round(6).tolist())",
        ],
    )
    assert cli("run", src, "-q", "--seed", "3") == 0
    assert cli("verify", src, "-q") == 0  # the set's order too: the kernels start with one hash seed
    assert _records(src)[0]["deterministic_settings"]["PYTHONHASHSEED"] == "0"
    _reseed(src, 4)  # another master seed: the forest changes, the set order does not
    report = _verify(src)
    assert report["first_drift"]["index"] == 1, report["reason"]


def test_tf32_flag_change_is_named_by_verify(tmp_path, monkeypatch):
    src = make_notebook(
        tmp_path / "tf32.ipynb",
        [
            "import os, torch\n"
            "torch.backends.cuda.matmul.allow_tf32 = os.environ.get('REPRO_TEST_TF32') == '1'\n"
            "print(torch.backends.cuda.matmul.allow_tf32)",
        ],
    )
    monkeypatch.delenv("REPRO_TEST_TF32", raising=False)
    assert cli("run", src, "-q") == 0
    monkeypatch.setenv("REPRO_TEST_TF32", "1")
    report = _verify(src)
    cause = report["cells"][0]["causes"][0]
    assert cause["kind"] == "gpu_change", report["cells"][0]["causes"]
    assert "torch.backends.cuda.matmul.allow_tf32 False -> True" in cause["detail"]


def test_other_threads_and_tempfile_do_not_shift_the_cells_seeds(ip):
    """The store writer makes temp files on its own thread while a cell runs: a Random() it creates must
    not take a place in the cell's order (the seeds would then depend on timing), and tempfile's name
    sequence must keep OS entropy (two processes with one cell seed would try the same names)."""
    run(ip, "%repro on --seed 9")
    cell = "import numpy as np\nv = np.random.default_rng().random()"
    run(ip, cell, cell_id="t")
    plain = ip.user_ns["v"]
    busy = (
        "import random, tempfile, threading\n"
        "t = threading.Thread(target=lambda: [random.Random() for _ in range(3)])\n"
        "t.start(); t.join()\n"
        "tempfile._name_sequence = None\n"
        "tempfile.mkstemp()\n"
        "import numpy as np\nv = np.random.default_rng().random()"
    )
    run(ip, busy, cell_id="t")
    assert ip.user_ns["v"] == plain
    assert [c["call"] for c in _record(ip, "t")["auto_seeded"]["calls"]] == ["numpy.random.default_rng()"]
