"""Planted secrets must not reach the notebook or the store (env vars, params, URLs, errors)."""

from __future__ import annotations

import json

import nbformat
import pytest

from repro_jupyter.environment.envvars import captured_environment
from repro_jupyter.redact import REDACTED, is_secret_name, redact_text

from .conftest import cli, make_notebook, store_text

SECRET_ENV = {
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyzABCD",
    "MLFLOW_TRACKING_PASSWORD": "s3cr3t-mlflow-pass",
    "WANDB_API_KEY": "0123456789abcdef0123456789abcdef01234567",
    "MLFLOW_TRACKING_URI": "https://alice:pa55w0rd-in-url@mlflow.example.com",
    "TORCH_HOME_PASSWORD": "torch-home-pw-123",
}
SECRET_VALUES = [v for v in SECRET_ENV.values()] + [
    "pa55w0rd-in-url",
    "netrc-pw-999",
    "sk-live-0123456789abcdefghij",
]


@pytest.mark.parametrize(
    "name",
    ["AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "MY_API_KEY", "private_key", "SESSION_COOKIE"],
)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "text",
    [
        "https://bob:hunter2@example.com/path",
        "token=abcdef123456",
        "AKIAIOSFODNN7EXAMPLE",
        "machine api.example.com login bob password hunter2",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
)
def test_secret_values_are_redacted(text):
    assert redact_text(text) != text


def test_captured_environment_leaves_secrets_out():
    env = {**SECRET_ENV, "OMP_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": "0"}
    captured = captured_environment(env)
    assert captured["variables"] == {"OMP_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": "0"}
    # GITHUB_TOKEN is not on the allow-list at all, so it is not even counted
    assert captured["omitted_secrets"] == len(SECRET_ENV) - 1


def test_no_planted_secret_reaches_notebook_or_store(tmp_path, monkeypatch):
    for k, v in SECRET_ENV.items():
        monkeypatch.setenv(k, v)
    src = make_notebook(
        tmp_path / "s.ipynb",
        [
            "%load_ext repro_jupyter",
            "%%repro --params db_url netrc api_key config\n"
            "db_url = 'postgresql://admin:pa55w0rd-in-url@db.internal:5432/x'\n"
            "netrc = 'machine example.com login bob password netrc-pw-999'\n"
            "api_key = 'sk-live-0123456789abcdefghij'\n"
            "config = {'lr': 0.1, 'token': 'sk-live-0123456789abcdefghij'}\n",
            "import os\nraise RuntimeError('failed with ' + os.environ['GITHUB_TOKEN'])",
        ],
    )
    out = tmp_path / "out.ipynb"
    assert cli("run", src, "-o", out, "-q", "--allow-errors") == 0
    nb = nbformat.read(out, 4)
    meta_text = json.dumps(nb.metadata) + json.dumps([c.metadata for c in nb.cells])
    text = store_text(tmp_path / ".repro") + meta_text
    leaked = [v for v in SECRET_VALUES if v in text]
    assert leaked == []
    leaked_names = [k for k in SECRET_ENV if k in text]
    assert leaked_names == []
    assert REDACTED in text  # the params were recorded, redacted


def test_secrets_do_not_reach_reports_or_server_responses(tmp_path, monkeypatch):
    """Outputs and sources that show a secret are quoted redacted in every report and response."""
    import copy

    from repro_jupyter import reports
    from repro_jupyter.server import services
    from repro_jupyter.verify import VerifyOptions, verify_notebook

    token = SECRET_ENV["GITHUB_TOKEN"]
    src = make_notebook(
        tmp_path / "leak.ipynb",
        [
            "import os\nprint('token:', os.environ.get('GITHUB_TOKEN'))",
            f"api_key = '{SECRET_VALUES[-1]}'\nprint('x')",
        ],
    )
    monkeypatch.setenv("GITHUB_TOKEN", token)
    assert cli("run", src, "-q") == 0
    monkeypatch.setenv("GITHUB_TOKEN", token[:-4] + "ZZZZ")  # the output now drifts, showing both values
    report = verify_notebook(src, VerifyOptions())
    assert report["status"] == "drift"
    reports.write_json(report, tmp_path / "r.json")
    reports.write_junit([report], tmp_path / "r.xml")
    reports.write_html([report], tmp_path / "r.html")
    nb = nbformat.read(src, 4)
    current = copy.deepcopy(nb)
    current.cells[0].outputs[0]["text"] = "token: " + token[:-4] + "ZZZZ\n"
    responses = json.dumps(
        [
            services.provenance(nb, tmp_path),
            services.lineage(nb, tmp_path),
            services.compare(nb, current, src),
        ]
    )
    texts = [(tmp_path / n).read_text() for n in ("r.json", "r.xml", "r.html")] + [responses]
    for secret in (token, token[:-4] + "ZZZZ", SECRET_VALUES[-1]):
        assert not any(secret in t for t in texts), secret
