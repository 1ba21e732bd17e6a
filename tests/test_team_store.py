"""A team store on S3 (a real moto server on loopback): the remote tier, two writers at once, a reader
with an empty cache on "another machine", no credentials anywhere, and where the location comes from."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.errors import ObjectCorrupt, ObjectMissing, StoreError
from repro_jupyter.store import open_store
from repro_jupyter.store.location import S3_TIMEOUTS, cache_root, redact_url, resolve_location

from .conftest import make_notebook

BUCKET = "team-store"
KEY_ID = "AKIDTEAMSTORETEST01"
SECRET = "Sup3rSecretValue-never-recorded-9f2c"  # must appear nowhere in what is stored
URL_SECRET = "AnotherSecretInTheUrl-7d1e"  # writer A gives its credentials in the URL itself


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on loopback with one bucket; yields the environment a client needs."""
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        try:
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            yield env
        finally:
            server.stop()


@pytest.fixture
def team(s3, tmp_path, monkeypatch):
    """A fresh prefix in the bucket, configured through the environment, with an empty cache."""
    url = f"s3://{BUCKET}/{tmp_path.name}"
    monkeypatch.setenv("REPRO_JUPYTER_STORE", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return url


def _remote_bytes(prefix: str) -> dict[str, bytes]:
    import boto3

    client = boto3.client("s3")
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            out[item["Key"]] = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
    return out


# --- (1) the remote tier -------------------------------------------------------------------


def test_objects_round_trip_through_the_remote_and_are_never_overwritten(team, tmp_path, monkeypatch):
    writer = open_store(tmp_path / "nb")
    assert writer.url == team and writer.root == cache_root(team)
    digest, _ = writer.objects.put_json({"hello": "team"})
    writer.catalog.add_environment(digest)  # a catalog change refers to it: push uploads both
    report = writer.push()
    assert (report.objects, report.entries, report.ops) == (1, 1, 1)
    prefix = tmp_path.name
    hexpart = digest.split(":")[1]
    key = f"{prefix}/objects/{hexpart[:2]}/{hexpart[2:]}"
    assert _remote_bytes(prefix)[key] == b'{"hello":"team"}'
    writer.close()

    # another machine: empty cache, fetched from the remote, verified, then cached
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-b"))
    reader = open_store(tmp_path / "elsewhere", create=False)
    assert not reader.objects.local.has(digest)
    assert reader.objects.has(digest)
    assert reader.objects.get_json(digest) == {"hello": "team"}
    assert reader.objects.local.has(digest)
    assert [e["digest"] for e in reader.catalog._conn.execute("SELECT digest FROM environments")] == [digest]

    # never overwrite: a (tampered) object already under that name stays as it is ...
    import boto3

    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b'{"hello":"tampered"}')
    again = open_store(tmp_path / "nb")
    again.objects.put_json({"hello": "team"})
    again.catalog.add_environment(digest)
    assert again.push().objects == 0
    assert _remote_bytes(prefix)[key] == b'{"hello":"tampered"}'
    again.close()
    # ... and a reader with an empty cache refuses it: corruption is detected, never used
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-c"))
    fresh = open_store(tmp_path / "elsewhere", create=False)
    with pytest.raises(ObjectCorrupt, match=f"on {team} is corrupt"):
        fresh.objects.get_json(digest)
    assert not fresh.objects.local.has(digest)  # nothing half-trusted left in the cache
    with pytest.raises(ObjectMissing, match=f"missing from {team}"):
        fresh.objects.get_bytes("sha256:" + "0" * 64)
    reader.close()
    fresh.close()


def test_unreachable_remote_keeps_everything_locally_until_sync(team, tmp_path, monkeypatch):
    from repro_jupyter.store.writer import BackgroundWriter

    dead = {  # nothing listens there; one quick attempt (options also give a fresh fsspec instance)
        "endpoint_url": f"http://127.0.0.1:{_free_port()}",
        "retries": 1,
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
    }
    monkeypatch.setenv("REPRO_JUPYTER_STORE_OPTIONS", json.dumps(dead))
    store = open_store(tmp_path / "nb")
    writer = BackgroundWriter(store)
    writer.submit(lambda st: st.catalog.add_environment(st.objects.put_json({"x": 1})[0]))
    errors = writer.close()
    assert len(errors) == 1 and "\n" not in errors[0] and "jupyter repro sync" in errors[0], errors
    assert team in errors[0]
    monkeypatch.delenv("REPRO_JUPYTER_STORE_OPTIONS")  # back online: the outbox is sent
    from repro_jupyter.cli import main

    assert main(["sync", str(tmp_path / "nb")]) == 0
    assert any("/catalog/" in k for k in _remote_bytes(tmp_path.name))


