"""Routes under ``/repro-jupyter/``: one table, every handler authenticated.

Domain errors map to HTTP codes in one place (``_ERRORS``); notebook paths are
resolved inside the server's root only (no ``..``, no absolute paths, no symlinks
leading out); request bodies are size-limited.  ``info`` is the version handshake
the frontend uses to say "server extension missing or mismatched".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import SCHEMA_VERSION, __version__
from ..errors import NotebookError, ObjectCorrupt, ObjectMissing, ReproError, StoreError
from ..redaction import notebook_secrets, redact_data, redact_text
from . import explain_jobs, services

URL_PREFIX = "repro-jupyter"
MAX_BODY_BYTES = 64 * 1024 * 1024  # two notebooks with images
_ERRORS = [
    (ObjectMissing, 404),
    (ObjectCorrupt, 409),
    (StoreError, 404),
    (NotebookError, 400),
    (ReproError, 400),
]


class PathRefused(ReproError):
    pass


def resolve_notebook(root: str, relative: Any) -> Path:
    """``relative`` as a notebook path inside ``root``; anything else is refused."""
    if not isinstance(relative, str) or not relative or "\0" in relative:
        raise PathRefused("a notebook path is required")
    if relative.startswith(("/", "\\")) or os.path.isabs(relative) or ".." in Path(relative).parts:
        raise PathRefused("the path must be relative to the server root, without '..'")
    base = Path(root).resolve()
    candidate = (base / relative).resolve()  # follows symlinks: a link out of the root ends outside
    if candidate != base and base not in candidate.parents:
        raise PathRefused("the path leads outside the server root")
    if candidate.suffix != ".ipynb":
        raise PathRefused("only .ipynb notebooks are served")
    return candidate


class ReproHandler(APIHandler):
    def root(self) -> str:
        return str(self.settings.get("server_root_dir") or self.contents_manager.root_dir)

    def body(self) -> dict[str, Any]:
        raw = self.request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise tornado.web.HTTPError(413, f"request body over {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, "the request body must be a JSON object")
        # what a response may quote: the secret literals of the notebooks the request carries
        self._secrets = tuple(
            s for key in ("notebook", "recorded", "current") for s in notebook_secrets(data.get(key))
        )
        return data

    def reply(self, func: Any, *args: Any) -> None:
        """``func``'s result as JSON, through the redaction service (the response leaves the server)."""
        secrets = getattr(self, "_secrets", ())
        try:
            result = func(*args)
        except PathRefused as exc:
            raise tornado.web.HTTPError(403, redact_text(str(exc), secrets)) from None
        except ReproError as exc:
            code = next(status for kind, status in _ERRORS if isinstance(exc, kind))
            raise tornado.web.HTTPError(code, redact_text(str(exc), secrets)) from None
        self.finish(json.dumps(redact_data(result, secrets)))

    def notebook_and_folder(self, data: dict[str, Any]) -> tuple[Any, Path, Path]:
        path = resolve_notebook(self.root(), data.get("path"))
        nb = services.parse_notebook(data.get("notebook"))
        return nb, path.parent, path


