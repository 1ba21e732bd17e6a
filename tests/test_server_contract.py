"""The REST replies are the contract: what every route of ``/repro-jupyter/`` really answers (a real
Jupyter Server) validates against ``messages.v1.json``, the file the frontend's types are generated
from.  Each check can fail: after the real reply passes, the same reply without a required field (or
with a wrong value) must be rejected, so a schema that accepts anything would fail here too.
"""

from __future__ import annotations

import copy
import json
import time

import jsonschema
import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from repro_jupyter import schema
from repro_jupyter.server import explain_jobs
from repro_jupyter.server.handlers import ROUTES
from repro_jupyter.store import open_store

from .conftest import cli, make_notebook

SOURCES = ["import random\nlr = 0.5", "x = random.random() * lr\nprint(round(x, 6))", "y = x * 2"]
# Which definition answers each route (every route of the table, errors aside).
REPLIES = {
    "info": "infoReply",
    "provenance": "provenanceReply",
    "lineage": "lineageReply",
    "envdiff": "envDiffReply",
    "panel": "panelReply",
    "compare": "compareReply",
    "kernel-env": "kernelEnvReply",
    "explain": "explainJobReply",
    "explain-status": "explainJobReply",
    "explain-cancel": "explainJobReply",
    "milestones": "milestonesReply",
}


def holds(definition: str, body: object, *, broken: dict | None = None, drop: str | None = None) -> None:
    """``body`` keeps the contract, and a copy with ``drop`` removed (or ``broken`` merged) breaks it."""
    schema.validate_message(definition, body)
    assert isinstance(body, dict)
    if drop is not None:
        assert drop in body, f"{drop} not in the reply: the negative check would prove nothing"
        bad = {k: v for k, v in body.items() if k != drop}
        with pytest.raises(jsonschema.ValidationError):
            schema.validate_message(definition, bad)
    if broken is not None:
        with pytest.raises(jsonschema.ValidationError):
            schema.validate_message(definition, {**body, **broken})


async def _post(jp_fetch, route, body):
    response = await jp_fetch("repro-jupyter", route, method="POST", body=json.dumps(body))
    return json.loads(response.body)


async def _error(jp_fetch, route, body) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        await _post(jp_fetch, route, body)
    return info.value.code, json.loads(info.value.response.body)


@pytest.fixture
def recorded(jp_root_dir):
    path = make_notebook(jp_root_dir / "work" / "nb.ipynb", SOURCES)
    assert cli("run", path, "-q", "--seed", "5") == 0
    return path


def test_every_route_has_a_reply_definition():
    assert set(REPLIES) == {route for route, _ in ROUTES}
    assert set(REPLIES.values()) <= set(schema.load_messages_schema()["$defs"])


async def test_info(jp_fetch):
    body = json.loads((await jp_fetch("repro-jupyter", "info")).body)
    holds("infoReply", body, drop="schema_version", broken={"name": "other"})


async def test_provenance_lineage_compare(jp_fetch, recorded):
    nb = nbformat.read(recorded, 4)
    nb.cells[2].source = "y = x * 3"  # a stale cell
    nb.cells.append(nbformat.v4.new_code_cell("z = 1"))  # and one never recorded
    body = await _post(jp_fetch, "provenance", {"path": "work/nb.ipynb", "notebook": nb})
    holds("provenanceReply", body, drop="store", broken={"environment": {"digest": "sha256:x"}})
    record = body["cells"][1]["record"]
    # optional in the TypeScript type (the panel reads absence as none), always sent by this server
    assert {"error", "auto_seeded", "nondeterminism_warnings"} <= set(record)
    assert body["cells"][3]["record"] is None and body["cells"][2]["stale"] is True
    cell = body["cells"][1]
    holds("cellProvenance", cell, drop="stale", broken={"status": "weird"})

    graph = await _post(jp_fetch, "lineage", {"path": "work/nb.ipynb", "notebook": nb})
    assert {n["kind"] for n in graph["nodes"]} == {"cell", "variable"}
    holds("lineageReply", graph, drop="edges")
    holds("lineageNode", graph["nodes"][-1], broken={"kind": "module"})

    saved = nbformat.read(recorded, 4)
    current = copy.deepcopy(saved)
    current.cells[1].outputs[0]["text"] = "0.123\n"
    report = await _post(
        jp_fetch, "compare", {"path": "work/nb.ipynb", "recorded": saved, "current": current}
    )
    assert report["status"] == "drift"
    holds("compareReply", report, drop="cells", broken={"status": "fine"})


