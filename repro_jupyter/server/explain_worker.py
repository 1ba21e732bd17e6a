"""The process one Lab "Find the cause" job runs in: ``python -m repro_jupyter.server.explain_worker SPEC``.

Explain takes minutes and starts kernels and uv; in a process of its own it never holds the
server's event loop or GIL, and cancelling is ending the process (kernels notice their parent
is gone through ``JPY_PARENT_PID`` and exit).  ``SPEC`` is a JSON file: ``path``,
``find_links``, ``index_url``, ``max_trials``, ``events`` (where progress goes, JSON lines)
and ``result`` (written once at the end, atomically: ``{"report": ...}`` or ``{"error": line}``).

Progress is observed from outside the explain package (which has no callback): a trial's start
is ``trials.run`` being called, its end is ``_Run.add`` with the entry the report will list, and
a trial environment is ``Builder.build``.  Anything missing there only costs progress lines;
the final report is what the Lab shows as the result.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PARENT_POLL_S = 2.0


class Events:
    """Progress as JSON lines, flushed at once (the server reads the file while we run)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
        self._lock = threading.Lock()
        self.started = 0  # trials started so far (this process's; the control may run elsewhere)
        self.pins: tuple[str, ...] = ()  # the pins of the trial environment built last

    def emit(self, **event: Any) -> None:
        event["time"] = round(time.time(), 3)
        with self._lock:
            self._file.write(json.dumps(event) + "\n")
            self._file.flush()


def _pin_text(pin: str) -> str:
    name, _, version = pin.partition("==")
    return f"{name} {version}".strip()


def _wrap(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name, None)
    if callable(original):
        setattr(owner, name, make(original))


def observe(events: Events) -> None:
    """Wrap the three points of the explain package that say what a trial is and when it ends."""
    from ..explain import core, trialenv, trials

    def run_hook(original: Callable[..., Any]) -> Callable[..., Any]:
        def run(ctx: Any, kernel: str, *args: Any, **kw: Any) -> Any:
            if kw.get("upto") is None and not args:
                kind, put_back = "verify", []
            elif kw.get("jupyter_path"):
                kind, put_back = "packages", [_pin_text(p) for p in events.pins]
            elif kw.get("env"):
                kind = "hashseed" if "PYTHONHASHSEED" in kw["env"] else "threads"
                put_back = [f"{k}={'(unset)' if v is None else v}" for k, v in kw["env"].items()]
            else:
                kind, put_back = "same_seed_again", []
            events.started += 1
            events.emit(event="trial", n=events.started, kind=kind, put_back=put_back)
            return original(ctx, kernel, *args, **kw)

        return run

    def add_hook(original: Callable[..., Any]) -> Callable[..., Any]:
        def add(self: Any, *args: Any, **kw: Any) -> Any:
            result = original(self, *args, **kw)
            entries = getattr(self, "trials", None)
            if entries:
                events.emit(event="done", trial=entries[-1])
            return result

        return add

    def build_hook(original: Callable[..., Any]) -> Callable[..., Any]:
        def build(self: Any, pins: Any) -> Any:
            shown = ", ".join(_pin_text(p) for p in pins) or "nothing"
            events.emit(event="environment", text=f"preparing a trial environment with {shown}")
            env = original(self, pins)
            events.pins = tuple(getattr(env, "pins", pins))
            return env

        return build

    _wrap(trials, "run", run_hook)
    _wrap(core._Run, "add", add_hook)
    _wrap(trialenv.Builder, "build", build_hook)


def _watch_parent(parent: int) -> None:
    """Exit when the server that started us is gone (no orphaned explain keeps running kernels)."""
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(3)


def _write_result(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds: scratch stores and kernels are cleaned up on the way


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = Path(spec["result"])
    signal.signal(signal.SIGTERM, _terminate)
    parent = int(spec.get("parent") or os.getppid())
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()

    from ..errors import ReproError
    from ..explain import ExplainOptions, Sources, explain_notebook
    from ..verify import VerifyOptions

    events = Events(Path(spec["events"]))
    observe(events)
    options = ExplainOptions(
        verify=VerifyOptions(timeout=int(spec.get("timeout", 600))),
        sources=Sources(tuple(spec.get("find_links") or ()), spec.get("index_url")),
        max_trials=int(spec["max_trials"]),
    )
    try:
        report = explain_notebook(spec["path"], options)
    except ReproError as exc:
        _write_result(result, {"error": " ".join(str(exc).split())[:500]})
        return 2
    except Exception as exc:  # noqa: BLE001 - the Lab gets one line, never a traceback
        line = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        _write_result(result, {"error": f"explain failed: {line}"})
        return 2
    from ..redaction import redact_report

    _write_result(result, {"report": redact_report(report)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
