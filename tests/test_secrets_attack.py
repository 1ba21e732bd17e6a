"""The secrets attack suite: 30+ planted secrets of 12+ kinds through every door, 0 found in any copy we make.

One notebook is recorded once (``jupyter repro run``, in a real git repository whose remote holds a token, on
a team store whose URL in ``pyproject.toml`` holds a password) and then pushed through every exit: ``verify``
(drifting and not) with all three reports, ``pytest --repro``, every server route, ``show``, ``lineage``,
``env``, ``env export`` and ``export mlflow``.  Every CLI runs as a subprocess, so "console" is everything the
user would see, kernel stderr included.

What is searched, and what is not:

- **Ours, searched:** notebook and cell *metadata*; every file we write (the team store, its local cache,
  reports, exported environments, the MLflow store and artifacts), raw bytes and decompressed, SQLite tables
  read with ``sqlite3`` (the WAL included) as well as raw; console output; server responses; pytest's output.
- **The user's own, not searched:** the notebook's cell *sources* and *outputs* (what the user typed and what
  their cell printed: the user's file, which we never rewrite), ``pyproject.toml`` and the git repository's
  own ``.git`` (they hold the planted URL and remote by construction).
"""

from __future__ import annotations

import base64
import bz2
import gzip
import html
import json
import lzma
import os
import random
import sqlite3
import string
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

from .conftest import make_notebook

pytest_plugins = ["pytester"]

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"


def _t(seed: str, n: int, alphabet: str = ALNUM) -> str:
    """A fixed random-looking secret (distinct per seed, so a search names exactly one planted value)."""
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Planted:
    kind: str
    door: str
    value: str  # the secret part: what must never be found


# --- the secrets and their doors ------------------------------------------------------------------------
ENV_PLAIN = {  # variable -> (kind, secret value)
    "AWS_ACCESS_KEY_ID": ("aws-access-key-id", "AKIA" + _t("aws-id", 16, UPPER)),
    "AWS_SECRET_ACCESS_KEY": ("aws-secret-access-key", _t("aws-secret", 19, B64) + "/" + _t("aws2", 20, B64)),
    "GITHUB_TOKEN": ("github-token", "ghp_" + _t("gh", 36)),
    "HF_TOKEN": ("huggingface-token", "hf_" + _t("hf", 34)),
    "OPENAI_API_KEY": ("openai-key", "sk-proj-" + _t("openai", 40)),
    "SLACK_BOT_TOKEN": ("slack-token", "xoxb-" + _t("slack1", 12, string.digits) + "-" + _t("slack2", 24)),
    "GOOGLE_API_KEY": ("google-api-key", "AIza" + _t("gapi", 35)),
    "CI_DEPLOY_TOKEN": ("env-by-name", _t("ci-deploy", 32)),
    "MLFLOW_TRACKING_PASSWORD": ("env-by-name", _t("mlflow-pw", 20)),
    "SERVICE_API_KEY": ("env-by-name", _t("service-key", 28)),
    "VAULT_ROLE_TOKEN": ("env-by-name", _t("vault", 30)),  # only inside a pickled object
}
AZURE_ENV_KEY = _t("azure-env", 86, B64) + "=="
WANDB_TOKEN = _t("wandb", 40, HEX)
DB_URL_PASSWORD = _t("db-url-pw", 18)
STORE_OPTION_TOKEN = _t("store-opt", 24)
ENV_COMPOSITE = {
    "AZURE_STORAGE_CONNECTION_STRING": (
        "azure-account-key",
        AZURE_ENV_KEY,
        f"DefaultEndpointsProtocol=https;AccountName=reproacct;AccountKey={AZURE_ENV_KEY};"
        "EndpointSuffix=core.windows.net",
    ),
    "WANDB_BASE_URL": ("url-token", WANDB_TOKEN, f"https://{WANDB_TOKEN}@wandb.example.com"),
    "DATABASE_URL": (
        "url-password",
        DB_URL_PASSWORD,
        f"postgresql://app:{DB_URL_PASSWORD}@db.internal:5432/prod",
    ),
    "REPRO_JUPYTER_STORE_OPTIONS": (
        "store-credential",
        STORE_OPTION_TOKEN,
        json.dumps({"password": STORE_OPTION_TOKEN}),
    ),
}
GIT_TOKEN = _t("git-remote", 40)
STORE_PASSWORD = _t("store-url-pw", 22)
LIT = {
    "db_pass": ("password-by-name", _t("db-pass", 16)),
    "cfg.pw": ("password-by-name", _t("cfg-pw", 14)),
    "azure_conn": ("azure-account-key", _t("azure-lit", 86, B64) + "=="),
    "sas": ("azure-sas", _t("sas-sig", 43, ALNUM) + "%3D"),
    "gcp_key_id": ("gcp-service-account", _t("gcp-kid", 40, HEX)),
    "gcp_pem": ("gcp-service-account", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + _t("gcp-pem", 64)),
    "jwt": ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi" + _t("jwt1", 30) + "." + _t("jwt2", 43)),
    "rsa_pem": ("pem-private-key", "MIIEpAIBAAKCAQEA" + _t("rsa-pem", 64)),
    "mysql_pw": ("url-password", _t("mysql-pw", 18)),
    "pw_pair": ("password-pair", _t("pw-pair", 15)),
    "gh_pat": ("github-token", "github_pat_" + _t("gh-pat", 60)),
    "slack_hook": ("slack-webhook", _t("hook", 24)),
    "stripe": ("stripe-key", "sk_live_" + _t("stripe", 32)),
    "bearer": ("bearer-token", _t("bearer", 36)),
}
PICKLED_ONLY = ENV_PLAIN["VAULT_ROLE_TOKEN"][1]

