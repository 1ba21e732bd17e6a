"""The server never blocks its loop (issue 17 §6): a route's store, notebook and comparison work runs
in a thread, so a slow request (a large store, a team-store pull, a comparison of big images) does
not freeze every other request of the Jupyter Server (Lab's file browser, kernels, our own panel).

Each case holds one route inside its blocking work on a ``threading.Event``, then asks the server
for ``info``: it must answer while the first request is still held.  On a server that runs the
work on its loop the held request freezes the loop (and this test with it) until the gate gives
up after ``HOLD_S``; ``info`` is answered only after that, and the test fails instead of hanging.
(``kernel-env`` is not here: it only changes the kernel manager's launch arguments in memory, on
the loop that owns them.)
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from tornado.httpclient import HTTPClientError

from repro_jupyter import __version__
from repro_jupyter.server import explain_jobs, services

HOLD_S = 10.0  # how long a held request waits for the test to let it go


class Gate:
    """Holds the wrapped function at its start until ``release`` is set (or ``HOLD_S`` passed)."""

    def __init__(self) -> None:
        self.entered, self.release, self.left = threading.Event(), threading.Event(), threading.Event()
        self.released: bool | None = None

    def wrap(self, real: Any) -> Any:
        def held(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            self.released = self.release.wait(HOLD_S)
            self.left.set()
            return real(*args, **kwargs)

        return held


async def _until(event: threading.Event) -> None:
    while not event.is_set():
        await asyncio.sleep(0.01)


async def _code(jp_fetch, route: str, body: dict[str, Any]) -> int:
    try:
        response = await jp_fetch("repro-jupyter", route, method="POST", body=json.dumps(body))
    except HTTPClientError as exc:
        message = json.loads(exc.response.body)["message"]
        assert "\n" not in message, message  # the error map still gives one line
        return exc.code
    json.loads(response.body)
    return response.code


NB = new_notebook(cells=[new_code_cell("x = 1")])
NOTEBOOK = {"path": "nb.ipynb", "notebook": NB}

# route, body, (module, function held), the status the route answers once let go (as before)
CASES = [
    ("provenance", NOTEBOOK, (services, "parse_notebook"), 200),
    ("lineage", NOTEBOOK, (services, "parse_notebook"), 200),
    ("envdiff", {**NOTEBOOK, "current": "sha256:00"}, (services, "parse_notebook"), 404),  # no store
    ("compare", {"path": "nb.ipynb", "recorded": NB, "current": NB}, (services, "parse_notebook"), 200),
    ("milestones", NOTEBOOK, (services, "parse_notebook"), 200),
    # uv counts as found here; nb.ipynb is not saved: a one-line 400 before any job starts
    ("explain", {"path": "nb.ipynb"}, (explain_jobs, "check_uv"), 400),
]


@pytest.mark.parametrize(("route", "body", "held", "status"), CASES, ids=[c[0] for c in CASES])
async def test_a_held_route_leaves_the_server_answering(jp_fetch, monkeypatch, route, body, held, status):
    module, name = held
    gate = Gate()
    real = (lambda: None) if name == "check_uv" else getattr(module, name)
    monkeypatch.setattr(module, name, gate.wrap(real))
    first = asyncio.ensure_future(_code(jp_fetch, route, body))
    try:
        await asyncio.wait_for(_until(gate.entered), 2 * HOLD_S)
        info = await asyncio.wait_for(jp_fetch("repro-jupyter", "info"), 2 * HOLD_S)
        answered_while_held = not gate.left.is_set()
    finally:
        gate.release.set()
    assert json.loads(info.body)["version"] == __version__
    assert answered_while_held, f"{route}: the server answered nothing while {name} was held (loop blocked)"
    assert await asyncio.wait_for(first, 2 * HOLD_S) == status
    assert gate.released, f"{route}: the held request gave up waiting instead of being let go"
