"""Headless execution with recording: ``jupyter repro run``.

nbclient sends execute requests without the ``cellId`` that JupyterLab puts in
their metadata, so the kernel client's ``execute`` is wrapped to add it: the
kernel then keys cells exactly as it does under Lab.  Recording is switched on
by a silent setup request (no output, no execution count), whether or not the
notebook loads the extension, and the metadata is fetched once at the end
through ``user_expressions``.
"""

from __future__ import annotations

import os
import queue
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from .compare.normalize import coalesce_streams
from .errors import ExecutionError
from .headless_marks import apply_metadata, expected_errors, mark_not_run
from .kernel_process import close_kernel_log, kernel_for, kernel_log
from .notebook_io import read_notebook
from .numbering import cell_label
from .runner_protocol import LOAD_LINE, RUNNER_TARGET, reply_type
from .schema import METADATA_KEY
from .seeding import kernel_env

# Our own set-up and metadata requests are not the notebook's cells: ``--timeout`` is for those.  A cold
# kernel importing the tool on a busy machine can take seconds; a short --timeout must not fail it.
SILENT_TIMEOUT = 120


class ReproNotebookClient(NotebookClient):
    """NotebookClient that sends ``cellId`` with each execute request and switches recording on."""

    def __init__(
        self,
        nb: Any,
        *,
        notebook_path: Path,
        seed: int | None,
        deterministic: bool,
        excludes: tuple[str, ...] = (),
        record: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("record_timing", False)
        self._repro_record = record
        super().__init__(nb, **kwargs)
        self._repro_path = notebook_path
        self._repro_seed = seed
        self._repro_deterministic = deterministic
        self._repro_excludes = excludes
        self._current_cell_id: str | None = None
        self.repro_metadata: dict[str, Any] | None = None
        self.repro_fetch_error: str | None = None
        self.repro_current_index: int | None = None
        self.repro_ipc_dir: str | None = None
        self.repro_kernel_log: Any = None  # an open file for the kernel's stderr (None: inherit ours)
        self.repro_expected_errors: dict[int, set[str]] = {}  # cell index -> error names the file shows
        self.repro_expected_raised: list[tuple[int, str]] = []

    def create_kernel_manager(self) -> Any:
        """Local kernels talk over IPC sockets where the platform has them: nothing listens on TCP, and
        ipykernel has no reason to warn about unencrypted TCP on every headless command."""
        km = super().create_kernel_manager()
        if os.name == "posix" and hasattr(km, "transport"):
            import tempfile

            # an absolute socket prefix: the kernel runs in the notebook's folder, we may not
            self.repro_ipc_dir = tempfile.mkdtemp(prefix="repro-ipc-")
            km.transport = "ipc"
            km.ip = os.path.join(self.repro_ipc_dir, "kernel")
        return km

    async def _silent(self, code: str) -> None:
        """Run our fixed set-up line silently (no output, no execution count, no history)."""
        assert self.kc is not None
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        cell_timeout, self.timeout = self.timeout, SILENT_TIMEOUT
        try:
            reply = await self.async_wait_for_reply(msg_id)
        except (AssertionError, TimeoutError) as exc:  # nbclient asserts a cell on timeouts
            raise ExecutionError(
                f"the kernel did not answer repro's set-up within {SILENT_TIMEOUT}s ({type(exc).__name__})"
            ) from None
        finally:
            self.timeout = cell_timeout
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise ExecutionError(
                f"repro setup failed in the kernel: {content.get('ename')}: {content.get('evalue')}"
            )

    async def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        """One runner request (``repro_jupyter.kernel_runner``): open a comm on its target with the request
        as data, wait for the one reply.  Arguments travel as JSON, never as source code."""
        assert self.kc is not None
        kc: Any = self.kc  # nbclient's async client: get_iopub_msg is a coroutine there
        comm_id = uuid.uuid4().hex
        kind = request["type"]
        kc.shell_channel.send(
            kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": RUNNER_TARGET, "data": request})
        )
        deadline = time.monotonic() + SILENT_TIMEOUT
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(kc.get_iopub_msg(timeout=1))
            except queue.Empty:
                await self._async_check_alive()  # a dead kernel fails now, not after the timeout
                continue
            content = msg.get("content") or {}
            if content.get("comm_id") != comm_id:
                continue  # the end of a cell before (an idle status, a late stream): not ours
            if msg["header"]["msg_type"] == "comm_msg":
                reply = content.get("data") or {}
                if reply.get("type") != reply_type(kind):
                    raise ExecutionError(f"repro {kind}: the kernel answered {str(reply.get('type'))[:60]!r}")
                if not reply.get("ok"):
                    raise ExecutionError(f"repro {kind} failed in the kernel: {reply.get('error')}")
                return dict(reply)
            if msg["header"]["msg_type"] == "comm_close":
                raise ExecutionError(f"repro {kind}: the kernel has no {RUNNER_TARGET} comm target")
        raise ExecutionError(f"the kernel did not answer repro's {kind} within {SILENT_TIMEOUT}s")

    def _wrap_execute(self) -> None:
        assert self.kc is not None
        kc = self.kc
        session = kc.session
        original = kc.execute

        def execute(
            code: str,
            silent: bool = False,
            store_history: bool = True,
            user_expressions: dict[str, Any] | None = None,
            allow_stdin: bool | None = None,
            stop_on_error: bool = True,
        ) -> str:
            if silent or self._current_cell_id is None:
                return original(
                    code,
                    silent=silent,
                    store_history=store_history,
                    user_expressions=user_expressions,
                    allow_stdin=allow_stdin,
                    stop_on_error=stop_on_error,
                )
            content = dict(
                code=code,
                silent=silent,
                store_history=store_history,
                user_expressions=user_expressions or {},
                allow_stdin=kc.allow_stdin if allow_stdin is None else allow_stdin,
                stop_on_error=stop_on_error,
            )
            msg = session.msg("execute_request", content)
            msg["metadata"]["cellId"] = self._current_cell_id  # what JupyterLab sends
            kc.shell_channel.send(msg)
            return msg["header"]["msg_id"]

        kc.execute = execute  # type: ignore[method-assign]

    async def _check_raise_for_error(self, cell: Any, cell_index: int, exec_reply: Any) -> None:
        """A cell that raises the error its saved output already shows is a lesson, not a failure.

        Teaching notebooks raise on purpose (``1/0`` to show ZeroDivisionError): recording them must
        not need a flag.  Only the same error name in the same cell passes; a new error still fails.
        """
        content = (exec_reply or {}).get("content", {})
        allowed = self.repro_expected_errors.get(cell_index, set())
        if content.get("status") == "error" and (content.get("ename") in allowed or "*" in allowed):
            self.repro_expected_raised.append((cell_index, str(content.get("ename"))))
            return None
        return await super()._check_raise_for_error(cell, cell_index, exec_reply)

    async def async_execute_cell(
        self, cell: Any, cell_index: int, execution_count: int | None = None, store_history: bool = True
    ) -> Any:
        """Merge consecutive same-name streams as JupyterLab does, so the saved file does not depend on
        how the kernel happened to flush stdout under load (one print, one or two outputs).

        A cell marked to be skipped (nbval's ``# NBVAL_SKIP``, tags ``nbval-skip``, ``skip-execution``,
        ``repro-skip``) is not executed, as nbval and nbmake do: it keeps what the file shows.
        """
        from .compare.rules import cell_control

        if cell.get("cell_type") == "code" and cell_control(cell).skip:
            return cell
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.get("outputs") and len(cell.outputs) > 1:
            cell.outputs = [nbformat.from_dict(out) for out in coalesce_streams(cell.outputs)]
        return cell

    async def async_execute(self, reset_kc: bool = False, **kwargs: Any) -> Any:
        """nbclient's run in a kernel started with ``kernel_env``; when recording, it loads the extension and
        configures headless mode first and reads the kernel's metadata (``repro_metadata``) at the end."""
        if reset_kc and self.owns_km:
            await self._async_cleanup_kernel()
        self.reset_execution_trackers()
        if self.repro_kernel_log is not None:  # the kernel's own stderr (ipykernel's log lines) goes here
            kwargs.setdefault("stderr", self.repro_kernel_log)
        # PYTHONHASHSEED fixed (set order of strings reproduces), CUBLAS_WORKSPACE_CONFIG before CUDA
        kwargs.setdefault("env", kernel_env(self._repro_deterministic))
        async with self.async_setup_kernel(**kwargs):
            assert self.kc is not None
            self._wrap_execute()
            if self._repro_record:
                await self._silent(LOAD_LINE)
                await self._request(
                    {
                        "type": "configure_headless",
                        "notebook": str(self._repro_path),
                        "seed": self._repro_seed,
                        "deterministic": self._repro_deterministic,
                        "excludes": list(self._repro_excludes),
                    }
                )
            msg_id = await ensure_async(self.kc.kernel_info())
            info_msg = await self.async_wait_for_reply(msg_id)
            if info_msg is not None and "language_info" in info_msg["content"]:
                self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
            self.repro_expected_errors = expected_errors(self.nb)
            try:
                for index, cell in enumerate(self.nb.cells):
                    self._current_cell_id = cell.get("id")
                    self.repro_current_index = index
                    await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
            finally:
                self._current_cell_id = None
                try:
                    if not self._repro_record:
                        raise LookupError("recording off")
                    reply = await self._request({"type": "headless_metadata"})
                    self.repro_metadata = {k: reply.get(k) for k in ("cells", "notebook", "problems")}
                except Exception as exc:
                    self.repro_metadata = None
                    self.repro_fetch_error = f"{type(exc).__name__}: {exc}"
            self.set_widgets_metadata()
        return self.nb

    execute = run_sync(async_execute)


def run_notebook(
    source: Path,
    output: Path,
    *,
    seed: int | None = None,
    deterministic: bool = False,
    timeout: int | None = 600,
    kernel_name: str | None = None,
    allow_errors: bool = False,
    nb: Any = None,
    record: bool = True,
    **client_kwargs: Any,
) -> tuple[Any, dict[str, Any] | None, str | None]:
    """Execute ``source`` (or the already-read ``nb``) with recording; return (nb, metadata, failure).

    The store and the kernel's idea of "the notebook" follow ``output``; the kernel's
    working directory is the source's folder, as papermill does.  Extra keyword
    arguments go to the nbclient client (e.g. ``on_cell_executed`` hooks).
    """
    nb = read_notebook(source) if nb is None else nb
    if seed is None:
        recorded = nb.metadata.get(METADATA_KEY, {}).get("master_seed")
        seed = recorded if isinstance(recorded, int) else None
    excludes = tuple(sorted({source.name} - {output.name}))
    kernel = kernel_name or kernel_for(nb, source)
    client = ReproNotebookClient(
        nb,
        notebook_path=output.resolve(),
        seed=seed,
        deterministic=deterministic,
        excludes=excludes,
        timeout=timeout,
        kernel_name=kernel,
        allow_errors=allow_errors,
        record=record,
        resources={"metadata": {"path": str(source.parent.resolve())}},
        **client_kwargs,
    )
    failure = None
    # The kernel starts with a fixed PYTHONHASHSEED (seeding.kernel_env, recorded in every cell's
    # deterministic_settings and the environment's env_vars): record and verify iterate a set of
    # strings in the same order.  An interactive kernel started by Jupyter keeps its random one.
    stopped_at: int | None = None  # the first cell that did not run to its end
    log = kernel_log()
    client.repro_kernel_log = log
    try:
        client.execute()
    except CellExecutionError as exc:
        index = client.repro_current_index
        where = cell_label(index) if index is not None else "a cell"
        ename, evalue = exc.ename, str(exc.evalue)
        if ename in (None, "None", "NoneType") and index is not None:  # a display hook failed: see outputs
            shown = [o for o in nb.cells[index].get("outputs", []) if o.get("output_type") == "error"]
            if shown:
                ename, evalue = shown[0].get("ename"), str(shown[0].get("evalue"))
        failure = f"{where} raised {ename}: {_first_line(evalue)}"
        stopped_at = None if index is None else index + 1
    except CellTimeoutError:
        where = cell_label(client.repro_current_index) if client.repro_current_index is not None else "a cell"
        failure = f"{where} ran longer than the {timeout}s timeout and was interrupted"
        stopped_at = client.repro_current_index
    except DeadKernelError:
        failure = "the kernel died while executing the notebook"
        stopped_at = client.repro_current_index
    except ExecutionError:
        raise
    except Exception as exc:  # e.g. NoSuchKernel
        raise ExecutionError(
            f"could not execute {source.name}: {type(exc).__name__}: {_first_line(str(exc))}"
        ) from None
    finally:
        log_tail = close_kernel_log(log, keep=failure is not None)
        if client.repro_ipc_dir:
            import shutil

            shutil.rmtree(client.repro_ipc_dir, ignore_errors=True)
    if failure and log_tail:
        failure += f" (kernel log: {log_tail})"
    if record and client.repro_metadata is None:
        # The kernel's records never reached us (it died after the last cell, the request failed or
        # timed out): no earlier run's pointer may stay to vouch for these outputs.
        apply_metadata(nb, {"cells": {}})
        failure = failure or (
            f"the kernel's records could not be fetched ({client.repro_fetch_error or 'no answer'}); "
            "no cell is marked recorded"
        )
    apply_metadata(nb, client.repro_metadata)
    if client.repro_metadata is not None and client.repro_expected_raised:
        client.repro_metadata["expected_errors"] = client.repro_expected_raised
    if stopped_at is not None:
        mark_not_run(nb, stopped_at)
    return nb, client.repro_metadata, failure


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):  # nbclient puts the exception line last
        if not ln.startswith((" ", "-", "\x1b")):
            return ln.strip()[:300]
    return lines[-1].strip()[:300] if lines else ""
