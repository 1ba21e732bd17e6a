"""The server extension through a real Jupyter Server: handshake, services, auth and path safety."""

from __future__ import annotations

import copy
import json
import os

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from repro_jupyter import SCHEMA_VERSION, __version__, schema
from repro_jupyter.server import handlers
from repro_jupyter.server.handlers import ROUTES

from .conftest import cli, make_notebook

SOURCES = ["import random\nlr = 0.5", "x = random.random() * lr\nprint(round(x, 6))", "y = x * 2"]


async def _post(jp_fetch, route, body, **kw):
    response = await jp_fetch("repro-jupyter", route, method="POST", body=json.dumps(body), **kw)
    return json.loads(response.body)


@pytest.fixture
def recorded(jp_root_dir):
    path = make_notebook(jp_root_dir / "work" / "nb.ipynb", SOURCES)
    assert cli("run", path, "-q", "--seed", "5") == 0
    return path


async def test_info_handshake(jp_fetch):
    response = await jp_fetch("repro-jupyter", "info")
    assert json.loads(response.body) == {
        "name": "repro-jupyter",
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
    }


async def test_provenance_and_stale_cells(jp_fetch, recorded):
    nb = nbformat.read(recorded, 4)
    nb.cells[2].source = "y = x * 3"  # edited after recording
    data = await _post(jp_fetch, "provenance", {"path": "work/nb.ipynb", "notebook": nb})
    assert data["recorded"] and data["notebook"]["master_seed"] == 5
    assert data["environment"]["summary"]["python"]
    assert [c["stale"] for c in data["cells"]] == [False, False, True]
    assert data["cells"][0]["record"]["params"] == {"lr": 0.5}
    assert data["cells"][1]["record"]["consumed"] == ["random"]


async def test_lineage(jp_fetch, recorded):
    data = await _post(jp_fetch, "lineage", {"path": "work/nb.ipynb", "notebook": nbformat.read(recorded, 4)})
    writes = {(e["source"], e["target"]) for e in data["edges"] if e["kind"] == "writes"}
    reads = {(e["source"], e["target"]) for e in data["edges"] if e["kind"] == "reads"}
    assert (
        ("cell:1", "var:x:1") in writes and ("var:x:1", "cell:2") in reads and ("var:lr:1", "cell:1") in reads
    )


async def test_compare_reports_drift_with_the_shared_engine(jp_fetch, recorded):
    nb = nbformat.read(recorded, 4)
    current = copy.deepcopy(nb)
    current.cells[1].outputs[0]["text"] = "0.123\n"
    data = await _post(jp_fetch, "compare", {"path": "work/nb.ipynb", "recorded": nb, "current": current})
    schema.validate("driftReport", data)
    assert data["status"] == "drift" and data["first_drift"]["index"] == 1
    same = await _post(jp_fetch, "compare", {"path": "work/nb.ipynb", "recorded": nb, "current": nb})
    assert same["status"] == "reproduced"


async def test_envdiff_between_recorded_and_current(jp_fetch, recorded):
    nb = nbformat.read(recorded, 4)
    digest = nb.metadata["repro_jupyter"]["environment"]
    data = await _post(jp_fetch, "envdiff", {"path": "work/nb.ipynb", "notebook": nb, "current": digest})
    assert data["diff"] == {} and data["recorded"] == digest


@pytest.mark.parametrize("route", [r for r, _ in ROUTES])
async def test_every_route_refuses_unauthenticated(jp_fetch, route):
    method = "GET" if route == "info" else "POST"
    body = None if method == "GET" else "{}"
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(
            "repro-jupyter", route, method=method, body=body, headers={"Authorization": "token wrong"}
        )
    assert info.value.code in (401, 403)


@pytest.mark.parametrize("route", ["provenance", "lineage", "envdiff", "compare"])
async def test_every_post_route_refuses_cross_site_requests_without_xsrf(jp_fetch, route, jp_serverapp):
    """A browser request carrying a cookie but no XSRF token must be refused."""
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(
            "repro-jupyter",
            route,
            method="POST",
            body="{}",
            headers={"Authorization": "", "Cookie": "_xsrf=abc; username-localhost=bogus"},
        )
    assert info.value.code in (401, 403)


@pytest.mark.parametrize(
    "path",
    ["../outside.ipynb", "/etc/passwd", "work/../../x.ipynb", "link/nb.ipynb", "work/nb.txt", "", None],
)
@pytest.mark.parametrize("route", ["provenance", "lineage", "envdiff", "compare"])
async def test_paths_outside_the_root_are_refused(
    jp_fetch, jp_root_dir, tmp_path_factory, recorded, route, path
):
    outside = tmp_path_factory.mktemp("outside")
    make_notebook(outside / "nb.ipynb", ["1"])
    if not (jp_root_dir / "link").exists():
        os.symlink(outside, jp_root_dir / "link")
    nb = nbformat.read(recorded, 4)
    body = {"path": path, "notebook": nb, "recorded": nb, "current": nb, "current_env": "x"}
    with pytest.raises(HTTPClientError) as info:
        await _post(jp_fetch, route, body)
    assert info.value.code in (400, 403)


async def test_bodies_are_size_limited(jp_fetch, monkeypatch):
    monkeypatch.setattr(handlers, "MAX_BODY_BYTES", 100)
    with pytest.raises(HTTPClientError) as info:
        await _post(jp_fetch, "provenance", {"path": "a.ipynb", "pad": "x" * 200})
    assert info.value.code == 413


async def test_bad_notebook_json_is_400_with_one_line(jp_fetch, recorded):
    with pytest.raises(HTTPClientError) as info:
        await _post(jp_fetch, "provenance", {"path": "work/nb.ipynb", "notebook": {"cells": 3}})
    assert info.value.code == 400
    message = json.loads(info.value.response.body)["message"]
    assert "not a valid notebook" in message and "\n" not in message
