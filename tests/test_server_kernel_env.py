"""``POST kernel-env``: a Lab replay's kernel restarts with a fixed PYTHONHASHSEED (issue 15 §1).

Real Jupyter Server, real kernels: the route is called, the kernel is restarted through the
REST API as JupyterLab does, and the new kernel process reports what it got.
"""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

PROBE = (
    "import os; print(repr((os.environ.get('PYTHONHASHSEED'), os.environ.get('CUBLAS_WORKSPACE_CONFIG'))))"
)


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    # The server's own environment is what kernels inherit: start from one that fixes nothing.
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)


async def _json(jp_fetch, *parts, body=None, method="POST"):
    response = await jp_fetch(*parts, method=method, body=json.dumps(body) if body is not None else None)
    return json.loads(response.body) if response.body else None


async def _probe(serverapp, kernel_id):
    """What the kernel process sees, via a client of its own."""
    client = serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        out = []

        def hook(msg):
            if msg["header"]["msg_type"] == "stream":
                out.append(msg["content"]["text"])

        reply = await client.execute_interactive(PROBE, output_hook=hook, timeout=60)
        assert reply["content"]["status"] == "ok"
        return "".join(out).strip()
    finally:
        client.stop_channels()


async def _session_kernel(jp_fetch):
    """A kernel started the way JupyterLab starts one: through a session (explicit launch env)."""
    body = {"path": "nb.ipynb", "type": "notebook", "name": "nb.ipynb", "kernel": {"name": "python3"}}
    session = await _json(jp_fetch, "api", "sessions", body=body)
    return session["kernel"]["id"]


async def _set_env(jp_fetch, kernel_id, deterministic=False):
    body = {"kernel_id": kernel_id, "deterministic": deterministic}
    return await _json(jp_fetch, "repro-jupyter", "kernel-env", body=body)


async def _restart(jp_fetch, kernel_id):
    await _json(jp_fetch, "api", "kernels", kernel_id, "restart", body={})


async def test_replay_restart_gets_a_fixed_hash_seed(jp_fetch, jp_serverapp):
    """Every kernel this server starts has the headless runs' hash seed from its first start
    (server/kernel_start.py: before, a Lab kernel drew a random one and its records differed from
    a headless run's of the same cell); a replay's restart keeps it."""
    kernel_id = await _session_kernel(jp_fetch)
    assert await _probe(jp_serverapp, kernel_id) == "('0', None)"
    data = await _json(
        jp_fetch, "repro-jupyter", "kernel-env", body={"kernel_id": kernel_id, "deterministic": False}
    )
    assert data == {"kernel_id": kernel_id, "env": {"PYTHONHASHSEED": "0"}}
    assert await _probe(jp_serverapp, kernel_id) == "('0', None)"
    await _restart(jp_fetch, kernel_id)
    assert await _probe(jp_serverapp, kernel_id) == "('0', None)"


async def test_deterministic_mode_sets_cublas_before_the_start(jp_fetch, jp_serverapp):
    kernel_id = await _session_kernel(jp_fetch)
    data = await _set_env(jp_fetch, kernel_id, deterministic=True)
    assert data["env"] == {"PYTHONHASHSEED": "0", "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    await _restart(jp_fetch, kernel_id)
    assert await _probe(jp_serverapp, kernel_id) == "('0', ':4096:8')"


async def test_a_hash_seed_the_user_exported_is_kept(jp_fetch, jp_serverapp, monkeypatch):
    monkeypatch.setenv("PYTHONHASHSEED", "7")
    kernel_id = await _session_kernel(jp_fetch)
    data = await _json(
        jp_fetch, "repro-jupyter", "kernel-env", body={"kernel_id": kernel_id, "deterministic": False}
    )
    assert data["env"] == {"PYTHONHASHSEED": "7"}
    await _restart(jp_fetch, kernel_id)
    assert await _probe(jp_serverapp, kernel_id) == "('7', None)"


async def test_a_kernel_started_without_a_launch_environment(jp_fetch, jp_serverapp):
    kernel = await _json(jp_fetch, "api", "kernels", body={"name": "python3"})
    await _json(
        jp_fetch, "repro-jupyter", "kernel-env", body={"kernel_id": kernel["id"], "deterministic": False}
    )
    await _restart(jp_fetch, kernel["id"])
    assert await _probe(jp_serverapp, kernel["id"]) == "('0', None)"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kernel_id": "no-such-kernel", "deterministic": False}, 404),
        ({"deterministic": False}, 400),
        ({"kernel_id": "x", "deterministic": "yes"}, 400),
    ],
)
async def test_refusals_are_one_line(jp_fetch, body, code):
    with pytest.raises(HTTPClientError) as info:
        await _json(jp_fetch, "repro-jupyter", "kernel-env", body=body)
    assert info.value.code == code
