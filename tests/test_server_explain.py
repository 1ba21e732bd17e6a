"""The Lab's "Find the cause" through a real Jupyter Server: ``POST explain`` starts a background
job (its own process), ``explain-status`` is polled until the cause is proven, ``explain-cancel``
ends it; one job per notebook; every refusal is one line.

The hermetic case of test_explain.py: tinypkg 1.0 prints 0.5, 2.0 prints 0.25; the notebook is
recorded with 1.0, the "user" kernel then has 2.0, and the wheelhouse comes from the notebook's
``pyproject.toml`` (``explain-find-links``), as a Lab user would set it.
"""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
from tornado.httpclient import HTTPClientError

from repro_jupyter import schema

from .test_explain import FILLERS, World, notebook, record

pytest.importorskip("uv")


async def _post(jp_fetch, route, body):
    response = await jp_fetch("repro-jupyter", route, method="POST", body=json.dumps(body))
    return json.loads(response.body)


async def _refused(jp_fetch, route, body) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as info:
        await _post(jp_fetch, route, body)
    message = json.loads(info.value.response.body)["message"]
    assert "\n" not in message, message
    return info.value.code, message


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("server-explain")
    with pytest.MonkeyPatch.context() as mp:
        made = World(root)
        mp.setenv("JUPYTER_PATH", made.jupyter_path)
        mp.setenv("XDG_CACHE_HOME", str(root / "cache"))
        yield made


@pytest.fixture
def drifted(world, jp_root_dir):
    """work/nb.ipynb recorded with tinypkg 1.0, the kernel's environment now at 2.0, and the
    wheelhouse named in work/pyproject.toml."""
    world.install("1.0", ["tinypkg", *FILLERS])
    path = notebook(jp_root_dir / "work", ["import tinypkg", "print(tinypkg.VALUE)"])
    record(path)
    world.install("2.0", ["tinypkg"])
    shutil.copytree(world.wheels, path.parent / "wheels")
    (path.parent / "pyproject.toml").write_text('[tool.repro-jupyter]\nexplain-find-links = "wheels"\n')
    return path


async def _poll(jp_fetch, job: str, limit_s: float = 600) -> tuple[dict, list[str]]:
    seen: list[str] = []
    for _ in range(int(limit_s / 0.5)):
        status = await _post(jp_fetch, "explain-status", {"job": job})
        if status["state"] != "running":
            return status, seen
        if status["progress"] and status["progress"]["text"] not in seen:
            seen.append(status["progress"]["text"])
        await asyncio.sleep(0.5)
    raise AssertionError(f"explain job still running after {limit_s}s: {seen}")


async def test_find_the_cause_polls_to_proven(jp_fetch, drifted):
    before = drifted.read_bytes()
    started = await _post(jp_fetch, "explain", {"path": "work/nb.ipynb", "max_trials": 5})
    assert started["started"] is True and started["state"] == "running" and started["path"] == "work/nb.ipynb"
    again = await _post(jp_fetch, "explain", {"path": "work/nb.ipynb"})  # one job per notebook
    assert again["job"] == started["job"] and again["started"] is False

    status, seen = await _poll(jp_fetch, started["job"])
    assert status["state"] == "done", status.get("error")
    report = status["report"]
    schema.validate("explainReport", report)
    assert report["status"] == "proven" and report["notebook"] == "work/nb.ipynb"
    assert report["cause"]["put_back"] == [{"name": "tinypkg", "recorded": "1.0", "now": "2.0"}]
    assert report["conclusion"].startswith("proven cause: tinypkg 2.0 (recorded 1.0)")
    assert [t["result"] for t in report["trials"]] == ["drift", "drift", "reproduced"]
    # progress while it ran: numbered trials against the bound (verify + control + --max-trials)
    assert any(text.startswith("trial 1 of ≤7: verify") for text in seen), seen
    assert sorted(t["kind"] for t in status["trials"]) == ["packages", "same_seed_again", "verify"]
    assert status["progress"] is None and status["error"] is None
    # the latest job of a notebook is found by its path (a drift view rendered again)
    by_path = await _post(jp_fetch, "explain-status", {"path": "work/nb.ipynb"})
    assert by_path["job"] == started["job"] and by_path["state"] == "done"
    assert drifted.read_bytes() == before  # explain never writes the notebook