def test_offline_reader_says_it_uses_its_cache_in_one_line(team, tmp_path, monkeypatch, capsys):
    from repro_jupyter.cli import main
    from repro_jupyter.store import _LAST_PULL

    nb = make_notebook(tmp_path / "nb" / "a.ipynb", ["x = 2 + 2\nprint(x)"])
    assert main(["run", str(nb), "-q"]) == 0
    dead = {
        "endpoint_url": f"http://127.0.0.1:{_free_port()}",
        "config_kwargs": {"retries": {"max_attempts": 1}},
    }
    monkeypatch.setenv("REPRO_JUPYTER_STORE_OPTIONS", json.dumps(dead))
    _LAST_PULL.clear()
    capsys.readouterr()
    assert main(["show", str(nb)]) == 0  # the cache holds what this machine recorded
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("jupyter repro show: warning: "), warnings
    assert "using the local cache" in warnings[0]


def test_s3_url_without_s3fs_names_the_extra(tmp_path, monkeypatch):
    pytest.importorskip("fsspec")
    registry = sys.modules["fsspec.registry"]  # (fsspec.registry is also a mapping attribute)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setitem(sys.modules, "s3fs", None)  # as if the extra were not installed
    monkeypatch.delitem(registry._registry, "s3", raising=False)
    with pytest.raises(StoreError, match=r"pip install 'repro-jupyter\[s3\]'") as info:
        open_store(tmp_path, url="s3://bucket/prefix")
    assert "\n" not in str(info.value)


# --- (2)-(4) two writers at once, a reader elsewhere, no secrets ----------------------------

WRITER_CELLS = [
    "import random",
    "draws = [random.random() for _ in range(3)]\nprint(draws)",
    "more = random.sample(range(100), 5)\nprint(more)",
    "total = sum(draws) + sum(more)\nround(total, 9)",
]


