"""Routes under ``/repro-jupyter/``.  All in one table; every handler requires auth.

``info`` is the version handshake: the frontend compares it with its own version
to say "server extension missing or mismatched" instead of failing silently.
"""

from __future__ import annotations

import json
from typing import Any

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import SCHEMA_VERSION, __version__

URL_PREFIX = "repro-jupyter"


class InfoHandler(APIHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(
            json.dumps({"name": "repro-jupyter", "version": __version__, "schema_version": SCHEMA_VERSION})
        )


ROUTES = [("info", InfoHandler)]


def setup_handlers(web_app: Any) -> None:
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base, URL_PREFIX, path), handler) for path, handler in ROUTES]
    )
