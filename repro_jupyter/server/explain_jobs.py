"""Explain jobs of the Lab's "Find the cause": one background process per notebook, polled.

``explain_notebook`` takes minutes (kernels, uv), so a job runs it in its own process
(``explain_worker``), started with asyncio so the server's event loop never waits.  The
server keeps what a poll needs: the progress lines the worker appends to a file, and at the
end its report or one error line.  One job per notebook: asking again while one runs gives
that job back.  Cancelling sends SIGTERM (the worker unwinds, shutting its kernels down) and
SIGKILL to the worker's process group after a grace period (uv, stragglers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NotebookError, ReproError, UsageError
from ..schema import METADATA_KEY

GRACE_S = 10.0
KEEP_FINISHED = 32  # finished jobs kept for polls (the newest of each notebook among them)


class UnknownJob(ReproError):
    """No job has this id (never started, forgotten among old
    finished jobs, or the server restarted): HTTP 404."""


class ExplainUnavailable(ReproError):
    """explain cannot run on this server at all (no uv): not the request's fault."""


@dataclass
class Job:
    """One explain job: its worker process, the folder it reports into, and its
    state (running, done, failed, cancelled) with the report or error line."""

    id: str
    path: Path  # absolute notebook path
    relative: str  # as the Lab names it
    max_trials: int
    folder: Path
    started: float = field(default_factory=time.time)
    finished: float | None = None
    state: str = "running"  # running | done | failed | cancelled
    report: dict[str, Any] | None = None
    error: str | None = None
    process: Any = None
    waiter: Any = None
    final_events: list[dict[str, Any]] | None = None  # read once the worker ended (its folder is gone)

    @property
    def events_file(self) -> Path:
        """The worker's progress, one JSON line per event, appended while it runs."""
        return self.folder / "events.jsonl"

    @property
    def result_file(self) -> Path:
        """Where the worker writes ``{"report": ...}`` or ``{"error": line}`` once, at the end."""
        return self.folder / "result.json"


def _events(job: Job) -> list[dict[str, Any]]:
    try:
        lines = job.events_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


def progress_text(event: dict[str, Any], bound: int) -> str:
    """``trial 3 of ≤14: tinypkg 1.0 put back…`` (display text; the frontend shows it as is)."""
    if event.get("event") == "environment":
        return f"{event.get('text', 'preparing a trial environment')}…"
    n = event.get("n", 0)
    what = {
        "verify": "verify (the notebook as it is now)",
        "same_seed_again": "the same seed again (is the cell deterministic here?)",
    }.get(event.get("kind", ""))
    if what is None:
        what = f"{', '.join(event.get('put_back') or []) or 'nothing'} put back"
    return f"trial {n} of ≤{bound}: {what}…"


