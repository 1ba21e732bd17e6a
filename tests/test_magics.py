"""The magics in an in-process IPython shell (the kernel path is tested in test_headless)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from repro_jupyter import kernel_runner, magics, schema, seeding
from repro_jupyter.store import open_store

from .conftest import run


def _session(ip):
    return magics._LOADED[id(ip)].session


def _record(ip, key):
    _session(ip).flush()  # store writes happen in a background thread
    meta = _session(ip).cell_metadata[key]
    return open_store(Path.cwd(), create=False).objects.get_json(meta["record"])


def test_repro_cell_records_seed_outputs_and_metadata(ip):
    run(ip, "%repro seed 42")
    res = run(ip, "%%repro\nimport random\nx = random.random()\nprint(x)\nx", cell_id="c1")
    assert res.success
    meta = _session(ip).cell_metadata["c1"]
    schema.validate("cellMetadata", meta)
    assert meta["seed"] == seeding.derive_cell_seed(42, "c1")
    record = _record(ip, "c1")
    schema.validate("cellRecord", record)
    assert [o["output_type"] for o in record["outputs"]] == ["stream", "execute_result"]
    assert record["rng"]["consumed"] == ["random"]
    assert record["state"]["variables"]["x"]["type"] == "float"
    # the body ran as a normal cell: last expression displayed, variable defined
    assert ip.user_ns["x"] == res.result


def test_cell_seed_is_independent_of_execution_order(ip):
    run(ip, "%repro seed 7")
    run(ip, "%%repro\nimport random\na = random.random()", cell_id="A")
    run(ip, "%%repro\nimport random\nb = random.random()", cell_id="B")
    first = (ip.user_ns["a"], ip.user_ns["b"])
    run(ip, "%%repro\nimport random\nb = random.random()", cell_id="B")
    run(ip, "%%repro\nimport random\na = random.random()", cell_id="A")
    assert (ip.user_ns["a"], ip.user_ns["b"]) == first
    assert first[0] != first[1]


def test_explicit_cell_seed_overrides_and_numpy_is_seeded(ip):
    np = pytest.importorskip("numpy")
    run(ip, "%%repro --seed 123\nimport numpy as np\nv = np.random.rand(3)", cell_id="n")
    expected = np.random.RandomState(123).rand(3)
    assert (ip.user_ns["v"] == expected).all()
    assert _session(ip).cell_metadata["n"]["seed"] == 123


def test_unseeded_generator_is_flagged(ip):
    pytest.importorskip("numpy")
    run(ip, "import numpy as np")
    run(ip, "%repro on --no-auto-seed")  # auto-seeding (the default) would make it reproducible
    run(ip, "%%repro\nrng = np.random.default_rng()\nv = rng.random()", cell_id="u")
    meta = _session(ip).cell_metadata["u"]
    assert meta["nondeterministic"] is True
    assert "default_rng() without a seed" in _record(ip, "u")["unseeded"][0]
    run(ip, "%%repro\nrng = np.random.default_rng(5)\nv = rng.random()", cell_id="s")
    assert _session(ip).cell_metadata["s"]["nondeterministic"] is False


def test_inputs_params_and_opened_files(ip, tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "declared").mkdir()
    (tmp_path / "declared" / "x.txt").write_text("x")
    run(ip, "lr = 0.1\nlayers = [64, 32]\napi_token = 'hunter2-abcdef'")
    run(
        ip,
        "%%repro --inputs declared --params lr layers api_token\ntext = open('data.csv').read()",
        cell_id="io",
    )
    record = _record(ip, "io")
    by_path = {i["path"]: i for i in record["inputs"]}
    assert by_path["declared"]["kind"] == "directory" and by_path["declared"]["files"] == 1
    assert by_path["data.csv"]["how"] == "opened" and by_path["data.csv"]["digest"].startswith("sha256:")
    assert record["params"]["lr"] == 0.1 and record["params"]["layers"] == [64, 32]
    assert record["params"]["api_token"] == "<redacted>"
    assert "hunter2" not in json.dumps(record)


def test_a_declared_input_under_home_is_listed_once_when_the_cell_opens_it(ip, tmp_path, monkeypatch):
    """``--inputs ~/x.csv`` was expanded for hashing but not for matching the files the cell opened, so
    the same file was listed twice (declared, and again as opened)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "x.csv").write_text("a\n1\n")
    run(
        ip,
        "%%repro --inputs ~/x.csv\nimport os\ntext = open(os.path.expanduser('~/x.csv')).read()",
        cell_id="h",
    )
    inputs = _record(ip, "h")["inputs"]
    assert [(i["path"], i["how"]) for i in inputs] == [("x.csv", "declared")], inputs


def test_changed_input_changes_record(ip, tmp_path):
    (tmp_path / "d.txt").write_text("one")
    run(ip, "%%repro --inputs d.txt\npass", cell_id="d")
    first = _session(ip).cell_metadata["d"]["record"]
    (tmp_path / "d.txt").write_text("two")
    run(ip, "%%repro --inputs d.txt\npass", cell_id="d")
    assert _session(ip).cell_metadata["d"]["record"] != first


def test_repro_on_records_every_cell_and_off_stops(ip):
    run(ip, "%repro on --seed 3")
    run(ip, "y = 1", cell_id="k1")
    run(ip, "%repro off", cell_id="k2")
    run(ip, "z = 2", cell_id="k3")
    recorded = set(_session(ip).cell_metadata)
    assert {"k1", "k2"} <= recorded and "k3" not in recorded