def _run(notebook: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "repro_jupyter.cli", "run", str(notebook), "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_writers_at_once_then_a_reader_with_an_empty_cache_verifies_both(s3, tmp_path):
    prefix = tmp_path.name
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REPRO_JUPYTER_", "XDG_CACHE"))}
    base["REPRO_JUPYTER_SIGNING_KEY"] = str(tmp_path / "signing-key")
    machines = {}
    notebooks = {}
    for name, url in (
        ("a", f"s3://{KEY_ID}:{URL_SECRET}@{BUCKET}/{prefix}"),  # credentials in the URL: split off
        ("b", f"s3://{BUCKET}/{prefix}"),
    ):
        folder = tmp_path / f"machine-{name}"
        notebooks[name] = make_notebook(folder / f"analysis_{name}.ipynb", WRITER_CELLS)
        machines[name] = {**base, "REPRO_JUPYTER_STORE": url, "XDG_CACHE_HOME": str(folder / "cache")}
    started = time.time()
    procs = {name: _run(notebooks[name], machines[name]) for name in machines}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"writer {name}: {err[-2000:]}"
    print(f"two concurrent writers: {time.time() - started:.1f}s")

    # each writer recorded every code cell, and its store metadata names the URL without credentials
    records = {}
    for name, path in notebooks.items():
        nb = nbformat.read(path, 4)
        assert nb.metadata[METADATA_KEY]["store"] == f"s3://{BUCKET}/{prefix}"
        records[name] = [c.metadata[METADATA_KEY]["record"] for c in nb.cells if c.cell_type == "code"]
        assert len(records[name]) == len(WRITER_CELLS)

    # (3) a third machine: its own empty cache, only the notebooks and the URL
    reader_dir = tmp_path / "machine-c"
    reader_env = {**base, "REPRO_JUPYTER_STORE": f"s3://{BUCKET}/{prefix}"}
    reader_env["XDG_CACHE_HOME"] = str(reader_dir / "cache")
    reader_cache = (
        reader_dir / "cache" / "repro-jupyter" / "remote" / cache_root(f"s3://{BUCKET}/{prefix}").name
    )

    def reader(*args):  # the third machine's own `jupyter repro` process
        command = [sys.executable, "-m", "repro_jupyter.cli", *map(str, args)]
        return subprocess.run(command, env=reader_env, capture_output=True, text=True, timeout=240)

    for name, path in notebooks.items():
        copy = reader_dir / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        result = reader("verify", copy)
        assert result.returncode == 0, f"verify {name}: {result.stdout[-1500:]} {result.stderr[-1500:]}"
        assert "reproduced" in result.stdout.lower()
        show = reader("show", copy, "--json")
        assert show.returncode == 0 and json.loads(show.stdout)["store"].startswith(f"s3://{BUCKET}/{prefix}")
    assert (reader_cache / "objects").is_dir()
    fsck = reader("fsck", reader_dir)
    assert fsck.returncode == 0 and " 0 missing" in fsck.stdout, fsck.stdout + fsck.stderr

    # the reader's catalog merged the runs of both writers (and the cells of each)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("REPRO_JUPYTER_STORE", "XDG_CACHE_HOME"):
            mp.setenv(name, reader_env[name])
        store = open_store(reader_dir, create=False)
        runs = store.catalog.runs()
        by_notebook = {r["notebook"]: r for r in runs if r["kind"] == "headless"}
        executions = [dict(r) for r in store.catalog._conn.execute("SELECT * FROM cell_executions")]
        for name in notebooks:
            assert f"analysis_{name}.ipynb" in by_notebook, runs
            assert by_notebook[f"analysis_{name}.ipynb"]["status"] == "finished"
            for digest in records[name]:
                assert any(e["record"] == digest for e in executions)
                store.objects.get_json(digest)  # fetched or cached, and hash-verified
        print(
            f"runs merged by the reader: {len(runs)} ({len(by_notebook)} notebooks), "
            f"cell executions: {len(executions)}, records verified: {sum(map(len, records.values()))}"
        )
        store.close()

    # (4) no credential anywhere: remote objects and journal, caches (SQLite included), notebooks
    remote = _remote_bytes(prefix)
    journal = [k for k in remote if "/catalog/" in k]
    assert journal and all(json.loads(remote[k])["ops"] for k in journal)
    everything = [*remote.values()]
    for folder in (tmp_path / "machine-a", tmp_path / "machine-b", reader_dir):
        everything += [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    for secret in (SECRET, URL_SECRET):
        leaks = [i for i, blob in enumerate(everything) if secret.encode() in blob]
        assert not leaks, f"{secret!r} leaked into {len(leaks)} stored file(s)"
    print(f"remote: {len(remote) - len(journal)} objects, {len(journal)} journal entries; no secret found")


# --- where the store is ---------------------------------------------------------------------


def test_location_precedence_traitlet_env_pyproject_default(tmp_path, monkeypatch):
    monkeypatch.delenv("REPRO_JUPYTER_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = tmp_path / "project"
    notebooks = project / "notebooks" / "deep"
    notebooks.mkdir(parents=True)
    assert resolve_location(notebooks).path == notebooks / ".repro"
    assert resolve_location(notebooks).source == "default"

    (project / "pyproject.toml").write_text('[tool.repro-jupyter]\nstore = "shared/.repro"\nrtol = 1e-6\n')
    loc = resolve_location(notebooks)
    assert (loc.source, loc.path, loc.url) == ("pyproject", project / "shared" / ".repro", None)
    (project / "pyproject.toml").write_text('[tool.repro-jupyter]\nstore = "s3://team/proj/"\n')
    loc = resolve_location(notebooks)
    assert (loc.source, loc.url, loc.path) == ("pyproject", "s3://team/proj", cache_root("s3://team/proj"))

    monkeypatch.setenv("REPRO_JUPYTER_STORE", "file:///mnt/team/store")
    assert (resolve_location(notebooks).source, resolve_location(notebooks).url) == (
        "env",
        "file:///mnt/team/store",
    )
    monkeypatch.setenv("REPRO_JUPYTER_STORE", str(tmp_path / "plain"))
    assert resolve_location(notebooks).path == tmp_path / "plain"

    loc = resolve_location(notebooks, explicit="s3://KEYID:s3cr3t@other/prefix?token=abc")
    assert loc.source == "traitlet" and loc.url.startswith("s3://other/prefix?") and "abc" not in loc.url
    assert loc.options == {"key": "KEYID", "secret": "s3cr3t", "config_kwargs": S3_TIMEOUTS}
    assert "s3cr3t" not in repr(loc)
    assert redact_url("gs://user:pw@bucket/x/") == "gs://bucket/x"


def test_store_url_traitlet_reaches_the_recorder(ip, tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_JUPYTER_STORE", str(tmp_path / "from-env"))
    ip.run_line_magic("config", f"ReproMagics.store_url = {str(tmp_path / 'from-traitlet')!r}")
    ip.run_cell("%%repro\nx = 1", store_history=True).raise_error()
    from repro_jupyter.magics import _LOADED

    session = _LOADED[id(ip)].session
    session.flush()
    assert session.store_url == str(tmp_path / "from-traitlet")
    assert (tmp_path / "from-traitlet" / "catalog.sqlite").is_file()
    assert not (tmp_path / "from-env").exists()


def test_file_url_is_a_team_store_too(tmp_path, monkeypatch):
    """``file://`` (an NFS/SMB share): the same remote tier, with writes renamed into place."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shared = tmp_path / "share"
    url = shared.as_uri()
    store = open_store(tmp_path / "nb", url=url)
    digest, _ = store.objects.put_bytes(b"payload")
    store.catalog.add_environment(digest)
    assert store.push().objects == 1
    hexpart = digest.split(":")[1]
    assert (shared / "objects" / hexpart[:2] / hexpart[2:]).read_bytes() == b"payload"
    assert len(list((shared / "catalog").glob("*.json"))) == 1
    assert not list(shared.rglob(".tmp-*"))
    store.close()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-2"))
    reader = open_store(tmp_path / "other", create=False, url=url)
    assert reader.objects.get_bytes(digest) == b"payload"
    reader.close()


def test_milestones_reach_other_machines_once(tmp_path, monkeypatch):
    """A training milestone written on one machine is listed on another after a pull, with its
    manifest object; pulling the same journal again adds no second row (before: the op was unknown
    to readers and skipped, so `jupyter repro checkpoints` elsewhere listed nothing)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    url = (tmp_path / "share").as_uri()
    writer = open_store(tmp_path / "nb", url=url)
    manifest, _ = writer.objects.put_json({"kind": "milestone", "name": "epoch-1"})
    writer.catalog.start_run("train.ipynb", "interactive", 3, "run-1")
    writer.catalog.add_milestone("train.ipynb", "epoch-1", manifest, "run-1", "cell-3")
    assert writer.push().objects == 1  # the manifest goes with the row
    writer.close()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-2"))
    reader = open_store(tmp_path / "other", create=False, url=url)
    rows = reader.catalog.milestones("train.ipynb")
    assert [(r["name"], r["manifest"], r["cell_key"]) for r in rows] == [("epoch-1", manifest, "cell-3")]
    assert reader.objects.get_json(manifest)["name"] == "epoch-1"
    from repro_jupyter.store.journal import IMPORT_SQL

    op = {k: rows[0][k] for k in ("notebook", "name", "manifest", "run_id", "cell_key", "created_at")}
    reader.catalog._conn.execute(IMPORT_SQL["add_milestone"], op)  # the same entry seen again
    assert len(reader.catalog.milestones("train.ipynb")) == 1
    reader.close()


def test_scratch_runs_never_write_into_a_configured_store(tmp_path, monkeypatch):
    """``sensitivity`` (and ``check``) record into a throw-away store, even when the user's IPython
    config sets ``ReproMagics.store_url`` (which otherwise wins over everything)."""
    from repro_jupyter.cli import main
    from repro_jupyter.store import _LAST_PULL

    team = tmp_path / "team-store"
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    config = f"c.ReproMagics.store_url = {str(team)!r}\n"
    (profile / "ipython_kernel_config.py").write_text(config)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.delenv("REPRO_JUPYTER_STORE", raising=False)
    _LAST_PULL.clear()
    nb = make_notebook(tmp_path / "nb" / "s.ipynb", ["import random\nprint(round(random.random(), 3))"])
    assert main(["run", str(nb), "-q"]) == 0
    runs_before = open_store(nb.parent, url=str(team), create=False).catalog.runs()
    assert len(runs_before) == 1  # the traitlet took the recording to the configured store
    assert not (nb.parent / ".repro").exists()
    assert main(["sensitivity", str(nb), "--seeds", "2"]) == 0
    assert open_store(nb.parent, url=str(team), create=False).catalog.runs() == runs_before


@pytest.mark.parametrize(
    ("url", "clean", "secret"),
    [
        (
            "s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@team/p",
            "s3://team/p",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("s3://me:pa#ss?w/rd@team/p", "s3://team/p", "pa#ss?w/rd"),
        ("s3://me:p%40ss%2F1@team/p", "s3://team/p", "p@ss/1"),
    ],
)
def test_passwords_with_url_delimiters_never_reach_the_stored_url(tmp_path, url, clean, secret):
    """AWS secret keys often contain "/": a URL parser would end the host there and keep the secret."""
    from repro_jupyter.redact import redact_text

    loc = resolve_location(tmp_path, url)
    assert loc.url == clean and loc.options["secret"] == secret
    assert secret not in repr(loc) and secret.split("/")[0] not in (loc.url or "")
    assert secret not in redact_text(f"remote: {url} (failed)")
    assert resolve_location(tmp_path, "s3://bucket/data@v2").url == "s3://bucket/data@v2"  # not a user


def test_bad_journal_entries_are_refused_one_by_one_and_never_block_the_rest(tmp_path, monkeypatch, capsys):
    """A planted, corrupt or newer-than-us entry on a shared store: one warning each, once; the
    honest writers' entries are still imported and every reader still opens the store."""
    import hashlib

    from repro_jupyter.canonical import canonical_bytes
    from repro_jupyter.cli import main
    from repro_jupyter.store import _LAST_PULL
    from repro_jupyter.store.journal import JOURNAL_FORMAT

    remote = tmp_path / "share"
    url = f"file://{remote}"
    monkeypatch.setenv("REPRO_JUPYTER_STORE", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "writer-cache"))
    nb = make_notebook(tmp_path / "nb" / "a.ipynb", ["print(1 + 1)"])
    assert main(["run", str(nb), "-q"]) == 0
    journal = remote / "catalog"

    def plant(entry, *, name=None):
        data = entry if isinstance(entry, bytes) else canonical_bytes(entry)
        (journal / (name or hashlib.sha256(data).hexdigest() + ".json")).write_bytes(data)

    plant({"format": JOURNAL_FORMAT, "ops": [{"op": "finish_run", "args": {"run_id": "r"}}]})  # missing args
    plant(
        {
            "format": JOURNAL_FORMAT,
            "ops": [{"op": "add_environment", "args": {"digest": "../../x", "first_seen": 1.0}}],
        }
    )
    plant(b"not json at all")
    plant(b"{}", name="0" * 64 + ".json")  # content does not match the name
    plant({"format": JOURNAL_FORMAT, "ops": [{"op": "some_future_op", "args": {}}]})  # skipped, not refused

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "reader-cache"))  # another machine
    _LAST_PULL.clear()
    capsys.readouterr()
    assert main(["show", str(nb)]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "refused" in line]
    assert len(warned) == 4 and all(line.startswith("jupyter repro show: warning: ") for line in warned)
    store = open_store(nb.parent, create=False)
    assert [r["notebook"] for r in store.catalog.runs()] == ["a.ipynb"]  # the honest run is there
    store.close()
    _LAST_PULL.clear()
    assert main(["show", str(nb)]) == 0
    assert "refused" not in capsys.readouterr().err  # warned once, not on every open


def test_what_a_kernel_could_not_send_goes_with_the_next_kernels_flush(team, tmp_path, monkeypatch):
    """The remote was down when kernel 1 exited; kernel 2 (same cache, remote back) sends both."""
    from repro_jupyter.store.writer import BackgroundWriter

    dead = {
        "endpoint_url": f"http://127.0.0.1:{_free_port()}",
        "config_kwargs": {"retries": {"max_attempts": 1}},
    }
    monkeypatch.setenv("REPRO_JUPYTER_STORE_OPTIONS", json.dumps(dead))
    first = BackgroundWriter(open_store(tmp_path / "nb"))
    first.submit(lambda st: st.catalog.add_environment(st.objects.put_json({"kernel": 1})[0]))
    assert len(first.close()) == 1  # reported, kept locally
    monkeypatch.delenv("REPRO_JUPYTER_STORE_OPTIONS")
    second = BackgroundWriter(open_store(tmp_path / "nb"))
    second.submit(lambda st: st.catalog.add_environment(st.objects.put_json({"kernel": 2})[0]))
    assert second.close() == []
    remote = _remote_bytes(tmp_path.name)
    ops = [op for k, v in remote.items() if "/catalog/" in k for op in json.loads(v)["ops"]]
    assert len([op for op in ops if op["op"] == "add_environment"]) == 2