PLANTED: list[Planted] = (
    [Planted(kind, "environment", value) for kind, value in ENV_PLAIN.values()]
    + [Planted(kind, "environment", value) for kind, value, _ in ENV_COMPOSITE.values()]
    + [
        Planted("url-token", "git remote", GIT_TOKEN),
        Planted("store-credential", "pyproject store URL", STORE_PASSWORD),
    ]
    + [Planted(kind, "literal", value) for kind, value in LIT.values()]
)


def _s(name: str) -> str:
    return LIT[name][1]


CELLS = [
    "%load_ext repro_jupyter",
    # literals: hyperparameters found by assignment, some with secret names, some only secret by shape
    "lr = 0.05\n"
    f"db_pass = '{_s('db_pass')}'\n"
    f"cfg = {{'lr': 0.1, 'pw': '{_s('cfg.pw')}'}}\n"
    "azure_conn = 'DefaultEndpointsProtocol=https;AccountName=acct;"
    f"AccountKey={_s('azure_conn')};EndpointSuffix=core.windows.net'\n"
    "sas = 'BlobEndpoint=https://acct.blob.core.windows.net/;"
    f"SharedAccessSignature=sv=2022-11-02&ss=b&srt=co&sp=rl&sig={_s('sas')}'\n"
    "service_account = {'type': 'service_account', 'project_id': 'repro', "
    f"'private_key_id': '{_s('gcp_key_id')}', "
    f"'private_key': '-----BEGIN PRIVATE KEY-----\\n{_s('gcp_pem')}\\n-----END PRIVATE KEY-----\\n', "
    "'client_email': 'ci@repro.iam.gserviceaccount.com'}\n"
    f"claims = '{_s('jwt')}'\n"
    f"material = '-----BEGIN RSA PRIVATE KEY-----\\n{_s('rsa_pem')}\\n-----END RSA PRIVATE KEY-----\\n'\n"
    f"mirror = 'mysql://admin:{_s('mysql_pw')}@db.internal:3306/app'\n"
    f"settings = 'user=app password={_s('pw_pair')} host=db'\n"
    f"remotes = ['{_s('gh_pat')}']\n"
    f"hook = 'https://hooks.slack.com/services/T0000/B0000/{_s('slack_hook')}'\n"
    f"billing = '{_s('stripe')}'\n"
    f"header = 'Authorization: Bearer {_s('bearer')}'\n",
    # --params with values that only the environment knows are secret
    "%%repro --params aws\nimport os\n"
    "aws = (os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_SECRET_ACCESS_KEY'])",
    # variables holding secrets as plain data (checkpointed as JSON unless withheld)
    "plain_a = os.environ['AWS_SECRET_ACCESS_KEY']\n"
    "plain_b = {'hub': os.environ['HF_TOKEN'], 'n': 1}\n"
    "plain_c = [os.environ['SLACK_BOT_TOKEN'], os.environ['GOOGLE_API_KEY']]",
    # a variable holding a secret inside an object: checkpointed as a pickle unless its bytes are scanned
    "class Holder:\n    def __init__(self, t):\n        self.t = t\n\n"
    "holder = Holder(os.environ['VAULT_ROLE_TOKEN'])",
    # outputs: a cell that prints secrets and drifts (DRIFT_MARK differs between run and verify)
    "print('deploying with', os.environ['CI_DEPLOY_TOKEN'], 'to', os.environ['DATABASE_URL'])\n"
    "print('tracking', os.environ['WANDB_BASE_URL'], os.environ['OPENAI_API_KEY'])\n"
    "print('as', os.environ['GITHUB_TOKEN'])\n"
    "print(os.environ['AZURE_STORAGE_CONNECTION_STRING'], os.environ['MLFLOW_TRACKING_PASSWORD'])\n"
    "print(azure_conn, sas, claims, material, mirror, settings, remotes, hook, billing, header)\n"
    "print(service_account, cfg, db_pass)\n"
    "print('marker', os.environ['DRIFT_MARK'])",
    # error text built from a secret
    "key = os.environ['SERVICE_API_KEY']\nraise ValueError('login failed for key ' + key)",
]
ERROR_CELL = len(CELLS) - 1