async def test_cancel_ends_the_job_and_its_process(jp_fetch, jp_serverapp, drifted):
    started = await _post(jp_fetch, "explain", {"path": "work/nb.ipynb"})
    jobs = jp_serverapp.web_app.settings["repro_jupyter_explain_jobs"]
    process = jobs.get(started["job"]).process
    cancelled = await _post(jp_fetch, "explain-cancel", {"job": started["job"]})
    assert cancelled["state"] == "cancelled" and cancelled["report"] is None
    assert process.returncode is not None  # the worker is gone, not left running
    fresh = await _post(jp_fetch, "explain", {"path": "work/nb.ipynb"})
    assert fresh["started"] is True and fresh["job"] != started["job"]
    await _post(jp_fetch, "explain-cancel", {"job": fresh["job"]})


async def test_refusals_are_one_line(jp_fetch, jp_root_dir, world, monkeypatch):
    plain = notebook(jp_root_dir / "plain", ["print(1)"])
    code, message = await _refused(jp_fetch, "explain", {"path": "plain/nb.ipynb"})
    assert code == 400 and "never recorded" in message
    code, message = await _refused(jp_fetch, "explain", {"path": "../x.ipynb"})
    assert code == 403
    code, message = await _refused(jp_fetch, "explain", {"path": "missing.ipynb"})
    assert code == 400 and "no such notebook" in message
    code, message = await _refused(jp_fetch, "explain-status", {"job": "nope"})
    assert code == 404 and "no explain job" in message
    none = await _post(jp_fetch, "explain-status", {"path": "plain/nb.ipynb"})
    assert none == {"job": None, "state": "none"}

    world.install("1.0", ["tinypkg"])
    record(plain)
    for body, expected in (
        ({"max_trials": 0}, "max_trials must be an integer from 1 to 64"),
        ({"find_links": ["/etc"]}, "must be a URL or a folder relative to the server root"),
        ({"find_links": "nowhere"}, "find_links: nowhere is not a folder"),
        ({"index_url": "ftp://x"}, "index_url must be an http(s) or file URL"),
    ):
        code, message = await _refused(jp_fetch, "explain", {"path": "plain/nb.ipynb", **body})
        assert code == 400 and expected in message, message
    (plain.parent / "pyproject.toml").write_text('[tool.repro-jupyter]\nexplain-find-links = ["nowhere"]\n')
    code, message = await _refused(jp_fetch, "explain", {"path": "plain/nb.ipynb"})
    assert code == 400 and "pyproject.toml [tool.repro-jupyter]: explain-find-links: nowhere" in message
    (plain.parent / "pyproject.toml").write_text("[tool.repro-jupyter]\nexplain-index-url = 3\n")
    code, message = await _refused(jp_fetch, "explain", {"path": "plain/nb.ipynb"})
    assert code == 400 and "explain-index-url must be an http(s) or file URL" in message

    monkeypatch.setattr("repro_jupyter.explain.trialenv.find_uv", lambda: None)
    code, message = await _refused(jp_fetch, "explain", {"path": "plain/nb.ipynb"})
    assert code == 503 and "uv is not installed" in message


async def test_a_failed_job_is_one_line(jp_fetch, jp_root_dir, world):
    """A job that cannot run (the index is unreachable, a fresh trial cache) ends ``failed`` with
    explain's one line, never a traceback."""
    world.install("1.0", ["tinypkg"])
    path = notebook(jp_root_dir / "offline", ["import tinypkg", "print(tinypkg.VALUE)"])
    record(path)
    world.install("2.0", ["tinypkg"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(jp_root_dir / "fresh-cache"))
        started = await _post(
            jp_fetch, "explain", {"path": "offline/nb.ipynb", "index_url": "http://127.0.0.1:9/simple"}
        )
    status, _ = await _poll(jp_fetch, started["job"])
    assert status["state"] == "failed" and "unreachable" in status["error"], status
    assert "\n" not in status["error"] and status["report"] is None
