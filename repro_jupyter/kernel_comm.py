"""The kernel end of the ``repro_jupyter`` comm.

The kernel opens the comm (so it works whatever the load order), announces
itself, and sends each cell's metadata; the frontend writes it into the open
notebook, being the only writer of an open notebook's metadata.  The frontend
answers with the notebook's saved ``repro_jupyter`` metadata so an unsaved
master seed chosen in the UI is honoured.

Messages (all JSON objects with a ``type``); the contract is ``schema/messages.v1.json`` (its
``$defs`` named below; the frontend's types are generated from it, and tests/test_message_contract.py
validates what a real kernel sends against it):
  kernel -> frontend: hello {version, schema_version, sends} helloMessage (the comm_open's data)
                      cell_recorded {cell_id, cell_metadata, notebook_metadata}
                                                             cellRecordedMessage
                      record_written {cell_id, record, ok}   recordWrittenMessage (the record is on
                                                             disk: sent from the store writer's thread)
                      notebook_metadata {notebook_metadata}  notebookMetadataMessage
                      environment {digest}                   environmentMessage (answer to
                                                             environment_request; digest null: no store)
  frontend -> kernel: notebook {metadata}                    notebookMessage
                      environment_request                    environmentRequestMessage
The runners' requests and replies (comm target ``repro_jupyter.runner``) are in the same file.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .schema import METADATA_KEY, SCHEMA_VERSION

TARGET = METADATA_KEY


class KernelComm:
    """The kernel end of the ``repro_jupyter`` comm; with no frontend to talk to (plain IPython, a
    headless run) every send is dropped and recording goes on."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.comm: Any = None
        self.frontend_seen = False  # our lab extension answered; without it %repro status shows a widget

    def open(self) -> bool:
        """Open the comm with ``hello`` and follow the session's records; False where there are no comms."""
        try:
            from comm import create_comm

            self.comm = create_comm(
                target_name=TARGET,
                data={
                    "type": "hello",
                    "version": __version__,
                    "schema_version": SCHEMA_VERSION,
                    "sends": ["record_written"],
                },
            )
        except Exception:  # plain IPython, or a frontend without comms: stay headless
            self.comm = None
            return False
        self.comm.on_msg(self._on_msg)
        self.session.on_recorded.append(self.send_cell)
        self.session.on_written.append(self.send_written)
        return True

    def close(self) -> None:
        """Stop following the session and close the comm; safe to call twice."""
        if self.send_cell in self.session.on_recorded:
            self.session.on_recorded.remove(self.send_cell)
        if self.send_written in self.session.on_written:
            self.session.on_written.remove(self.send_written)
        if self.comm is not None:
            try:
                self.comm.close()
            except Exception:
                pass
            self.comm = None

    def _on_msg(self, msg: dict[str, Any]) -> None:
        data = (msg.get("content") or {}).get("data") or {}
        if data.get("type") == "environment_request":
            self.send({"type": "environment", "digest": self.session.durable_environment()})
            return
        self.frontend_seen = True
        if data.get("type") == "notebook":
            meta = data.get("metadata") or {}
            seed = meta.get("master_seed") if isinstance(meta, dict) else None
            if (
                isinstance(seed, int)
                and seed >= 0
                and self.session.master_seed_source in ("unset", "generated", "notebook")
                and not self.session.cell_metadata
            ):
                self.session.set_master_seed(seed, "notebook")

    def send(self, data: dict[str, Any]) -> None:
        """Send one message if the comm is open, else drop it (headless: nobody listens)."""
        if self.comm is not None:
            self.comm.send(data)

    def send_cell(self, cell_key: str, cell_meta: dict[str, Any], nb_meta: dict[str, Any]) -> None:
        """``cell_recorded``: the cell's and the notebook's metadata for the frontend to write verbatim
        (``cell_id`` null for a cell keyed by its source: it had no nbformat id)."""
        self.send(
            {
                "type": "cell_recorded",
                "cell_id": None if cell_key.startswith("src:") else cell_key,
                "cell_metadata": cell_meta,
                "notebook_metadata": nb_meta,
            }
        )

    def send_written(self, cell_key: str, record_digest: str, ok: bool) -> None:
        """``record_written``: the record ``cell_recorded`` named is on disk (``ok``) or will not be.
        Sent from the store writer's thread (ipykernel's iopub socket is thread-safe); the panel asks
        the server for a cell's record only after this, so the server never reads a record mid-write."""
        self.send(
            {
                "type": "record_written",
                "cell_id": None if cell_key.startswith("src:") else cell_key,
                "record": record_digest,
                "ok": ok,
            }
        )

    def send_notebook_metadata(self) -> None:
        """``notebook_metadata``: the notebook-level metadata now (after ``%repro seed`` and the like)."""
        self.send({"type": "notebook_metadata", "notebook_metadata": self.session.notebook_metadata()})
