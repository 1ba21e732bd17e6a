"""The server extension: version handshake, and auth on every route."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from repro_jupyter import SCHEMA_VERSION, __version__
from repro_jupyter.server.handlers import ROUTES


async def test_info_handshake(jp_fetch):
    response = await jp_fetch("repro-jupyter", "info")
    assert response.code == 200
    body = json.loads(response.body)
    assert body == {"name": "repro-jupyter", "version": __version__, "schema_version": SCHEMA_VERSION}


@pytest.mark.parametrize("route", [r for r, _ in ROUTES])
async def test_every_route_refuses_unauthenticated(jp_fetch, route):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("repro-jupyter", route, headers={"Authorization": "token wrong"})
    assert info.value.code in (401, 403)