def test_error_cell_is_recorded_and_still_raises(ip):
    res = run(ip, "%%repro\nraise ValueError('boom')", cell_id="e", expect_error=True)
    assert not res.success and isinstance(res.error_in_exec, ValueError)
    meta = _session(ip).cell_metadata["e"]
    assert meta["status"] == "error"
    assert _record(ip, "e")["error"] == {"ename": "ValueError", "evalue": "boom"}


@pytest.mark.parametrize("line", ["seed x", "seed -1", "seed", "bogus", "on --seed nope"])
def test_usage_errors_are_one_line(ip, line):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("repro", line)
    assert "\n" not in str(info.value)


def test_bad_cell_options_abort_the_cell(ip):
    res = run(ip, "%%repro --seed notanumber\nran = True", cell_id="bad", expect_error=True)
    assert not res.success and "ran" not in ip.user_ns


def test_config_traitlets(ip):
    run(ip, "%config ReproMagics.state = False")
    run(ip, "%%repro\nq = 1", cell_id="t")
    assert "state" not in _record(ip, "t")
    assert _record(ip, "t")["options"]["state"] is False


def test_unpicklable_values_do_not_break_the_cell(ip):
    res = run(
        ip,
        "%%repro\nimport threading\nlock = threading.Lock()\ngen = (i for i in range(3))\n"
        "f = lambda: 1\nok = True",
        cell_id="unp",
    )
    assert res.success
    variables = _record(ip, "unp")["state"]["variables"]
    assert "skipped" in variables["lock"] and "skipped" in variables["gen"]


def test_status_and_env_print(ip, capsys):
    run(ip, "%repro status")
    run(ip, "%repro env")
    out = capsys.readouterr().out
    assert "master seed" in out and "python" in out and "gpu" in out


def test_read_only_folder_falls_back_to_named_store(ip, tmp_path, monkeypatch):
    import os

    if os.geteuid() == 0:
        # root ignores permissions: make the store path a file instead, which root cannot mkdir over
        (tmp_path / ".repro").write_text("not a directory")
    else:
        tmp_path.chmod(0o555)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    with pytest.warns(UserWarning, match="using .* instead"):
        res = run(ip, "%%repro\nv = 5", cell_id="ro")
    assert res.success and ip.user_ns["v"] == 5
    assert "ro" in _session(ip).cell_metadata


def test_deterministic_mode_records_settings_and_warnings(ip):
    pytest.importorskip("torch")
    run(ip, "import torch")
    res = run(
        ip,
        "%%repro --deterministic\nimport warnings\nx = torch.randn(3)\n"
        "warnings.warn('scatter_add_cuda_kernel does not have a deterministic implementation')",
        cell_id="det",
    )
    assert res.success
    record = _record(ip, "det")
    settings = record["deterministic_settings"]
    assert settings["torch_deterministic_algorithms"] is True
    assert settings["cudnn_deterministic"] is True and settings["cudnn_benchmark"] is False
    assert settings["CUBLAS_WORKSPACE_CONFIG"]
    assert record["nondeterminism_warnings"] and record["nondeterministic"] is True
    assert "torch" in record["seeded"]
    import torch

    torch.use_deterministic_algorithms(False)


def test_numpy_random_imported_inside_a_recorded_cell_is_seeded():
    """numpy.random is lazy in NumPy 2: the seed-on-import finder must seed it on first use."""
    import subprocess
    import sys

    code = (
        "from repro_jupyter import seeding\n"
        "with seeding.SEED_ON_IMPORT.active(11):\n"
        "    import numpy as np\n"
        "    a = np.random.rand()\n"
        "np.random.seed(11)\n"
        "print(a == np.random.rand())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_environment_without_nvml(monkeypatch):
    import sys

    from repro_jupyter.environment.gpu import gpu_info

    monkeypatch.setitem(sys.modules, "pynvml", None)  # as if nvidia-ml-py were not installed
    assert gpu_info() == {"available": False, "reason": "nvidia-ml-py not installed"}


def test_imported_distributions_leave_kernel_infrastructure_out():
    from repro_jupyter.environment.packages import imported_distributions

    mods = frozenset({"numpy", "tornado", "zmq", "IPython", "traitlets"})
    imported = imported_distributions(mods)
    assert "numpy" in imported
    assert not {"tornado", "pyzmq", "ipython", "traitlets"} & set(imported)


def test_replay_api_records_every_cell_with_pinned_seed(ip):
    kernel_runner.configure_replay(ip, 21, False)
    run(ip, "import random\nr = random.random()", cell_id="p1")
    kernel_runner.flush_records(ip)
    meta = _session(ip).cell_metadata["p1"]
    assert meta["seed"] == seeding.derive_cell_seed(21, "p1")
    assert open_store(Path.cwd(), create=False).objects.has(meta["record"])
    ip.run_line_magic("repro", "seed 3")  # pinned: the replay keeps the recorded seed
    assert _session(ip).master_seed == 21


def test_durable_environment_digest_is_in_the_store(ip):
    digest = _session(ip).durable_environment()
    env = open_store(Path.cwd(), create=False).objects.get_json(digest)
    schema.validate("environment", env)