@pytest.fixture
def other_environment(recorded) -> str:
    """The digest of the recorded environment with another Python version, in the same store."""
    nb = nbformat.read(recorded, 4)
    store = open_store(recorded.parent, create=False)
    env = store.objects.get_environment(nb.metadata["repro_jupyter"]["environment"])
    env["python"]["version"] = "3.0.1"
    other, _ = store.objects.put_json(env)
    store.close()
    return other


async def test_envdiff(jp_fetch, recorded, other_environment):
    nb = nbformat.read(recorded, 4)
    other = other_environment
    body = await _post(jp_fetch, "envdiff", {"path": "work/nb.ipynb", "notebook": nb, "current": other})
    assert body["diff"]["python"], body
    holds("envDiffReply", body, drop="current", broken={"diff": {"python": [{"key": "version"}]}})


async def test_panel_is_one_refresh_with_every_section(jp_fetch, recorded, other_environment):
    """One request per refresh: provenance, lineage and the environment diff, the same sections the three
    routes give; a section that cannot be made says why and the others still come."""
    nb = nbformat.read(recorded, 4)
    path = {"path": "work/nb.ipynb", "notebook": nb}
    other = other_environment
    body = await _post(jp_fetch, "panel", {**path, "current": other})
    holds("panelReply", body, drop="problems", broken={"envdiff": {"diff": {}}})
    assert body["provenance"] == await _post(jp_fetch, "provenance", path)
    assert body["lineage"] == await _post(jp_fetch, "lineage", path)
    assert body["envdiff"] == await _post(jp_fetch, "envdiff", {**path, "current": other})
    assert body["envdiff"]["diff"]["python"] and body["problems"] == {}

    quiet = await _post(jp_fetch, "panel", {**path, "current": None})  # the kernel did not report
    assert quiet["envdiff"] is None and quiet["problems"] == {} and quiet["provenance"]["recorded"]
    unknown = await _post(jp_fetch, "panel", {**path, "current": "sha256:" + "0" * 64})
    assert unknown["envdiff"] is None and "envdiff" in unknown["problems"]
    assert unknown["provenance"] == body["provenance"]
    holds("panelReply", unknown)

    blank = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    fresh = await _post(jp_fetch, "panel", {"path": "work/new.ipynb", "notebook": blank, "current": other})
    assert fresh["provenance"]["recorded"] is False and fresh["envdiff"] is None  # nothing recorded


async def test_metadata_that_is_not_ours_is_a_one_line_400(jp_fetch, recorded):
    """A cell whose repro metadata is not an object (hand-edited, another tool's) made the panel's one
    request a 500 "Unhandled error", and lineage and the environment went with it."""
    nb = nbformat.read(recorded, 4)
    nb.cells[1].metadata["repro_jupyter"] = "x"
    for route in ("panel", "provenance", "lineage"):
        code, body = await _error(jp_fetch, route, {"path": "work/nb.ipynb", "notebook": nb, "current": None})
        assert code == 400, (route, body)
        holds("errorReply", body)
        assert "cell 2" in body["message"] and "\n" not in body["message"], body


async def test_milestones(jp_fetch, jp_root_dir, monkeypatch):
    torch = pytest.importorskip("torch")
    import repro_jupyter

    folder = jp_root_dir / "work"
    path = make_notebook(folder / "nb.ipynb", ["x = 1"])
    nb = nbformat.read(path, 4)
    empty = await _post(jp_fetch, "milestones", {"path": "work/nb.ipynb", "notebook": nb})
    assert empty["milestones"] == [] and empty["problem"]
    holds("milestonesReply", empty, drop="problem")

    monkeypatch.chdir(folder)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    repro_jupyter.checkpoint("epoch-1", model=torch.nn.Linear(3, 2), epoch=1)
    store = open_store(folder, create=False)
    store.catalog.add_milestone("nb.ipynb", "lost", "sha256:" + "f" * 64, None, None)  # unreadable
    store.close()
    body = await _post(jp_fetch, "milestones", {"path": "work/nb.ipynb", "notebook": nb})
    good, lost = body["milestones"]
    assert "parts" in good and "error" in lost
    holds("milestonesReply", body, drop="milestones")
    holds("milestone", good, drop="created_at", broken={"surprise": 1})
    holds("milestone", lost, drop="manifest_digest")


