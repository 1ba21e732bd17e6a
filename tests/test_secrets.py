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


# --- the redaction service: patterns, known values, holds_secret / bytes_hold_secret -----------------------
SHAPED = {
    "aws access key id": "AKIAIOSFODNN7EXAMPLE",
    "aws secret in context": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "github": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github fine-grained": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "hugging face": "hf_abcdefghijklmnopqrstuvwxyzABCD",
    "openai": "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
    "slack": "xoxb-123456789012-abcdefghijklmnopqrstuvwx",
    "azure account key": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmF6cXV4Zm9v+/==;X=1",
    "azure sas": "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022&sig=abcDEF%3D",
    "gcp service account": '{"private_key_id": "0123456789abcdef0123456789abcdef01234567"}',
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAxyz\n-----END RSA PRIVATE KEY-----",
    "url password": "postgresql://app:s3cretpw99@db:5432/x",
    "url token": "https://9f8e7d6c5b4a39281706@wandb.example.com",
    "password pair": "user=app password=hunter2hunter2 host=db",
    "dict pw": "{'lr': 0.1, 'pw': 'GOHctAo2s9ZiSm'}",
}


@pytest.mark.parametrize("kind", sorted(SHAPED))
def test_every_shape_is_redacted_and_its_secret_part_is_gone(kind):
    from repro_jupyter.redaction import looks_secret

    text = SHAPED[kind]
    redacted = redact_text(text)
    assert REDACTED in redacted and looks_secret(text) and not looks_secret(redacted), redacted


@pytest.mark.parametrize(
    "text",
    [
        "sha256:" + "ab" * 32,  # digests and commits are everywhere in records
        "commit 0123456789abcdef0123456789abcdef01234567",
        "git@github.com:org/repo.git",
        "https://alice@example.com/x",
        "max_tokens=5 tokenizer=bert-base bypass=1234 compass: north",
        "loss 0.123 lr=0.05 epochs=3",
    ],
)
def test_harmless_text_is_kept(text):
    assert redact_text(text) == text


def test_names_are_judged_by_whole_parts():
    for name in ("db_pass", "cfg_pw", "apiKey", "AZURE_STORAGE_CONNECTION_STRING", "HF_TOKEN"):
        assert is_secret_name(name), name
    for name in ("tokenizer", "max_tokens", "author", "monkey", "TOKENIZERS_PARALLELISM", "WANDB_BASE_URL"):
        assert not is_secret_name(name), name


def test_known_secret_values_by_name_and_by_shape(tmp_path):
    from repro_jupyter.redaction import known_secret_values

    existing = tmp_path / "key.json"
    existing.write_text("{}")
    env = {
        "CI_DEPLOY_TOKEN": "random-deploy-token-123",  # by name
        "DATABASE_URL": "postgresql://app:pw-in-url-4567@db/x",  # by shape: the value and its password
        "GOOGLE_APPLICATION_CREDENTIALS": str(existing),  # names a file: where a secret is, not one
        "XDG_SESSION_ID": "2",  # too short to redact anywhere
        "SHORT_TOKEN": "abc",
        "HOME": "/root",
    }
    values = known_secret_values(env)
    assert set(values) == {"random-deploy-token-123", env["DATABASE_URL"], "pw-in-url-4567"}
    assert list(values) == sorted(values, key=len, reverse=True)


def test_this_process_secret_values_are_redacted_anywhere(monkeypatch):
    monkeypatch.setenv("CI_DEPLOY_TOKEN", "no-shape-at-all-98765")
    assert redact_text("deploying with no-shape-at-all-98765 now") == "deploying with <redacted> now"
    monkeypatch.delenv("CI_DEPLOY_TOKEN")
    assert redact_text("no-shape-at-all-98765") == "no-shape-at-all-98765"  # read again at each call


