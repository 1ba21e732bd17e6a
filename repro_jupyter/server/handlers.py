"""Routes under ``/repro-jupyter/``: one table, every handler authenticated.

Domain errors map to HTTP codes in one place (``_ERRORS``); notebook paths are
resolved inside the server's root only (no ``..``, no absolute paths, no symlinks
leading out); request bodies are size-limited.  ``info`` is the version handshake
the frontend uses to say "server extension missing or mismatched".

The loop is never blocked: every handler is ``async`` and its work (parsing the body, opening a
store, a team-store pull, SQLite, reading notebooks, lineage, comparing outputs and images, the
redaction and JSON of the reply) runs in a worker thread (``asyncio.to_thread``, as Jupyter
Server's own kernelspec handlers do), so one slow request leaves Lab's other requests answered.
Only state the loop owns (explain jobs, the kernel manager) is read on the loop, and only in
memory.  Exceptions cross the thread unchanged, so the error map below still applies.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import __version__
from ..errors import NotebookError, ObjectCorrupt, ObjectMissing, ReproError, StoreError
from ..redaction import notebook_secrets, redact_data, redact_text
from ..schema import SCHEMA_VERSION
from . import explain_jobs, services
from .explain_jobs import Job

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
    """A path outside the server root, absolute, with ``..``, or not an ``.ipynb``: HTTP 403."""

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


def parse_body(raw: bytes) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The request's JSON object and the secret literals of the notebooks it carries (what a
    response may quote and must not), or a one-line 400.  Up to 64 MiB: runs in a worker thread."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise tornado.web.HTTPError(400, "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise tornado.web.HTTPError(400, "the request body must be a JSON object")
    secrets = tuple(s for key in ("notebook", "recorded", "current") for s in notebook_secrets(data.get(key)))
    return data, secrets


def environment_digest(data: dict[str, Any], *, required: bool) -> str | None:
    """The request's ``current`` (the kernel's environment digest); null only where not ``required``."""
    current = data.get("current")
    if isinstance(current, str) or (current is None and not required):
        return current
    raise NotebookError("'current' must be an environment digest" + ("" if required else " or null"))


class ReproHandler(APIHandler):
    """Base of our handlers: authenticated, JSON body (parsed in a thread), replies redacted, domain
    errors mapped to their status (``_ERRORS``) as one line."""

    def root(self) -> str:
        return str(self.settings.get("server_root_dir") or self.contents_manager.root_dir)

    async def body(self) -> dict[str, Any]:
        raw = self.request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise tornado.web.HTTPError(413, f"request body over {MAX_BODY_BYTES} bytes")
        data, self._secrets = await asyncio.to_thread(parse_body, raw)
        return data

    async def reply(self, func: Callable[..., Any], *args: Any, on_loop: bool = False) -> None:
        """``func``'s result as JSON, through the redaction service (the response leaves the server).

        ``func`` runs in a worker thread, or here with ``on_loop`` when it reads state only the
        loop may touch (an explain job, the kernel manager: in memory, quick); the redaction and
        the JSON of its result run in the thread either way.  Domain errors become their status.
        """
        secrets = getattr(self, "_secrets", ())

        def answer(result: Any) -> str:
            return json.dumps(redact_data(result, secrets))

        try:
            if on_loop:
                text = await asyncio.to_thread(answer, func(*args))
            else:
                text = await asyncio.to_thread(lambda: answer(func(*args)))
        except PathRefused as exc:
            raise tornado.web.HTTPError(403, redact_text(str(exc), secrets)) from None
        except ReproError as exc:
            code = next(status for kind, status in _ERRORS if isinstance(exc, kind))
            raise tornado.web.HTTPError(code, redact_text(str(exc), secrets)) from None
        self.finish(text)

    def notebook_and_folder(self, data: dict[str, Any]) -> tuple[Any, Path, Path]:
        path = resolve_notebook(self.root(), data.get("path"))
        nb = services.parse_notebook(data.get("notebook"), path)
        return nb, path.parent, path


class InfoHandler(ReproHandler):
    """``GET info``: name, version and schema version (the frontend's handshake)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(
            json.dumps({"name": "repro-jupyter", "version": __version__, "schema_version": SCHEMA_VERSION})
        )


class ProvenanceHandler(ReproHandler):
    """``POST provenance`` {path, notebook}: ``services.provenance`` (the panel uses ``panel``)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = await self.body()

        def run() -> dict[str, Any]:
            nb, folder, path = self.notebook_and_folder(data)
            return {"path": data["path"], **services.provenance(nb, folder)}

        await self.reply(run)


class LineageHandler(ReproHandler):
    """``POST lineage`` {path, notebook}: ``services.lineage`` (the panel uses ``panel``)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = await self.body()
        await self.reply(lambda: services.lineage(*self.notebook_and_folder(data)[:2]))