class InfoHandler(ReproHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(
            json.dumps({"name": "repro-jupyter", "version": __version__, "schema_version": SCHEMA_VERSION})
        )


class ProvenanceHandler(ReproHandler):
    @tornado.web.authenticated
    def post(self) -> None:
        data = self.body()

        def run() -> dict[str, Any]:
            nb, folder, path = self.notebook_and_folder(data)
            return {"path": data["path"], **services.provenance(nb, folder)}

        self.reply(run)


class LineageHandler(ReproHandler):
    @tornado.web.authenticated
    def post(self) -> None:
        data = self.body()
        self.reply(lambda: services.lineage(*self.notebook_and_folder(data)[:2]))


class EnvDiffHandler(ReproHandler):
    @tornado.web.authenticated
    def post(self) -> None:
        data = self.body()

        def run() -> dict[str, Any]:
            nb, folder, _ = self.notebook_and_folder(data)
            current = data.get("current")
            if not isinstance(current, str):
                raise NotebookError("'current' must be an environment digest")
            return services.envdiff(nb, folder, current)

        self.reply(run)


class CompareHandler(ReproHandler):
    @tornado.web.authenticated
    def post(self) -> None:
        data = self.body()

        def run() -> dict[str, Any]:
            path = resolve_notebook(self.root(), data.get("path"))
            recorded = services.parse_notebook(data.get("recorded"))
            current = services.parse_notebook(data.get("current"))
            options = data.get("options") if isinstance(data.get("options"), dict) else {}
            return services.compare(recorded, current, path, options)

        self.reply(run)


class MilestonesHandler(ReproHandler):
    @tornado.web.authenticated
    def post(self) -> None:
        data = self.body()

        def run() -> dict[str, Any]:
            nb, folder, path = self.notebook_and_folder(data)
            return services.milestones(nb, folder, path.name)

        self.reply(run)


class ExplainHandler(ReproHandler):
    """``explain`` {path, find_links?, index_url?, max_trials?} starts the notebook's explain job (or
    gives back the one running); ``explain-status`` {job} or {path} and ``explain-cancel`` {job}
    follow it.  Errors before the job starts are one line; a job's own failure is its ``error``."""

    def fail(self, exc: ReproError) -> None:
        codes = [(explain_jobs.UnknownJob, 404), (explain_jobs.ExplainUnavailable, 503), (PathRefused, 403)]
        code = next(c for kind, c in [*codes, *_ERRORS] if isinstance(exc, kind))
        raise tornado.web.HTTPError(code, redact_text(" ".join(str(exc).split()), ())) from None

    @tornado.web.authenticated
    async def post(self) -> None:
        data, jobs = self.body(), explain_jobs.jobs_of(self.settings)
        try:
            path = resolve_notebook(self.root(), data.get("path"))
            explain_jobs.check_uv()
            params = explain_jobs.explain_request(Path(self.root()), path, data)
        except ReproError as exc:
            self.fail(exc)
        job, started = await jobs.start(path, data["path"], **params)
        self.reply(lambda: {**jobs.status(job), "started": started})


class ExplainStatusHandler(ExplainHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        data, jobs = self.body(), explain_jobs.jobs_of(self.settings)
        try:
            if "job" in data:
                job = jobs.get(data["job"])
            else:
                job = jobs.latest_for(resolve_notebook(self.root(), data.get("path")))
        except ReproError as exc:
            self.fail(exc)
        self.reply(lambda: jobs.status(job) if job else {"job": None, "state": "none"})


class ExplainCancelHandler(ExplainHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        data, jobs = self.body(), explain_jobs.jobs_of(self.settings)
        try:
            job = jobs.get(data.get("job"))
        except ReproError as exc:
            self.fail(exc)
        await jobs.cancel(job)
        self.reply(lambda: jobs.status(job))


class KernelEnvHandler(ReproHandler):
    """``POST kernel-env`` {kernel_id, deterministic}: the replay environment for the next restart."""

    @tornado.web.authenticated
    def post(self) -> None:
        data = self.body()
        kernel_id, deterministic = data.get("kernel_id"), data.get("deterministic", False)
        self.reply(services.set_kernel_env, self.kernel_manager, kernel_id, deterministic)


ROUTES = [
    ("info", InfoHandler),
    ("provenance", ProvenanceHandler),
    ("lineage", LineageHandler),
    ("envdiff", EnvDiffHandler),
    ("compare", CompareHandler),
    ("kernel-env", KernelEnvHandler),
    ("explain", ExplainHandler),
    ("explain-status", ExplainStatusHandler),
    ("explain-cancel", ExplainCancelHandler),
    ("milestones", MilestonesHandler),
]


def setup_handlers(web_app: Any) -> None:
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base, URL_PREFIX, path), handler) for path, handler in ROUTES]
    )