def test_redact_data_keeps_structure_and_digests(monkeypatch):
    from repro_jupyter.redaction import redact_data

    monkeypatch.setenv("SERVICE_API_KEY", "login-key-abcdef-0042")
    record = {
        "params": {"api_key": {"digest": "sha256:" + "cd" * 32}, "n": 3},
        "error": {"evalue": "login failed for key login-key-abcdef-0042"},
        "list": ("AKIAIOSFODNN7EXAMPLE", 1.5, None),
    }
    assert redact_data(record) == {
        "params": {"api_key": {"digest": "sha256:" + "cd" * 32}, "n": 3},
        "error": {"evalue": "login failed for key <redacted>"},
        "list": ["<redacted>", 1.5, None],
    }


def test_holds_secret_walks_plain_data(monkeypatch):
    import dataclasses

    from repro_jupyter.redaction import holds_secret

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    @dataclasses.dataclass
    class Conf:
        name: str
        extra: object

    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    for value in (
        secret,
        secret.encode(),
        {"a": [("x", {secret})]},
        {"pw": "hunter2hunter2"},  # a secret key names it
        {secret: 1},  # keys too
        Conf("c", {"hub": "hf_abcdefghijklmnopqrstuvwxyzABCD"}),
    ):
        assert holds_secret(value), value
    for value in (
        "plain text",
        b"\x00\x01",
        {"tokenizer": "bert-base", "lr": 0.1},
        [1, 2.5, None],
        Conf("c", 3),
    ):
        assert not holds_secret(value), value


class Holder:
    """An object a pickle carries (module level: pickle finds classes by name)."""

    def __init__(self, t):
        self.t = t


def test_bytes_hold_secret_scans_pickles_and_wide_strings(monkeypatch):
    import pickle

    from repro_jupyter.redaction import bytes_hold_secret, chunks_hold_secret

    np = pytest.importorskip("numpy")
    token = "vault-role-token-no-shape-77"
    monkeypatch.setenv("VAULT_ROLE_TOKEN", token)

    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        assert bytes_hold_secret(pickle.dumps(Holder(token), protocol=protocol))
    assert not bytes_hold_secret(pickle.dumps(Holder("harmless"), protocol=2))
    assert bytes_hold_secret(np.array(["x", token]).tobytes())  # UTF-32 by value
    assert bytes_hold_secret(
        np.array(["x", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"]).tobytes()
    )  # by shape
    assert not bytes_hold_secret(np.array(["hello", "world"]).tobytes())
    assert not bytes_hold_secret(np.arange(1000, dtype=np.float64).tobytes())
    data = b"x" * 5000 + token.encode() + b"y" * 5000
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]  # the token straddles two chunks
    assert chunks_hold_secret(chunks)


def test_notebook_secrets_are_literals_under_secret_names():
    from repro_jupyter.redaction import notebook_secrets

    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "db_pass = 'abcdefghij'\ncfg = {'lr': 0.1, 'pw': 'pwpwpwpwpw'}\n"
                "connect(password='kwkwkwkwkw')\nname = 'not-a-secret-1'\n%time x = 1",
            },
            {"cell_type": "markdown", "source": "password = 'markdownpw1'"},
            {"cell_type": "code", "source": "this is ( not python"},
        ]
    }
    assert set(notebook_secrets(nb)) == {"abcdefghij", "pwpwpwpwpw", "kwkwkwkwkw"}
    assert redact_text("printed abcdefghij", notebook_secrets(nb)) == "printed <redacted>"


def test_redacted_console_holds_and_redacts_multiline_secrets(capsys):
    from repro_jupyter.redaction.console import redacted_console

    with redacted_console(["extra-secret-value"]):
        print("-----BEGIN PRIVATE KEY-----")
        print("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
        print("-----END PRIVATE KEY----- and extra-secret-value")
    out = capsys.readouterr().out
    assert "MIIEvQ" not in out and "extra-secret-value" not in out and out.count(REDACTED) == 2


def test_git_remote_loses_its_user_info():
    from repro_jupyter.environment.git import credential_free_remote

    token = "Zq8" + "x" * 37
    assert credential_free_remote(f"https://{token}@github.com/o/r.git") == "https://github.com/o/r.git"
    assert credential_free_remote("https://oauth2:glpat-abc@gitlab.com/o/r") == "https://gitlab.com/o/r"
    assert credential_free_remote("git@github.com:o/r.git") == "git@github.com:o/r.git"


def test_captured_environment_leaves_out_connection_strings_and_url_tokens():
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": SHAPED["azure account key"],
        "AZURE_STORAGE_ACCOUNT": "acct",
        "WANDB_BASE_URL": SHAPED["url token"],
        "WANDB_MODE": "offline",
    }
    captured = captured_environment(env)
    assert captured == {
        "variables": {"AZURE_STORAGE_ACCOUNT": "acct", "WANDB_MODE": "offline"},
        "omitted_secrets": 2,
    }