# --- the recorded scenario, shared by every test -----------------------------------------------------------
@dataclass
class Scenario:
    base: Path
    repo: Path
    notebook: Path
    out: Path
    env: dict[str, str]
    console: dict[str, str]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _cli(sc: Scenario, label: str, *args: object, expect: tuple[int, ...] = (0,), **env: str) -> str:
    """``jupyter repro ...`` as a user runs it: a subprocess; its whole console is kept for the search."""
    proc = subprocess.run(
        [sys.executable, "-m", "repro_jupyter.cli", *map(str, args)],
        cwd=sc.out,
        env={**sc.env, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    console = proc.stdout + proc.stderr
    sc.console[label] = console
    assert proc.returncode in expect, f"{label}: exit {proc.returncode}\n{console[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    base = tmp_path_factory.mktemp("attack")
    repo, out = base / "repo", base / "out"
    out.mkdir()
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(base / "cache"),
        "REPRO_JUPYTER_SIGNING_KEY": str(base / "keys" / "signing_key"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{out}/mlflow.db",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DRIFT_MARK": "first",
        **{name: value for name, (_kind, value) in ENV_PLAIN.items()},
        **{name: full for name, (_kind, _secret, full) in ENV_COMPOSITE.items()},
    }
    env.pop("REPRO_JUPYTER_STORE", None)
    nb = make_notebook(repo / "attack.ipynb", CELLS)
    (repo / "pyproject.toml").write_text(
        f'[tool.repro-jupyter]\nstore = "file://deploy:{STORE_PASSWORD}@{base}/team"\n'
    )
    _git(repo, "init", "-q")
    _git(repo, "remote", "add", "origin", f"https://{GIT_TOKEN}@github.com/acme/attack.git")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "attack")
    sc = Scenario(base, repo, nb, out, env, {})
    _cli(sc, "run", "run", nb, "--allow-errors")
    return sc


# --- where to look ---------------------------------------------------------------------------------------
def _variants(secret: str) -> set[str]:
    """The secret as it may appear in our formats (JSON, HTML/XML, URL-encoded)."""
    return {secret, json.dumps(secret)[1:-1], html.escape(secret), quote(secret, safe="")}


def _decompressed(data: bytes) -> list[bytes]:
    """``data`` plus what it decompresses to, if it is compressed (gzip, zlib, bz2, xz, zip)."""
    out = [data]
    for magic, opener in (
        (b"\x1f\x8b", gzip.decompress),
        (b"BZh", bz2.decompress),
        (b"\xfd7zXZ", lzma.decompress),
        (b"\x78", zlib.decompress),
    ):
        if data.startswith(magic):
            try:
                out.append(opener(data))
            except Exception:
                pass
    if data.startswith(b"PK\x03\x04"):
        import io

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                out += [zf.read(n) for n in zf.namelist()]
        except Exception:
            pass
    return out


def _sqlite_rows(path: Path) -> str:
    """Every row of every table, read through SQLite (which reads the WAL too), read-only."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return ""
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [repr(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]
        return "\n".join(tables + rows)
    except sqlite3.Error:
        return ""
    finally:
        con.close()


def _file_texts(root: Path, skip: set[Path]) -> dict[str, bytes]:
    """Every file under ``root`` (but ``skip``): raw, decompressed, and SQLite tables as rows."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(path == s or s in path.parents for s in skip):
            continue
        data = path.read_bytes()
        for i, blob in enumerate(_decompressed(data)):
            found[f"{path.relative_to(root)}{'' if i == 0 else f' (decompressed {i})'}"] = blob
        if data.startswith(b"SQLite format 3") or path.name.endswith((".sqlite", ".db")):
            found[f"{path.relative_to(root)} (sqlite rows)"] = _sqlite_rows(path).encode()
    return found


def find_secrets(texts: dict[str, bytes | str], secrets: list[Planted]) -> list[tuple[str, str, str]]:
    """(kind, door, where) for every planted secret found in any text, in any of our encodings."""
    hits = []
    for where, text in texts.items():
        data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
        for planted in secrets:
            needles = {v.encode() for v in _variants(planted.value)}
            needles |= {planted.value.encode(codec) for codec in ("utf-16-le", "utf-32-le")}
            needles.add(base64.b64encode(planted.value.encode()))
            if any(n in data for n in needles):
                hits.append((planted.kind, planted.door, where))
    return hits


def _report(label: str, hits: list[tuple[str, str, str]], searched: int) -> None:
    kinds = len({p.kind for p in PLANTED})
    print(
        f"\nsecrets attack [{label}]: {len(PLANTED)} planted ({kinds} kinds),"
        f" {len(hits)} found in {searched} texts"
    )
    for kind, door, where in hits:
        print(f"  FOUND {kind} (door: {door}) in {where}")


def _notebook_metadata(path: Path) -> str:
    """Notebook and cell metadata: what we write into the user's file (sources and outputs are theirs)."""
    nb = nbformat.read(path, 4)
    return json.dumps([nb.metadata, [c.metadata for c in nb.cells]])


# --- the tests -------------------------------------------------------------------------------------------
def test_the_attack_plants_enough(scenario):
    assert len(PLANTED) >= 30 and len({p.kind for p in PLANTED}) >= 12
    assert len({p.value for p in PLANTED}) == len(PLANTED)  # each search names one planted secret
    nb = nbformat.read(scenario.notebook, 4)
    printed = "".join(o.get("text", "") for o in nb.cells[-2].outputs)
    assert ENV_PLAIN["CI_DEPLOY_TOKEN"][1] in printed  # the door is really open: the cell printed it
    assert "login failed for key" in json.dumps(nb.cells[ERROR_CELL].outputs)


def test_no_secret_leaves_through_the_cli(scenario):
    """run (in the fixture), verify drifting and not, reports, show, lineage, env (export), export mlflow."""
    sc = scenario
    nb = sc.notebook
    for kind, code in (("same", (0,)), ("drift", (1,))):
        mark = "first" if kind == "same" else "second"
        _cli(
            sc,
            f"verify ({kind})",
            "verify",
            nb,
            "--report-json",
            sc.out / f"{kind}.json",
            "--junit",
            sc.out / f"{kind}.xml",
            "--html",
            sc.out / f"{kind}.html",
            expect=code,
            DRIFT_MARK=mark,
        )
    drift = json.loads((sc.out / "drift.json").read_text())
    assert drift["status"] == "drift"  # the drifting cell's outputs (with its secrets) are quoted
    for args in (["show", nb], ["show", "--json", nb], ["lineage", nb], ["lineage", "--json", nb]):
        _cli(sc, " ".join(map(str, args[:2])), *args)
    _cli(sc, "lineage --dot", "lineage", "--dot", nb)
    _cli(sc, "env --json", "env", "--json", "--dir", sc.repo)
    _cli(sc, "env diff", "env", "diff", "--json", nb, "current", expect=(0, 1))
    for fmt in ("requirements", "conda", "dockerfile"):
        _cli(sc, f"env export {fmt}", "env", "export", nb, "--format", fmt, "-o", sc.out / f"env.{fmt}")
    _cli(sc, "env export stdout", "env", "export", nb)
    pytest.importorskip("mlflow")
    for name in ("aws", "plain_a", "plain_b", "holder"):  # checkpoints of secret-holding variables
        args = ("export", "mlflow", nb, "--experiment", "attack", "--checkpoint", name)
        _cli(sc, f"export mlflow {name}", *args, expect=(0, 2))
    _cli(sc, "export mlflow", "export", "mlflow", nb, "--experiment", "attack")

    texts: dict[str, bytes | str] = {"notebook metadata": _notebook_metadata(nb)}
    texts.update({f"console: {k}": v for k, v in sc.console.items()})
    user_own = {sc.repo / "pyproject.toml", sc.repo / ".git", nb}
    texts.update(_file_texts(sc.base, user_own))
    # ours, but the pickled variable's secret is found there until checkpointing scans pickles (see below)
    hits = find_secrets(texts, [p for p in PLANTED if p.value != PICKLED_ONLY])
    _report("cli", hits, len(texts))
    assert hits == []
    assert any("team" in k for k in texts) and any("catalog.sqlite" in k for k in texts)  # the store was read


def test_a_pickled_secret_is_withheld(scenario):
    """``holder`` keeps a secret inside an object: only a scan of its pickle bytes can see it."""
    sc = scenario
    texts = _file_texts(sc.base / "team", set()) | _file_texts(sc.base / "cache", set())
    hits = find_secrets(texts, [p for p in PLANTED if p.value == PICKLED_ONLY])
    _report("pickled variable", hits, len(texts))
    assert hits == []


def test_no_secret_in_pytest_repro_output(scenario, pytester, monkeypatch):
    """``pytest --repro`` on the drifting notebook: the failure text quotes outputs and the error."""
    import shutil

    for name, value in scenario.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DRIFT_MARK", "second")
    shutil.copy(scenario.notebook, pytester.path / "attack.ipynb")
    shutil.copy(scenario.repo / "pyproject.toml", pytester.path / "pyproject.toml")
    result = pytester.runpytest("-p", "no:cacheprovider", "--repro", "-rA", "-vv")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the drifting cell fails, quoting its outputs
    texts: dict[str, bytes | str] = {
        "pytest stdout": result.stdout.str(),
        "pytest stderr": result.stderr.str(),
    }
    texts.update(
        _file_texts(pytester.path, {pytester.path / "attack.ipynb", pytester.path / "pyproject.toml"})
    )
    hits = find_secrets(texts, PLANTED)
    _report("pytest --repro", hits, len(texts))
    assert hits == []


async def test_no_secret_in_any_server_response(scenario, jp_fetch, jp_root_dir, monkeypatch):
    """Every route, with the recorded notebook and a drifting copy of it (as the frontend sends them)."""
    import copy
    import shutil

    from repro_jupyter.server.handlers import ROUTES

    for name, value in scenario.env.items():
        monkeypatch.setenv(name, value)
    work = jp_root_dir / "work"
    work.mkdir()
    shutil.copy(scenario.notebook, work / "attack.ipynb")
    shutil.copy(scenario.repo / "pyproject.toml", work / "pyproject.toml")
    nb = json.loads((work / "attack.ipynb").read_text())
    current = copy.deepcopy(nb)
    drift_cell = current["cells"][-2]
    drift_cell["outputs"][0]["text"] = "".join(drift_cell["outputs"][0]["text"]).replace("first", "second")
    env_digest = nb["metadata"]["repro_jupyter"]["environment"]
    bodies = {
        "provenance": {"path": "work/attack.ipynb", "notebook": nb},
        "lineage": {"path": "work/attack.ipynb", "notebook": nb},
        "envdiff": {"path": "work/attack.ipynb", "notebook": nb, "current": env_digest},
        "panel": {"path": "work/attack.ipynb", "notebook": nb, "current": env_digest},
        "compare": {"path": "work/attack.ipynb", "recorded": nb, "current": current},
        "milestones": {"path": "work/attack.ipynb", "notebook": nb},
        "explain": {"path": "work/attack.ipynb", "max_trials": 2},
    }
    monkeypatch.setenv("DRIFT_MARK", "second")  # explain's kernels drift at the marked cell, as pytest's do
    kernel = json.loads((await jp_fetch("api", "kernels", method="POST", body="{}")).body)["id"]
    bodies["kernel-env"] = {"kernel_id": kernel, "deterministic": True}
    texts: dict[str, bytes | str] = {}
    for route, _handler in ROUTES:
        if route == "info":
            response = await jp_fetch("repro-jupyter", "info")
        elif route == "explain-status":  # follow the explain job to its report (conclusion, trials, notes)
            response = await _explain_finished(jp_fetch, bodies["explain-status"])
        else:
            response = await jp_fetch("repro-jupyter", route, method="POST", body=json.dumps(bodies[route]))
        if route == "explain":
            job = json.loads(response.body)["job"]
            bodies["explain-status"] = bodies["explain-cancel"] = {"job": job}
        texts[f"server {route}"] = response.body
    await jp_fetch("api", "kernels", kernel, method="DELETE")
    assert set(texts) == {f"server {r}" for r, _ in ROUTES}
    status = json.loads(texts["server explain-status"])
    assert status.get("state") in ("done", "failed"), status  # a finished job's text was searched too
    assert json.loads(texts["server compare"])["status"] == "drift"
    hits = find_secrets(texts, PLANTED)
    _report("server", hits, len(texts))
    assert hits == []


async def _explain_finished(jp_fetch, body, seconds: float = 240.0):
    """The explain job's status once it ended (or the last one seen after ``seconds``)."""
    import asyncio
    import time

    deadline = time.monotonic() + seconds
    while True:
        response = await jp_fetch("repro-jupyter", "explain-status", method="POST", body=json.dumps(body))
        if json.loads(response.body).get("state") not in ("queued", "running") or time.monotonic() > deadline:
            return response
        await asyncio.sleep(1.0)