async def test_kernel_env(jp_fetch, jp_serverapp, monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name="python3")
    try:
        body = await _post(jp_fetch, "kernel-env", {"kernel_id": kernel_id, "deterministic": True})
        assert set(body["env"]) >= {"PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG"}
        holds("kernelEnvReply", body, drop="env", broken={"env": {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}})
    finally:
        await jp_serverapp.kernel_manager.shutdown_kernel(kernel_id, now=True)
    code, error = await _error(jp_fetch, "kernel-env", {"kernel_id": "nope", "deterministic": False})
    assert code == 404
    holds("errorReply", error, drop="message")


def _trial() -> dict:
    return {"kind": "verify", "put_back": [], "result": "reproduced", "seconds": 1.5, "environment": None}


def _explain_report() -> dict:
    report = {
        "schema_version": 1,
        "kind": "explain_report",
        "notebook": "work/nb.ipynb",
        "status": "no_drift",
        "conclusion": "The notebook reproduces here: nothing to explain.",
        "first_drift": None,
        "cause": None,
        "trials": [_trial()],
    }
    schema.validate("explainReport", report)
    return report


async def test_explain_jobs(jp_fetch, jp_serverapp, recorded):
    """Jobs put in the server's registry as a finished and a running worker leave them (no uv, no
    worker process): the replies are the real handlers' and ``ExplainJobs.status``'s."""
    none = await _post(jp_fetch, "explain-status", {"path": "work/nb.ipynb"})
    assert none == {"job": None, "state": "none"}
    holds("explainJobReply", none, broken={"path": "work/nb.ipynb"})

    jobs = explain_jobs.jobs_of(jp_serverapp.web_app.settings)
    done = explain_jobs.Job("done-job", recorded, "work/nb.ipynb", 12, recorded.parent / "gone")
    done.state, done.finished, done.report = "done", time.time(), _explain_report()
    done.final_events = [{"event": "done", "trial": _trial()}]
    running = explain_jobs.Job("running-job", recorded, "work/nb.ipynb", 12, recorded.parent / "gone")
    jobs.jobs.update({done.id: done, running.id: running})

    body = await _post(jp_fetch, "explain-status", {"job": "done-job"})
    assert body["state"] == "done" and body["trials"] == [_trial()]
    holds("explainJobReply", body, drop="report", broken={"job": None})
    body = await _post(jp_fetch, "explain-status", {"job": "running-job"})
    assert body["state"] == "running" and body["progress"]["text"]
    holds("explainJobReply", body, drop="progress", broken={"progress": {"trial": 1}})
    body = await _post(jp_fetch, "explain-cancel", {"job": "done-job"})  # over already: said as it is
    holds("explainJobReply", body, drop="seconds")
    # POST explain answers a job too (``started``), or one line before any job starts
    jobs.jobs.pop(running.id)
    code, error = await _error(jp_fetch, "explain", {"path": "work/nb.ipynb", "max_trials": 0})
    assert code in (400, 503)
    holds("errorReply", error, drop="reason")
    code, error = await _error(jp_fetch, "explain-cancel", {"job": "no-such-job"})
    assert code == 404
    holds("errorReply", error, broken={"message": None})


@pytest.mark.parametrize(
    "route, body, status",
    [
        ("provenance", {"path": "../x.ipynb", "notebook": {}}, 403),
        ("lineage", {"path": "work/nb.ipynb", "notebook": "not a notebook"}, 400),
        ("envdiff", {"path": "work/nb.ipynb", "notebook": None, "current": 1}, 400),
        ("panel", {"path": "work/nb.ipynb", "notebook": {}, "current": 1}, 400),
        ("compare", {"path": "work/nb.txt"}, 403),
        ("milestones", [], 400),
    ],
)
async def test_error_bodies(jp_fetch, recorded, route, body, status):
    code, error = await _error(jp_fetch, route, body)
    assert code == status and "\n" not in error["message"]
    holds("errorReply", error, drop="message", broken={"extra": 1})
