"""A kernel of any Python driven cell by cell as JupyterLab drives it (``cellId`` in each request),
each cell timed: what ``kishu_compare`` runs both tools' notebooks through."""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path
from typing import Any


class Kernel:
    """One kernel of ``python`` in ``folder``, cells sent as JupyterLab sends them (with ``cellId``)."""

    def __init__(self, python: str, folder: Path, env: dict[str, str]) -> None:
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        specs = folder.parent / f"kernels-{folder.name}"
        (specs / "bench").mkdir(parents=True, exist_ok=True)
        argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (specs / "bench" / "kernel.json").write_text(
            __import__("json").dumps({"argv": argv, "display_name": "bench", "language": "python"})
        )
        self.km = KernelManager(
            kernel_name="bench", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)])
        )
        self.km.transport, self.km.ip = "ipc", str(specs / "ipc")  # local sockets: nothing on TCP
        # Kishu reads its kernel id from the connection file's name, as Jupyter Server names it
        self.km.connection_file = str(specs / f"kernel-{__import__('uuid').uuid4()}.json")
        self.km.start_kernel(cwd=str(folder), env={**os.environ, **env})
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def run(self, code: str, cell_id: str | None = None, timeout: float = 600) -> dict[str, Any]:
        """Execute one cell; its wall time until the reply, its stdout, its error (if any)."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = self.kc.session.msg("execute_request", content)
        if cell_id is not None:
            msg["metadata"]["cellId"] = cell_id
        start = time.perf_counter()
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        seconds = time.perf_counter() - start
        stdout, error = [], None
        while True:  # everything the cell printed, up to its idle status
            try:
                out = self.kc.get_iopub_msg(timeout=30)
            except queue.Empty:
                break
            if out["parent_header"].get("msg_id") != msg_id:
                continue
            kind, body = out["msg_type"], out["content"]
            if kind == "stream":
                stdout.append(body["text"])
            elif kind == "error":
                error = f"{body['ename']}: {body['evalue']}"
            elif kind == "status" and body["execution_state"] == "idle":
                break
        if reply["content"].get("status") != "ok" and error is None:
            error = f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
        return {"s": seconds, "stdout": "".join(stdout), "error": error}

    def value(self, expression: str) -> str:
        """``repr`` of an expression, read silently (no cell: neither tool records or commits it)."""
        msg_id = self.kc.execute("", silent=True, user_expressions={"v": expression})
        while True:
            reply = self.kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        value = reply["content"]["user_expressions"]["v"]
        if value.get("status") != "ok":
            raise RuntimeError(f"{expression}: {value.get('ename')}: {value.get('evalue')}")
        return value["data"]["text/plain"]

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
