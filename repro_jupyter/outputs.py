"""Seeing a cell's outputs from inside the kernel: what Jupyter receives, built the way Jupyter saves it.

A cell's outputs are captured once, as the notebook will hold them, so the record's output digests can
stand in for a saved notebook's outputs (a file saved without outputs is verified against them):

- In a Jupyter kernel (ipykernel) every output leaves through the kernel's ``Session`` on IOPub: prints,
  C-level and subprocess writes (ipykernel forwards the file descriptors), other threads, displays,
  the execute result, tracebacks (also those raised while formatting a display), ``clear_output``,
  ``update_display``.  ``IopubOutputs`` observes the messages sent for the cell's own execute request
  and applies nbclient's rules to them, so the digests are those of the outputs Jupyter saves.
- Without a kernel session (plain ``InteractiveShell``: terminal IPython, in-process tests) there is
  no IOPub; a tee on ``sys.stdout``/``sys.stderr``, ``display_pub.publish`` and the display hook sees
  what the cell's thread writes through Python.

Neither can see an output that arrives after the record is built (a thread printing after the cell
returned, bytes still in ipykernel's pipe, a later cell's ``update_display``): verify checks each new
record against the outputs Jupyter saved and says "unverified" where they differ (``compare/cell.py``).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

OUTPUT_MESSAGES = frozenset(
    {"stream", "display_data", "execute_result", "error", "clear_output", "update_display_data"}
)


def output_from_content(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """An IOPub message's content as nbformat's ``output_from_msg`` shapes it (the kernel never imports
    nbformat: loading the extension must stay cheap)."""
    if kind == "stream":
        return {
            "output_type": "stream",
            "name": content.get("name", "stdout"),
            "text": content.get("text", ""),
        }
    if kind == "error":
        return {
            "output_type": "error",
            "ename": content.get("ename", ""),
            "evalue": content.get("evalue", ""),
            "traceback": list(content.get("traceback") or []),
        }
    output = {
        "output_type": kind,
        "data": dict(content.get("data") or {}),
        "metadata": content.get("metadata") or {},
    }
    if kind == "execute_result":
        output["execution_count"] = content.get("execution_count")
    return output


class IopubOutputs:
    """The outputs of one execute request, built from the IOPub messages sent for it as nbclient
    builds a cell's outputs: ``clear_output`` (``wait=True`` clears before the next output), and a
    display id updates the outputs of this cell that carry it."""

    def __init__(self, parent_id: str) -> None:
        self.parent_id = parent_id
        self.outputs: list[dict[str, Any]] = []
        self._display_ids: dict[str, list[int]] = {}
        self._clear_pending = False
        # Output widgets capturing now (comm id -> the request whose outputs they take): ``with out:``
        # sets the widget's ``msg_id`` and Jupyter (Lab, nbclient) then routes that request's outputs
        # into the widget, not into the cell
        self._widgets: dict[str, str] = {}
        self._lock = threading.Lock()  # stream messages are sent from ipykernel's IOPub thread

    def observe(self, msg: Any) -> None:
        """Take one sent message into account (any other message, or another cell's, is ignored)."""
        if not isinstance(msg, dict):
            return
        kind = (msg.get("header") or {}).get("msg_type") or msg.get("msg_type")
        content = msg.get("content")
        content = content if isinstance(content, dict) else {}
        if kind in ("comm_open", "comm_msg"):
            with self._lock:
                self._follow_output_widget(content)
            return
        if kind not in OUTPUT_MESSAGES or (msg.get("parent_header") or {}).get("msg_id") != self.parent_id:
            return
        with self._lock:
            if kind != "update_display_data" and self.parent_id in self._widgets.values():
                return  # an Output widget takes it (nbclient's output hook, Lab's widget manager)
            self._apply(kind, content)

    def _follow_output_widget(self, content: dict[str, Any]) -> None:
        data = content.get("data")
        state = data.get("state") if isinstance(data, dict) else None
        comm_id = content.get("comm_id")
        if not isinstance(state, dict) or "msg_id" not in state or not isinstance(comm_id, str):
            return  # only the Output widget's model has a msg_id
        if state["msg_id"]:
            self._widgets[comm_id] = str(state["msg_id"])
        else:
            self._widgets.pop(comm_id, None)

    def _apply(self, kind: str, content: dict[str, Any]) -> None:
        if kind == "clear_output":
            if content.get("wait"):
                self._clear_pending = True
            else:
                self._clear()
            return
        transient = content.get("transient")
        display_id = transient.get("display_id") if isinstance(transient, dict) else None
        if display_id and kind in ("display_data", "execute_result", "update_display_data"):
            for index in self._display_ids.get(display_id, []):
                self.outputs[index]["data"] = dict(content.get("data") or {})
                self.outputs[index]["metadata"] = content.get("metadata") or {}
        if kind == "update_display_data":
            return
        if self._clear_pending:
            self._clear()
        if display_id:
            self._display_ids.setdefault(display_id, []).append(len(self.outputs))
        self.outputs.append(output_from_content(kind, content))

    def _clear(self) -> None:
        self.outputs.clear()
        self._display_ids.clear()
        self._clear_pending = False


def _kernel_session(shell: Any) -> tuple[Any, str] | None:
    """The kernel's Session and the msg_id of the execute request now running, when there is one."""
    session = getattr(getattr(shell, "kernel", None), "session", None)
    parent = getattr(shell, "parent_header", None)
    parent_id = parent.get("msg_id") if isinstance(parent, dict) else None
    if session is None or not callable(getattr(session, "send", None)) or not parent_id:
        return None
    return session, str(parent_id)


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
    """Context that collects nbformat-shaped outputs of the running cell: from IOPub in a Jupyter
    kernel, from a tee in a plain shell (``mode`` says which)."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.outputs: list[dict[str, Any]] = []
        self.thread = threading.current_thread()
        self.in_displayhook = False  # a terminal displayhook prints Out[n]: that is not a stream
        self.mode = "tee"
        self._iopub: IopubOutputs | None = None
        self._restore: list[tuple[Any, str, Any, Any]] = []

    def add(self, output: dict[str, Any]) -> None:
        """Append one nbformat-shaped output (the tee's; in a kernel the outputs come from IOPub)."""
        self.outputs.append(output)

    def _swap(self, owner: Any, name: str, value: Any) -> None:
        previous = owner.__dict__.get(name, _MISSING) if hasattr(owner, "__dict__") else getattr(owner, name)
        self._restore.append((owner, name, previous, value))
        setattr(owner, name, value)

    def start(self) -> None:
        """Begin observing: IOPub in a Jupyter kernel running a request, else the tee."""
        kernel = _kernel_session(self.shell)
        if kernel is not None:
            self._start_iopub(*kernel)
        else:
            self._start_tee()

    def _start_iopub(self, session: Any, parent_id: str) -> None:
        self.mode = "iopub"
        self._iopub = sink = IopubOutputs(parent_id)
        original_send = session.send

        def send(*args: Any, **kwargs: Any) -> Any:
            msg = original_send(*args, **kwargs)
            if self._iopub is sink:  # detached at stop, also if another wrapper kept us in the chain
                try:
                    sink.observe(msg)
                except Exception:  # observing must never break the kernel's messaging
                    pass
            return msg

        self._swap(session, "send", send)

    def _start_tee(self) -> None:
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
        """Flush the streams (in a kernel: until their messages are sent), stop observing, and return
        the outputs."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        if self._iopub is not None:
            with self._iopub._lock:
                self.outputs = [dict(o) for o in self._iopub.outputs]
            self._iopub = None
        if isinstance(sys.stdout, _Tee):
            sys.stdout = self._stdout
        if isinstance(sys.stderr, _Tee):
            sys.stderr = self._stderr
        for owner, name, previous, ours in reversed(self._restore):
            if getattr(owner, name, None) is not ours:
                continue  # wrapped again since: keep the newer wrapper (ours is then a pass-through)
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
        """The cell's exception as an error output; in a kernel its traceback message already is one."""
        if error is not None and self.mode == "tee":
            self.add({"output_type": "error", "ename": type(error).__name__, "evalue": str(error)})


_MISSING = object()
