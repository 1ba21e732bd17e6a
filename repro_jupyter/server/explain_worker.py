"""The process one Lab "Find the cause" job runs in: ``python -m repro_jupyter.server.explain_worker SPEC``.

Explain takes minutes and starts kernels and uv; in a process of its own it never holds the
server's event loop or GIL, and cancelling is ending the process (kernels notice their parent
is gone through ``JPY_PARENT_PID`` and exit).  ``SPEC`` is a JSON file: ``path``,
``find_links``, ``index_url``, ``max_trials``, ``events`` (where progress goes, JSON lines)
and ``result`` (written once at the end, atomically: ``{"report": ...}`` or ``{"error": line}``).

Progress comes from explain's own callback (``ExplainOptions.on_event``): a trial starting, its
report entry as it ends, a trial environment being prepared.  Progress lines are for the person
watching; the final report is what the Lab shows as the result.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

PARENT_POLL_S = 2.0


class Events:
    """Progress as JSON lines, flushed at once (the server reads the file while we run)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
        self._lock = threading.Lock()
        self.started = 0  # trials announced so far

    def emit(self, **event: Any) -> None:
        """Append ``event`` with a timestamp as one JSON line and flush
        at once, under a lock, so the polling server sees whole lines."""
        event["time"] = round(time.time(), 3)
        with self._lock:
            self._file.write(json.dumps(event) + "\n")
            self._file.flush()


def progress(events: Events) -> Any:
    """``ExplainOptions.on_event``: each event as a JSON line; a trial gets its number here."""

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "trial":
            events.started += 1
            event = {**event, "n": events.started}
        events.emit(**event)

    return on_event


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
    """Run the job in ``argv[0]`` (the spec file) and write its result: 0 with a
    report, 2 with an error line; exits on SIGTERM or when the server dies."""
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = Path(spec["result"])
    signal.signal(signal.SIGTERM, _terminate)
    parent = int(spec.get("parent") or os.getppid())
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()

    from ..errors import ReproError
    from ..explain import ExplainOptions, Sources, explain_notebook
    from ..verify import VerifyOptions

    events = Events(Path(spec["events"]))
    options = ExplainOptions(
        on_event=progress(events),
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
