"""The comm messages are the contract: what a real kernel sends on ``repro_jupyter`` (hello,
notebook_metadata, cell_recorded, environment) and answers on ``repro_jupyter.runner`` validates
against ``messages.v1.json``, the file the frontend's types are generated from.

The kernel is driven as the Lab extension and the runners drive it: comm messages on the shell
channel, everything the kernel sends read off iopub.  Each check can fail: a captured message with a
required field removed must be rejected.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jupyter_client.manager import start_new_kernel

from repro_jupyter import kernel_comm, schema

from .conftest import make_notebook

TARGETS = schema.load_messages_schema()["x-comm-targets"]
ENVELOPES = {  # kernel -> frontend comm_msg type -> its definition
    "cell_recorded": "cellRecordedMessage",
    "record_written": "recordWrittenMessage",
    "notebook_metadata": "notebookMetadataMessage",
    "environment": "environmentMessage",
}


class Wire:
    """A real kernel seen from the frontend's side of the wire."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.opened: list[dict[str, Any]] = []  # comm_open contents the kernel sent
        self.messages: list[dict[str, Any]] = []  # comm_msg contents the kernel sent

    def _send(self, kind: str, content: dict[str, Any], metadata: dict[str, Any] | None = None) -> list:
        """Send one shell message; collect what the kernel publishes for it until it is idle."""
        msg = self.client.session.msg(kind, content, metadata=metadata or {})
        self.client.shell_channel.send(msg)
        seen = []
        while True:
            out = self.client.get_iopub_msg(timeout=120)
            if out["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                if out["msg_type"] == "comm_msg":  # record_written: sent by the store writer's thread
                    self.messages.append(out["content"])
                continue
            kind_out = out["msg_type"]
            if kind_out == "status" and out["content"]["execution_state"] == "idle":
                return seen
            if kind_out == "error":
                raise AssertionError(f"{out['content']['ename']}: {out['content']['evalue']}")
            if kind_out == "comm_open":
                self.opened.append(out["content"])
            elif kind_out == "comm_msg":
                self.messages.append(out["content"])
            seen.append(out)

    def execute(self, code: str, cell_id: str | None = None) -> list:
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}}
        return self._send("execute_request", content, {"cellId": cell_id} if cell_id else None)

    def comm_msg(self, comm_id: str, data: dict[str, Any]) -> list:
        return self._send("comm_msg", {"comm_id": comm_id, "data": data})

    def request(self, data: dict[str, Any]) -> dict[str, Any]:
        """One runner request as the data of a comm_open: its one reply (the comm then closes)."""
        comm_id = uuid.uuid4().hex
        seen = self._send("comm_open", {"comm_id": comm_id, "target_name": TARGETS["runner"], "data": data})
        ours = [m for m in seen if m["content"].get("comm_id") == comm_id]
        replies = [m["content"]["data"] for m in ours if m["msg_type"] == "comm_msg"]
        assert [m["msg_type"] for m in ours] == ["comm_msg", "comm_close"], ours
        return replies[0]


