"""The kernel's runner API: what ``jupyter repro run`` and Lab's "re-execute and compare" ask a kernel.

Runners do not send Python source with their arguments spliced in (a notebook path holding a quote
would have been code): they load this module with the fixed line ``%load_ext repro_jupyter.kernel_runner``
and then send requests as JSON over the comm target ``repro_jupyter.runner``.  A request is the data of
a ``comm_open``; the kernel answers with exactly one ``comm_msg`` and closes the comm::

    request  {"type": "configure_replay", "seed": 21, "deterministic": false}
    reply    {"type": "configure_replay_reply", "ok": true}
    failure  {"type": "configure_replay_reply", "ok": false, "error": "seed must be ..."}

The requests and their replies are the contract in ``schema/messages.v1.json``; ``HANDLERS`` is the
registry (one function per request, arguments checked before anything changes).  The handlers are
plain functions too, so tests and benchmarks call them directly.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import magics as magics_module
from .errors import ReproWarning
from .kernel_comm import KernelComm
from .magics_support import install_warning_format
from .notebook_path import NotebookLocation
from .recorder import RecordingSession
from .runner_protocol import RUNNER_TARGET, reply_type
from .seeding import SEED_BITS

Reply = dict[str, Any]
Handler = Callable[[Any, dict[str, Any]], Reply]
HANDLERS: dict[str, Handler] = {}


class RequestError(ValueError):
    """A request the kernel refuses (a bad argument): the reply says so in one line."""


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


# --- the handlers' work, callable directly ------------------------------------------------------


def _record_every_cell(magics: Any, kind: str, seed: int | None, deterministic: bool) -> None:
    """The runners' mode: every cell recorded as ``kind`` with the runner's seed."""
    install_warning_format()
    magics.pin(kind, seed, deterministic)
    magics.session.ensure_master_seed()


def configure_headless(
    shell: Any, notebook: str, seed: int | None, deterministic: bool, extra_excludes: tuple[str, ...] = ()
) -> None:
    """``jupyter repro run`` in a fresh kernel: record every code cell of ``notebook``."""
    path = Path(notebook)
    magics = magics_module.loaded(shell)
    if magics is None:
        location = NotebookLocation(path.parent, path, tuple(extra_excludes))
        magics = magics_module.register(shell, location=location, comm_factory=KernelComm)
    _record_every_cell(magics, "headless", seed, deterministic)


def configure_replay(shell: Any, seed: int | None, deterministic: bool) -> None:
    """Lab's "re-execute and compare", after the kernel restart: like a headless run, every cell is
    recorded with the recorded seed; unlike it, the notebook is the one the server session names and
    the Lab comm is open."""
    _record_every_cell(magics_module.load(shell), "replay", seed, deterministic)


def flush_records(shell: Any) -> None:
    """Block until every record so far is on disk (the frontend asks before ``compare``).

    It is a replay's last step: the kernel goes back to the user's settings before the next cell
    the user runs, so ``%repro seed`` after a re-execution is obeyed.
    """
    magics = magics_module.loaded(shell)
    if magics is not None:
        magics.session.flush()
        magics.end_pin_before_next_cell()


def end_replay(shell: Any) -> None:
    """The Lab replay stopped early (cancelled, failed): unpin now.  ``flush_records`` covers a
    replay that ran to its end."""
    magics = magics_module.loaded(shell)
    if magics is not None and magics.session.kind == "replay":
        magics.end_pin()


def headless_metadata(shell: Any) -> Reply:
    """Everything the headless runner writes into the notebook; ends the run (its run-log entry)."""
    magics = magics_module.loaded(shell)
    if magics is None:
        return {"cells": {}, "notebook": None, "problems": []}
    session: RecordingSession = magics.session
    if session.active is not None:  # a cell that never reached post_run_cell (kernel interrupted)
        session.end(None)
    payload: Reply = {"cells": session.cell_metadata, "notebook": session.notebook_metadata()}
    with warnings.catch_warnings(record=True) as caught:  # the runner reports what was not written
        warnings.simplefilter("always", ReproWarning)
        session.close()  # the headless run is over: stamp its end in the run log (and upload it)
    payload["problems"] = [str(w.message) for w in caught if issubclass(w.category, ReproWarning)]
    return payload


# --- arguments, checked before anything changes --------------------------------------------------


def _seed(data: dict[str, Any]) -> int | None:
    seed = data.get("seed")
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**SEED_BITS):
        return seed
    raise RequestError(f"seed must be a whole number from 0 to 2**{SEED_BITS} - 1, or null")


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if isinstance(value, bool):
        return value
    raise RequestError(f"{name} must be true or false")


def _strings(data: dict[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RequestError(f"{name} must be a list of strings")


@handles("configure_headless")
def _configure_headless(shell: Any, data: dict[str, Any]) -> Reply:
    notebook = data.get("notebook")
    if not isinstance(notebook, str) or not notebook.strip() or "\0" in notebook:
        raise RequestError("notebook must be the path the run writes (a non-empty string)")
    configure_headless(shell, notebook, _seed(data), _flag(data, "deterministic"), _strings(data, "excludes"))
    return {}


@handles("configure_replay")
def _configure_replay(shell: Any, data: dict[str, Any]) -> Reply:
    configure_replay(shell, _seed(data), _flag(data, "deterministic"))
    return {}


@handles("flush_records")
def _flush_records(shell: Any, data: dict[str, Any]) -> Reply:
    flush_records(shell)
    return {}


@handles("end_replay")
def _end_replay(shell: Any, data: dict[str, Any]) -> Reply:
    end_replay(shell)
    return {}


@handles("headless_metadata")
def _headless_metadata(shell: Any, data: dict[str, Any]) -> Reply:
    return headless_metadata(shell)


def dispatch(shell: Any, data: Any) -> Reply:
    """One request in, one typed reply out; never raises (a failure is ``ok: false`` and one line)."""
    kind = data.get("type") if isinstance(data, dict) else None
    answer = reply_type(kind) if isinstance(kind, str) and kind.isidentifier() else "unknown_reply"
    handler = HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        return {"type": answer, "ok": False, "error": f"unknown request type {str(kind)[:60]!r}"}
    try:
        body = handler(shell, data)
        json.dumps(body)  # a reply that cannot travel is a failure said here, not a silent close
    except RequestError as exc:
        return {"type": answer, "ok": False, "error": f"{kind}: {exc}"}
    except Exception as exc:  # the runner reports it in one line; the kernel keeps going
        first = (str(exc).splitlines() or [""])[0][:300]
        return {"type": answer, "ok": False, "error": f"{kind} failed: {type(exc).__name__}: {first}"}
    return {"type": answer, "ok": True, **body}


# --- the comm target -----------------------------------------------------------------------------


def listen(shell: Any) -> None:
    """Answer runner requests on ``RUNNER_TARGET`` (idempotent: registering again replaces)."""
    from comm import get_comm_manager

    def on_open(comm: Any, open_msg: dict[str, Any]) -> None:
        reply = dispatch(shell, (open_msg.get("content") or {}).get("data"))
        try:
            comm.send(reply)
        finally:
            comm.close()

    get_comm_manager().register_target(RUNNER_TARGET, on_open)


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext repro_jupyter.kernel_runner``: the runners' one fixed line of set-up."""
    listen(shell)


__all__ = [
    "HANDLERS",
    "dispatch",
    "listen",
    "configure_headless",
    "configure_replay",
    "flush_records",
    "end_replay",
    "headless_metadata",
]
