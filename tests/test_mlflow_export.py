"""``jupyter repro export mlflow``: a real recording in a git repo, logged to a real SQLite tracking
store and read back through ``MlflowClient``; planted secrets must not reach any param, tag or artifact."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.canonical import digest_json
from repro_jupyter.export.mlflow_run import _param_leaves, _text, build_plan, mlflow_key
from repro_jupyter.export.scrub import Scrubber
from repro_jupyter.store import open_store

from .conftest import cli, make_notebook

mlflow = pytest.importorskip("mlflow")
np = pytest.importorskip("numpy")

SECRET_ENV = {
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # no pattern finds this one
    "GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "MLFLOW_TRACKING_PASSWORD": "s3cr3t-mlflow-pass",
}
SECRET_PARAM = "sk-live-0123456789abcdefghij"
SECRET_NESTED = "hf_abcdefghijklmnopqrstuvwxyzABCD"
SECRETS = [*SECRET_ENV.values(), SECRET_PARAM, SECRET_NESTED]

CELLS = [
    "%load_ext repro_jupyter",
    "%%repro --params lr epochs api_key config --inputs data/train.csv\n"
    "lr = 0.05\nepochs = 3\n"
    f"api_key = '{SECRET_PARAM}'\n"
    f"config = {{'hidden': 8, 'token': '{SECRET_NESTED}'}}\n"
    "import numpy as np\nweights = np.random.rand(4, 3)",
    "import os\nprint('env', os.environ['AWS_SECRET_ACCESS_KEY'], os.environ['GITHUB_TOKEN'])\n"
    "with open('data/extra.txt') as fh:\n    extra = fh.read()",
    "class Holder:\n    def __init__(self, t):\n        self.t = t\n"
    "holder = Holder(os.environ['AWS_SECRET_ACCESS_KEY'])",
    # more than one log_batch of params (MLflow takes at most 100 per batch)
    "\n".join(f"h{i:03d} = {i}" for i in range(120)),
]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A notebook in a git repo (``exp/train.ipynb``) recorded headless with planted secrets in its env."""
    repo = tmp_path_factory.mktemp("repo")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in SECRET_ENV.items():
            mp.setenv(name, value)
        mp.setenv("REPRO_JUPYTER_SIGNING_KEY", str(repo.parent / "signing_key"))
        nb = make_notebook(repo / "exp" / "train.ipynb", CELLS)
        (repo / "exp" / "data").mkdir()
        (repo / "exp" / "data" / "train.csv").write_text("x,y\n1,2\n3,4\n")
        (repo / "exp" / "data" / "extra.txt").write_text("extra input\n")
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", "experiment")
        mp.chdir(nb.parent)
        assert cli("run", nb, "-q") == 0
    return nb


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A fresh SQLite tracking store with an experiment whose artifacts stay in tmp_path."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage reports from a test run
    monkeypatch.chdir(tmp_path)  # whatever MLflow defaults to lands here, never in the user's ./mlruns
    client = mlflow.MlflowClient(uri)
    client.create_experiment("repro", artifact_location=(tmp_path / "artifacts").as_uri())
    return client


@pytest.fixture
def secrets_env(monkeypatch):
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)


def _run(client):
    experiment = client.get_experiment_by_name("repro")
    return client.search_runs([experiment.experiment_id])


def test_export_reads_back_complete_and_without_secrets(recorded, tracking, secrets_env, tmp_path, capsys):
    client = tracking
    code = cli("export", "mlflow", recorded, "--experiment", "repro", "--checkpoint", "weights")
    out, err = capsys.readouterr()
    assert code == 0, err
    (run,) = _run(client)
    assert run.info.run_id in out and f"runs:/{run.info.run_id}" in out
    assert run.info.status == "FINISHED" and run.info.run_name == "train"

    nb = nbformat.read(recorded, 4)
    nb_meta = nb.metadata[METADATA_KEY]
    cells = [c for c in nb.cells if METADATA_KEY in c.metadata]
    store = open_store(recorded.parent, create=False)

    # params: hyperparameters, redacted ones, seeds, and more than one batch of them
    params = run.data.params
    assert params["lr"] == "0.05" and params["epochs"] == "3" and params["config.hidden"] == "8"
    assert params["api_key"] == "<redacted>" and params["config.token"] == "<redacted>"
    assert params["h000"] == "0" and params["h119"] == "119"
    assert params["seed.master"] == str(nb_meta["master_seed"])
    for cell in cells:
        assert params[f"seed.cell.{cell.id}"] == str(cell.metadata[METADATA_KEY]["seed"])
    assert len(params) > 100

    # tags: git from the recorded environment, the repo-relative path, the environment digest
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == _git(recorded.parent, "rev-parse", "HEAD")
    assert tags["mlflow.source.git.branch"] == _git(recorded.parent, "rev-parse", "--abbrev-ref", "HEAD")
    assert tags["repro_jupyter.git.dirty"] == "false"
    assert tags["mlflow.source.name"] == tags["repro_jupyter.notebook"] == "exp/train.ipynb"
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags["repro_jupyter.environment"] == nb_meta["environment"]
    assert tags["repro_jupyter.version"]
    assert {f"duration_s.cell.{c.id}" for c in cells} <= set(run.data.metrics)

    # dataset inputs: the declared and the opened file, by digest, paths relative to the repo
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"exp/data/train.csv", "exp/data/extra.txt"}
    for name, entry in inputs.items():
        digest = hashlib.sha256((recorded.parents[1] / name).read_bytes()).hexdigest()
        assert entry.dataset.digest == digest[:36] and entry.dataset.source_type == "local"
        assert json.loads(entry.dataset.source) == {"uri": name}
        assert json.loads(entry.dataset.profile)["digest"] == f"sha256:{digest}"
        tags_ = {t.key: t.value for t in entry.tags}
        assert tags_["repro_jupyter.digest"] == f"sha256:{digest}"
    contexts = {n: {t.key: t.value for t in d.tags}["mlflow.data.context"] for n, d in inputs.items()}
    assert contexts == {"exp/data/train.csv": "declared", "exp/data/extra.txt": "opened"}

    # artifacts: environment (exactly the stored snapshot), requirements pins, checkpoint bytes
    local = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "download")))
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert files == [
        "checkpoints/manifest.json",
        "checkpoints/weights.npy",
        "notebook/train.ipynb",
        "repro/environment.json",
        "repro/provenance.json",
        "repro/requirements.txt",
    ]
    env = json.loads((local / "repro/environment.json").read_text())
    assert env.pop("digest") == nb_meta["environment"] and digest_json(env) == nb_meta["environment"]
    assert f"numpy=={np.__version__}" in (local / "repro/requirements.txt").read_text().splitlines()
    (entry,) = json.loads((local / "checkpoints/manifest.json").read_text())["checkpoints"]
    stored = store.objects.get_bytes(entry["object"])
    assert (local / "checkpoints/weights.npy").read_bytes() == stored
    assert np.load(io.BytesIO(stored)).shape == (4, 3) and entry["format"] == "npy"
    exported_nb = nbformat.reads((local / "notebook/train.ipynb").read_text(), 4)
    assert len(exported_nb.cells) == len(CELLS) and "<redacted>" in exported_nb.cells[2].outputs[0]["text"]

    # no planted secret anywhere: params, tags, metrics, inputs, every artifact's bytes, the console
    texts = [json.dumps([params, tags, list(run.data.metrics)]), out, err]
    texts += [
        json.dumps([d.dataset.to_dictionary(), [[t.key, t.value] for t in d.tags]]) for d in inputs.values()
    ]
    texts += [(local / f).read_bytes().decode("latin-1") for f in files]
    stored_by_mlflow = [
        tmp_path / "mlflow.db",
        *(p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()),
    ]
    texts += [p.read_bytes().decode("latin-1") for p in stored_by_mlflow]
    leaked = [s for s in SECRETS if any(s in t for t in texts)]
    assert leaked == []