@contextmanager
def kernel(folder: Path, notebook: Path):
    env = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
    env["JPY_SESSION_NAME"] = str(notebook)  # as Jupyter Server names the notebook
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(folder), env=env)
    try:
        yield Wire(kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def holds(definition: str, value: dict[str, Any], drop: str) -> None:
    """``value`` keeps the contract and the same value without ``drop`` breaks it."""
    schema.validate_message(definition, value)
    with pytest.raises(jsonschema.ValidationError):
        schema.validate_message(definition, {k: v for k, v in value.items() if k != drop})


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_schema_is_well_formed_and_every_ref_resolves():
    messages = schema.load_messages_schema()
    jsonschema.Draft202012Validator.check_schema(messages)
    files = {"": messages, "record.v1.json": schema.load_schema()}
    refs = set(_refs(messages))
    assert any(r.startswith("record.v1.json#") for r in refs) and any(r.startswith("#/") for r in refs)
    for ref in refs:
        document, _, pointer = ref.partition("#")
        node = files[document]
        for part in pointer.strip("/").split("/"):
            node = node[part]  # a KeyError names a $ref that points nowhere
        assert isinstance(node, dict), ref


def test_the_comm_targets_are_the_schemas():
    assert kernel_comm.TARGET == TARGETS["kernel"]
    runner_protocol = pytest.importorskip("repro_jupyter.runner_protocol")
    assert runner_protocol.RUNNER_TARGET == TARGETS["runner"]


def test_every_message_the_kernel_sends_on_its_comm(tmp_path):
    """hello, notebook_metadata, cell_recorded, record_written and environment, as a real kernel sends
    them while the frontend answers hello with the notebook's metadata and asks for the environment."""
    nb = make_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    with kernel(tmp_path, nb) as k:
        k.execute("%load_ext repro_jupyter\n%repro on")
        (hello,) = [o for o in k.opened if o["target_name"] == TARGETS["kernel"]]
        holds("helloMessage", hello["data"], drop="schema_version")
        assert hello["data"]["sends"] == ["record_written"]  # the frontend waits for it only if said
        comm_id = hello["comm_id"]

        notebook = {"type": "notebook", "metadata": {"schema_version": 1, "master_seed": 77}}
        schema.validate_message("frontendCommMessage", notebook)  # what comm.ts's notebookMessage sends
        k.comm_msg(comm_id, notebook)
        k.execute("import random\nv = random.random()", cell_id="cell-a")
        k.execute("w = v * 2")  # a cell without an id: cell_id null
        k.comm_msg(comm_id, {"type": "environment_request"})

        sent = [m["data"] for m in k.messages if m["comm_id"] == comm_id]
        assert {m["type"] for m in sent} == set(ENVELOPES), sent
        for message in sent:
            schema.validate_message("kernelCommMessage", message)
            schema.validate_message(ENVELOPES[message["type"]], message)
        recorded = [m for m in sent if m["type"] == "cell_recorded"]
        assert [m["cell_id"] for m in recorded] == ["cell-a", None]
        assert recorded[0]["notebook_metadata"]["master_seed"] == 77  # the frontend's seed was taken
        holds("cellRecordedMessage", recorded[0], drop="notebook_metadata")
        (environment,) = [m for m in sent if m["type"] == "environment"]
        assert environment["digest"] == recorded[-1]["cell_metadata"]["environment"]
        holds("environmentMessage", environment, drop="digest")
        broken = {
            **recorded[0],
            "cell_metadata": {k: v for k, v in recorded[0]["cell_metadata"].items() if k != "record"},
        }
        assert schema.message_errors("cellRecordedMessage", broken)  # nested: record.v1.json's cellMetadata
        # each record is announced once on disk, after its cell_recorded (environment_request flushed
        # the writer, so every announcement came before the environment answer)
        written = [m for m in sent if m["type"] == "record_written"]
        assert [(m["cell_id"], m["record"], m["ok"]) for m in written] == [
            (m["cell_id"], m["cell_metadata"]["record"], True) for m in recorded
        ]
        assert sent.index(written[0]) > sent.index(recorded[0])
        assert sent.index(written[-1]) < sent.index(environment)
        holds("recordWrittenMessage", written[0], drop="ok")
        update = next(m for m in sent if m["type"] == "notebook_metadata")
        holds("notebookMetadataMessage", update, drop="notebook_metadata")


def _reply(k: Wire, request: dict[str, Any], *, valid: bool = True) -> dict[str, Any]:
    """The kernel's reply to ``request`` (which keeps the contract, or with ``valid=False`` breaks it)."""
    assert (schema.message_errors("runnerRequest", request) == []) == valid
    reply = k.request(request)
    assert reply["type"] == f"{request['type']}_reply", reply
    schema.validate_message("runnerReply", reply)
    return reply


def test_every_runner_reply(tmp_path):
    """The five requests over ``repro_jupyter.runner`` in real kernels (a Lab replay's and a headless
    run's), and a refusal: one reply each, every one of them the contract's."""
    pytest.importorskip("repro_jupyter.kernel_runner")
    from repro_jupyter.runner_protocol import LOAD_LINE

    nb = make_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    with kernel(tmp_path, nb) as k:  # Lab's re-execute and compare
        k.execute(LOAD_LINE)
        reply = _reply(k, {"type": "configure_replay", "seed": 21, "deterministic": False})
        holds("configureReplayReply", reply, drop="ok")
        k.execute("y = 2", cell_id="c1")
        holds("flushRecordsReply", _reply(k, {"type": "flush_records"}), drop="type")
        holds("endReplayReply", _reply(k, {"type": "end_replay"}), drop="ok")
        refused = _reply(
            k, {"type": "configure_replay", "seed": "1; import os", "deterministic": False}, valid=False
        )
        assert refused["ok"] is False
        holds("runnerFailure", refused, drop="error")

    with kernel(tmp_path, nb) as k:  # jupyter repro run
        k.execute(LOAD_LINE)
        request = {
            "type": "configure_headless",
            "notebook": str(nb),
            "seed": 5,
            "deterministic": False,
            "excludes": [],
        }
        holds("configureHeadlessReply", _reply(k, request), drop="ok")
        k.execute("z = 3", cell_id="c1")
        reply = _reply(k, {"type": "headless_metadata"})
        assert reply["ok"] is True and list(reply["cells"]) == ["c1"]
        holds("headlessMetadataReply", reply, drop="cells")
        schema.validate_message("headlessMetadataReply", {**reply, "cells": {}})
        assert schema.message_errors("headlessMetadataReply", {**reply, "cells": {"c1": {"seed": 1}}})