class ExplainJobs:
    """The server's explain jobs (one instance per server, in the tornado settings)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    def running_for(self, path: Path) -> Job | None:
        """The job still running for this notebook (absolute path), or None."""
        return next((j for j in self.jobs.values() if j.path == path and j.state == "running"), None)

    def latest_for(self, path: Path) -> Job | None:
        """The most recently started job for this notebook, whatever its state, or None."""
        mine = [j for j in self.jobs.values() if j.path == path]
        return max(mine, key=lambda j: j.started) if mine else None

    def get(self, job_id: Any) -> Job:
        """The job with this id; UnknownJob (a one-line 404) for anything else, a non-string id included."""
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise UnknownJob(
                f"no explain job {str(job_id)[:40]!r} (finished long ago, or the server restarted)"
            )
        return job

    async def start(
        self,
        path: Path,
        relative: str,
        find_links: tuple[str, ...],
        index_url: str | None,
        max_trials: int,
    ) -> tuple[Job, bool]:
        """A new job, or the one already running for this notebook (then ``False``)."""
        running = self.running_for(path)
        if running is not None:
            return running, False
        folder = Path(tempfile.mkdtemp(prefix="repro-explain-job-"))
        job = Job(uuid.uuid4().hex, path, relative, max_trials, folder)
        spec = {
            "path": str(path),
            "find_links": list(find_links),
            "index_url": index_url,
            "max_trials": max_trials,
            "events": str(job.events_file),
            "result": str(job.result_file),
            "parent": os.getpid(),
        }
        (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        job.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "repro_jupyter.server.explain_worker",
            str(folder / "spec.json"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(path.parent),
            start_new_session=True,  # its own process group: cancel reaches uv too
        )
        self.jobs[job.id] = job
        job.waiter = asyncio.ensure_future(self._wait(job))
        self._forget_old()
        return job, True

    async def _wait(self, job: Job) -> None:
        _, err = await job.process.communicate()
        job.finished = time.time()
        job.final_events = _events(job)
        try:
            if job.state != "cancelled":
                self._finish(job, err)
        finally:
            shutil.rmtree(job.folder, ignore_errors=True)

    def _finish(self, job: Job, err: bytes | None) -> None:
        try:
            result = json.loads(job.result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = [ln for ln in (err or b"").decode(errors="replace").splitlines() if ln.strip()]
            why = tail[-1].strip()[:300] if tail else f"exit status {job.process.returncode}"
            result = {"error": f"explain stopped without a result: {why}"}
        if "report" in result:
            job.report = dict(result["report"], notebook=job.relative)
            job.state = "done"
        else:
            job.error, job.state = str(result.get("error") or "explain failed"), "failed"

    async def cancel(self, job: Job) -> None:
        """Stop a running job: SIGTERM (the worker shuts its kernels down), then SIGKILL
        to its process group after ``GRACE_S``; a finished job is left as it is."""
        if job.state != "running":
            return
        job.state = "cancelled"
        job.error = "cancelled"
        with contextlib.suppress(ProcessLookupError):
            job.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(job.waiter), GRACE_S)
        except asyncio.TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.process.pid, signal.SIGKILL)

    def status(self, job: Job) -> dict[str, Any]:
        """The job as a poll answers it: state, elapsed seconds, progress
        line, the trials done so far, and the report or error."""
        events = job.final_events if job.final_events is not None else _events(job)
        bound = job.max_trials + 2  # verify and the same-seed control come first
        done = [e["trial"] for e in events if e.get("event") == "done" and isinstance(e.get("trial"), dict)]
        current = next((e for e in reversed(events) if e.get("event") in ("trial", "environment")), None)
        progress = None
        if job.state == "running":
            progress = {
                "trial": len(done) + 1,
                "bound": bound,
                "text": progress_text(current, bound) if current else "starting…",
            }
        return {
            "job": job.id,
            "path": job.relative,
            "state": job.state,
            "seconds": round((job.finished or time.time()) - job.started, 1),
            "max_trials": job.max_trials,
            "progress": progress,
            "trials": done,
            "report": job.report,
            "error": job.error,
        }

    def _forget_old(self) -> None:
        finished = sorted((j for j in self.jobs.values() if j.state != "running"), key=lambda j: j.started)
        for job in finished[:-KEEP_FINISHED] if len(finished) > KEEP_FINISHED else []:
            self.jobs.pop(job.id, None)
            shutil.rmtree(job.folder, ignore_errors=True)

    async def close(self) -> None:
        """Cancel every job and remove their folders (the server is shutting down)."""
        for job in list(self.jobs.values()):
            await self.cancel(job)
            shutil.rmtree(job.folder, ignore_errors=True)


MAX_EXPLAIN_TRIALS = 64


def explain_request(root: Path, path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a Lab explain job: the request's ``find_links`` / ``index_url`` /
    ``max_trials``, else the notebook's pyproject ``explain-find-links`` / ``explain-index-url``.
    Request folders are relative to the server root and must stay inside it; every problem is one
    line (``UsageError``, 400) before any process starts."""
    from ..notebook_io import read_notebook
    from ..project_config import explain_sources

    if not path.is_file():
        raise NotebookError(f"{path.name}: no such notebook (save it first)")
    if not read_notebook(path).metadata.get(METADATA_KEY):
        raise NotebookError(f"{path.name} was never recorded: nothing to put back (record it first)")
    max_trials = data.get("max_trials", 12)
    if (
        isinstance(max_trials, bool)
        or not isinstance(max_trials, int)
        or not 1 <= max_trials <= MAX_EXPLAIN_TRIALS
    ):
        raise UsageError(
            f"max_trials must be an integer from 1 to {MAX_EXPLAIN_TRIALS}, not {str(max_trials)[:24]}"
        )
    find_links, index_url = explain_sources(path.parent)
    given = data.get("find_links")
    if given is not None:
        given = [given] if isinstance(given, str) else given
        if not isinstance(given, list) or not all(isinstance(x, str) and x for x in given):
            raise UsageError("find_links must be a folder or URL, or a list of them")
        find_links = tuple(_find_link(root, link) for link in given)
    given_index = data.get("index_url")
    if given_index is not None:
        if not isinstance(given_index, str) or not given_index.startswith(("http://", "https://", "file://")):
            raise UsageError(f"index_url must be an http(s) or file URL, not {str(given_index)[:200]!r}")
        index_url = given_index
    return {"find_links": find_links, "index_url": index_url, "max_trials": max_trials}


def _find_link(root: Path, link: str) -> str:
    if link.startswith(("http://", "https://", "file://")):
        return link
    if "://" in link or Path(link).is_absolute() or ".." in Path(link).parts:
        raise UsageError(f"find_links: {link[:200]!r} must be a URL or a folder relative to the server root")
    base = root.resolve()
    folder = (base / link).resolve()
    if folder != base and base not in folder.parents:
        raise UsageError(f"find_links: {link[:200]} leads outside the server root")
    if not folder.is_dir():
        raise UsageError(f"find_links: {link[:200]} is not a folder")
    return str(folder)


def check_uv() -> None:
    """``ExplainUnavailable`` when uv (the trial environments' installer) is missing here."""
    from ..explain.trialenv import find_uv

    if not find_uv():
        raise ExplainUnavailable("uv is not installed where the Jupyter server runs: pip install uv")


def jobs_of(settings: dict[str, Any]) -> ExplainJobs:
    """The server's one registry (tornado settings are shared by every handler of the app)."""
    return settings.setdefault("repro_jupyter_explain_jobs", ExplainJobs())