def test_a_big_frame_holding_a_secret_is_withheld_although_its_parquet_is_written_later(tmp_path, capsys):
    """Frames over 16 MiB become Parquet in the writer thread, after the foreground's secret scan: their
    labels and text columns are scanned in the foreground instead (before: checkpointed unscanned)."""
    key = "AKIA" + "Q3EGRTZ7PLMN4XKW"  # an AWS access key id, in the last of 1.2 million rows
    src = make_notebook(
        tmp_path / "big.ipynb",
        [
            "import numpy as np\nimport pandas as pd\nn = 1_200_000\n"
            "names = ['row%d' % i for i in range(n)]\n"
            f"names[-1] = 'creds ' + {key[:4]!r} + {key[4:]!r}\n"
            "frame = pd.DataFrame({'x': np.arange(n, dtype=float), 'name': names})\n"
            "clean = pd.DataFrame({'x': np.arange(n, dtype=float), 'name': names[:-1] + ['row']})\n"
            "del names",
        ],
    )
    assert cli("run", src, "-q") == 0
    capsys.readouterr()
    assert cli("show", src, "--json") == 0
    record = json.loads(capsys.readouterr().out)["cells"][0]["record"]
    assert record["state"]["not_checkpointed"]["frame"] == "withheld: holds a secret"
    assert "clean" not in record["state"]["not_checkpointed"]  # same size, no secret: checkpointed
    frames = [f for f in (tmp_path / ".repro" / "objects").rglob("*") if f.is_file() and _is_parquet(f)]
    assert len(frames) == 1  # `clean` (Parquet compresses text: read it back to look)
    assert all(key not in "".join(map(str, _parquet_values(f))) for f in frames)


def _is_parquet(path):
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def _parquet_values(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return [value for column in table.columns for value in column.to_pylist()]


def test_model_weights_that_look_like_a_key_are_checkpointed_a_model_holding_one_is_not(tmp_path, capsys):
    """Tensor bytes cannot hold text, however they look: a model whose float weights happen to spell an
    AWS key id is checkpointed (before: withheld as "holds a secret", so a checkout left the model
    behind); a model carrying a key as an attribute (in its pickled structure) is still withheld."""
    pytest.importorskip("torch")
    src = make_notebook(
        tmp_path / "m.ipynb",
        [
            "import numpy as np\nimport torch\n"
            "raw = (b' AKI' + b'AQ3EGRTZ7PLMN4XKW ').ljust(32, b'\\x00')\n"
            "plain = torch.nn.Linear(8, 1)\n"
            "with torch.no_grad():\n"
            "    w = torch.from_numpy(np.frombuffer(raw, dtype=np.float32).copy())\n"
            "    plain.weight.copy_(w.reshape(1, 8))\n"
            "holder = torch.nn.Linear(2, 1)\nholder.note = 'creds ' + 'AKI' + 'AQ3EGRTZ7PLMN4XKW'\ndel raw",
        ],
    )
    assert cli("run", src, "-q") == 0
    capsys.readouterr()
    assert cli("show", src, "--json") == 0
    state = json.loads(capsys.readouterr().out)["cells"][0]["record"]["state"]
    withheld = state.get("not_checkpointed", {})
    assert "plain" not in withheld, withheld
    assert withheld.get("holder") == "withheld: holds a secret"