def test_plan_outside_git_and_missing_store_object(recorded, tmp_path, secrets_env):
    """A copy outside any repository is named by its file name; a missing checkpoint object is one error."""
    copy = tmp_path / "copy"
    shutil.copytree(recorded.parent, copy, ignore=shutil.ignore_patterns(".git"))
    plan = build_plan(copy / "train.ipynb", checkpoints=["weights", "epochs"])
    assert plan.tags["mlflow.source.name"] == "train.ipynb"
    assert plan.tags["mlflow.source.git.commit"]  # still the recorded commit
    assert {a.path for a in plan.artifacts} >= {"checkpoints/weights.npy", "checkpoints/epochs.json"}
    manifest = json.loads(next(a.data for a in plan.artifacts if a.path == "checkpoints/manifest.json"))
    weights = next(c for c in manifest["checkpoints"] if c["name"] == "weights")
    obj = open_store(copy, create=False).objects.path_for(weights["object"])
    obj.chmod(0o644)
    obj.unlink()
    assert cli("export", "mlflow", copy / "train.ipynb", "--checkpoint", "weights") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checkpoint", "nope"], "no variable 'nope' in the last recorded state"),
        (["--checkpoint", "api_key"], "the name looks like a secret"),
        (["--checkpoint", "holder"], "a secret"),
    ],
)
def test_checkpoint_refusals_log_nothing(recorded, tracking, secrets_env, capsys, args, message):
    assert cli("export", "mlflow", recorded, "--experiment", "repro", *args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert _run(tracking) == []
    assert not any(s in err for s in SECRETS)


def test_unrecorded_notebook_and_missing_mlflow(tmp_path, tracking, monkeypatch, capsys):
    plain = make_notebook(tmp_path / "plain.ipynb", ["x = 1"])
    assert cli("export", "mlflow", plain) == 2
    err = capsys.readouterr().err
    assert "not recorded" in err and err.count("\n") == 1
    assert cli("export", "mlflow", tmp_path / "absent.ipynb") == 2
    assert "no such notebook" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    assert cli("export", "mlflow", plain) == 2
    err = capsys.readouterr().err
    assert "repro-jupyter[mlflow]" in err and err.count("\n") == 1


def test_keys_values_and_params_within_mlflow_limits():
    assert mlflow_key("seed.cell.src:abc/../x y") == "seed.cell.src_abc_.._x y"
    assert mlflow_key("..") == "_.." and mlflow_key("") == "_"
    long = mlflow_key("k" * 400)
    assert len(long) == 250 and long != mlflow_key("k" * 401)
    assert len(_text("v" * 10_000, 6000)) == 6000
    leaves = dict(
        _param_leaves(
            {
                "config": {"opt": {"lr": 0.1}, "password": "hunter2"},
                "gone": {"missing": True},
                "obj": {"repr": "Thing()", "truncated": True},
            }
        )
    )
    assert leaves == {"config.opt.lr": 0.1, "config.password": "<redacted>", "obj": "Thing()"}


def test_scrubber_removes_known_values_and_patterns():
    scrub = Scrubber({"AWS_SECRET_ACCESS_KEY": SECRET_ENV["AWS_SECRET_ACCESS_KEY"], "XDG_SESSION_ID": "2"})
    text = f"key {SECRET_ENV['AWS_SECRET_ACCESS_KEY']} token {SECRET_ENV['GITHUB_TOKEN']} 2 + 2"
    assert scrub.text(text) == "key <redacted> token <redacted> 2 + 2"
    assert scrub.value({"a": [text]}) == {"a": [scrub.text(text)]}