class EnvDiffHandler(ReproHandler):
    """``POST envdiff`` {path, notebook, current}: ``services.envdiff`` (the panel uses ``panel``)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = await self.body()

        def run() -> dict[str, Any]:
            nb, folder, _ = self.notebook_and_folder(data)
            current = environment_digest(data, required=True)
            assert current is not None
            return services.envdiff(nb, folder, current)

        await self.reply(run)


class PanelHandler(ReproHandler):
    """``POST panel`` {path, notebook, current}: one refresh of the side panel (``services.panel``);
    ``current`` is the kernel's environment digest, or null when the kernel did not report one."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = await self.body()

        def run() -> dict[str, Any]:
            nb, folder, _ = self.notebook_and_folder(data)
            reply = services.panel(nb, folder, environment_digest(data, required=False))
            reply["provenance"] = {"path": data["path"], **reply["provenance"]}
            return {"path": data["path"], **reply}

        await self.reply(run)


class CompareHandler(ReproHandler):
    """``POST compare`` {path, recorded, current, options?}: the drift report of a Lab replay (the judge
    of ``jupyter repro verify``)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = await self.body()

        def run() -> dict[str, Any]:
            path = resolve_notebook(self.root(), data.get("path"))
            recorded = services.parse_notebook(data.get("recorded"), path)
            current = services.parse_notebook(data.get("current"), path)
            options = data.get("options") if isinstance(data.get("options"), dict) else {}
            return services.compare(recorded, current, path, options)

        await self.reply(run)


class MilestonesHandler(ReproHandler):
    """``POST milestones`` {path, notebook}: the training checkpoints saved for the notebook."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = await self.body()

        def run() -> dict[str, Any]:
            nb, folder, path = self.notebook_and_folder(data)
            return services.milestones(nb, folder, path.name)

        await self.reply(run)


class ExplainHandler(ReproHandler):
    """``explain`` {path, find_links?, index_url?, max_trials?} starts the notebook's explain job (or
    gives back the one running); ``explain-status`` {job} or {path} and ``explain-cancel`` {job}
    follow it.  Errors before the job starts are one line; a job's own failure is its ``error``."""

    def fail(self, exc: ReproError) -> NoReturn:
        codes = [(explain_jobs.UnknownJob, 404), (explain_jobs.ExplainUnavailable, 503), (PathRefused, 403)]
        code = next(c for kind, c in [*codes, *_ERRORS] if isinstance(exc, kind))
        raise tornado.web.HTTPError(code, redact_text(" ".join(str(exc).split()), ())) from None

    @tornado.web.authenticated
    async def post(self) -> None:
        data, jobs, root = await self.body(), explain_jobs.jobs_of(self.settings), self.root()

        def prepare() -> tuple[Path, dict[str, Any]]:  # finds uv, reads the notebook and pyproject
            path = resolve_notebook(root, data.get("path"))
            explain_jobs.check_uv()
            return path, explain_jobs.explain_request(Path(root), path, data)

        try:
            path, params = await asyncio.to_thread(prepare)
        except ReproError as exc:
            self.fail(exc)
        job, started = await jobs.start(path, data["path"], **params)
        await self.reply(lambda: {**jobs.status(job), "started": started}, on_loop=True)


class ExplainStatusHandler(ExplainHandler):
    """``POST explain-status`` {job} or {path}: a job's state, or the notebook's latest job."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data, jobs = await self.body(), explain_jobs.jobs_of(self.settings)
        job: Job | None
        try:
            if "job" in data:
                job = jobs.get(data["job"])
            else:
                path = await asyncio.to_thread(resolve_notebook, self.root(), data.get("path"))
                job = jobs.latest_for(path)
        except ReproError as exc:
            self.fail(exc)
        await self.reply(lambda: jobs.status(job) if job else {"job": None, "state": "none"}, on_loop=True)


class ExplainCancelHandler(ExplainHandler):
    """``POST explain-cancel`` {job}: stop the job (its process and kernels end)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data, jobs = await self.body(), explain_jobs.jobs_of(self.settings)
        try:
            job = jobs.get(data.get("job"))
        except ReproError as exc:
            self.fail(exc)
        await jobs.cancel(job)
        await self.reply(jobs.status, job, on_loop=True)


class KernelEnvHandler(ReproHandler):
    """``POST kernel-env`` {kernel_id, deterministic}: the replay environment for the next restart.

    On the loop: it changes the kernel manager's launch arguments (loop-owned, in memory)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = await self.body()
        kernel_id, deterministic = data.get("kernel_id"), data.get("deterministic", False)
        await self.reply(services.set_kernel_env, self.kernel_manager, kernel_id, deterministic, on_loop=True)


ROUTES = [
    ("info", InfoHandler),
    ("provenance", ProvenanceHandler),
    ("lineage", LineageHandler),
    ("envdiff", EnvDiffHandler),
    ("panel", PanelHandler),
    ("compare", CompareHandler),
    ("kernel-env", KernelEnvHandler),
    ("explain", ExplainHandler),
    ("explain-status", ExplainStatusHandler),
    ("explain-cancel", ExplainCancelHandler),
    ("milestones", MilestonesHandler),
]


def setup_handlers(web_app: Any) -> None:
    """Mount ``ROUTES`` under ``<base_url>/repro-jupyter/``."""
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base, URL_PREFIX, path), handler) for path, handler in ROUTES]
    )
