"""Seeing a cell's outputs from inside the kernel.

The kernel observes, so outputs are captured where they are produced: writes to
``sys.stdout``/``sys.stderr``, ``display_pub.publish`` calls (display data,
matplotlib figures) and the display hook (the execute result).  They are turned
into nbformat-shaped dicts so the same normaliser digests them as digests a saved
notebook; interactive and headless runs therefore record the same digests.
"""

from __future__ import annotations

import sys
import threading
from typing import Any


class _Tee:
    """A stream proxy that records text and forwards everything to the real stream."""

    def __init__(self, stream: Any, name: str, sink: OutputCapture) -> None:
        self._stream = stream
        self._name = name
        self._sink = sink

    def write(self, text: str) -> int:
        if (
            isinstance(text, str)
            and threading.current_thread() is self._sink.thread
            and not self._sink.in_displayhook
        ):
            self._sink.add({"output_type": "stream", "name": self._name, "text": text})
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class OutputCapture:
    """Context that collects nbformat-shaped outputs of the running cell."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.outputs: list[dict[str, Any]] = []
        self.thread = threading.current_thread()
        self.in_displayhook = False  # a terminal displayhook prints Out[n]: that is not a stream
        self._restore: list[tuple[Any, str, Any]] = []

    def add(self, output: dict[str, Any]) -> None:
        self.outputs.append(output)

    def _swap(self, owner: Any, name: str, value: Any) -> None:
        self._restore.append(
            (
                owner,
                name,
                owner.__dict__.get(name, _MISSING) if hasattr(owner, "__dict__") else getattr(owner, name),
            )
        )
        setattr(owner, name, value)

    def start(self) -> None:
        self._stdout, self._stderr = sys.stdout, sys.stderr
        sys.stdout = _Tee(sys.stdout, "stdout", self)  # type: ignore[assignment]
        sys.stderr = _Tee(sys.stderr, "stderr", self)  # type: ignore[assignment]
        pub = getattr(self.shell, "display_pub", None)
        if pub is not None:
            original_publish = pub.publish

            def publish(data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> Any:
                if threading.current_thread() is self.thread and not kwargs.get("update"):
                    self.add({"output_type": "display_data", "data": dict(data or {})})
                return original_publish(data, metadata, *args, **kwargs)

            self._swap(pub, "publish", publish)
        hook = getattr(self.shell, "displayhook", None)
        if hook is not None and hasattr(hook, "write_format_data"):
            original_write = hook.write_format_data
            original_start = getattr(hook, "start_displayhook", None)
            original_finish = getattr(hook, "finish_displayhook", None)

            def write_format_data(format_dict: Any, md_dict: Any = None) -> Any:
                self.add({"output_type": "execute_result", "data": dict(format_dict or {})})
                return original_write(format_dict, md_dict)

            def start_displayhook() -> Any:
                self.in_displayhook = True
                return original_start() if original_start else None

            def finish_displayhook() -> Any:
                try:
                    return original_finish() if original_finish else None
                finally:
                    self.in_displayhook = False

            self._swap(hook, "write_format_data", write_format_data)
            self._swap(hook, "start_displayhook", start_displayhook)
            self._swap(hook, "finish_displayhook", finish_displayhook)

    def stop(self) -> list[dict[str, Any]]:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        if isinstance(sys.stdout, _Tee):
            sys.stdout = self._stdout
        if isinstance(sys.stderr, _Tee):
            sys.stderr = self._stderr
        for owner, name, previous in reversed(self._restore):
            if previous is _MISSING:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
            else:
                setattr(owner, name, previous)
        self._restore.clear()
        return self.outputs

    def add_error(self, error: BaseException | None) -> None:
        if error is not None:
            self.add({"output_type": "error", "ename": type(error).__name__, "evalue": str(error)})


_MISSING = object()
