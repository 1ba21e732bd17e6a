"""The kernel's runner API (``repro_jupyter.kernel_runner``): requests as JSON over a comm, one typed
reply each, arguments checked before anything changes.  The runners used to send Python source with
their arguments spliced in; these tests pin the protocol that replaced it."""

from __future__ import annotations

import json

import nbformat
import pytest

from repro_jupyter import kernel_runner, magics, runner_protocol, schema

from .conftest import cli, make_notebook, run


def test_a_request_is_answered_by_one_typed_reply(ip):
    reply = kernel_runner.dispatch(ip, {"type": "configure_replay", "seed": 21, "deterministic": False})
    assert reply == {"type": "configure_replay_reply", "ok": True}
    assert magics.loaded(ip).session.kind == "replay"
    assert kernel_runner.dispatch(ip, {"type": "flush_records"}) == {
        "type": "flush_records_reply",
        "ok": True,
    }
    assert kernel_runner.dispatch(ip, {"type": "end_replay"}) == {"type": "end_replay_reply", "ok": True}
    assert magics.loaded(ip).session.kind == "interactive"


@pytest.mark.parametrize(
    "request_, error",
    [
        ({"type": "configure_replay", "seed": "1; import os", "deterministic": False}, "seed must be"),
        ({"type": "configure_replay", "seed": True, "deterministic": False}, "seed must be"),
        ({"type": "configure_replay", "seed": -1, "deterministic": False}, "seed must be"),
        ({"type": "configure_replay", "seed": 2**32, "deterministic": False}, "seed must be"),
        ({"type": "configure_replay", "seed": 1, "deterministic": "yes"}, "deterministic must be"),
        ({"type": "configure_headless", "notebook": 3, "seed": 1, "deterministic": False}, "notebook must"),
        ({"type": "configure_headless", "notebook": " ", "seed": 1, "deterministic": False}, "notebook must"),
        (
            {"type": "configure_headless", "notebook": "a.ipynb", "seed": 1, "excludes": "x"},
            "excludes must be",
        ),
    ],
)
def test_a_bad_argument_is_refused_in_one_line_and_changes_nothing(ip, request_, error):
    reply = kernel_runner.dispatch(ip, request_)
    assert reply["ok"] is False and reply["type"] == f"{request_['type']}_reply"
    assert error in reply["error"] and "\n" not in reply["error"]
    session = magics.loaded(ip).session
    assert session.kind == "interactive" and not session.pinned


def test_unknown_requests_and_failing_handlers_answer_instead_of_raising(ip, monkeypatch):
    assert kernel_runner.dispatch(ip, {"type": "rm_rf"}) == {
        "type": "rm_rf_reply",
        "ok": False,
        "error": "unknown request type 'rm_rf'",
    }
    assert kernel_runner.dispatch(ip, ["not", "an", "object"])["type"] == "unknown_reply"

    def broken(shell):
        raise OSError("disk full\nsecond line")

    monkeypatch.setattr(kernel_runner, "flush_records", broken)
    reply = kernel_runner.dispatch(ip, {"type": "flush_records"})
    assert reply == {
        "type": "flush_records_reply",
        "ok": False,
        "error": "flush_records failed: OSError: disk full",
    }


def test_the_headless_reply_holds_what_the_runner_writes(ip):
    kernel_runner.dispatch(ip, {"type": "configure_replay", "seed": 5, "deterministic": False})
    run(ip, "x = 1", cell_id="c1")
    reply = kernel_runner.dispatch(ip, {"type": "headless_metadata"})
    assert reply["ok"] is True and set(reply) == {"type", "ok", "cells", "notebook", "problems"}
    assert list(reply["cells"]) == ["c1"] and reply["notebook"]["master_seed"] == 5
    schema.validate("cellMetadata", reply["cells"]["c1"])
    schema.validate("notebookMetadata", reply["notebook"])
    json.dumps(reply)


def test_run_may_write_to_any_file_name(tmp_path):
    """``run NB -o out.json`` records as before: the runner's path need not end in .ipynb."""
    path = make_notebook(tmp_path / "nb.ipynb", ["print(1)"])
    assert cli("run", path, "-o", tmp_path / "out.json", "-q") == 0
    assert nbformat.read(tmp_path / "out.json", 4).cells[0].metadata["repro_jupyter"]["record"]


def test_a_notebook_path_that_looks_like_code_is_only_a_path(tmp_path):
    """The path travels as JSON: quotes, a newline-free injection attempt, all data."""
    folder = tmp_path / 'it\'s "$(touch pwned)"; import os'
    folder.mkdir()
    path = make_notebook(folder / "nb'); print('owned.ipynb", ["x = 41\nprint(x + 1)"])
    assert cli("run", path, "-q") == 0
    nb = nbformat.read(path, 4)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert nb.cells[0].metadata["repro_jupyter"]["record"]
    assert not (tmp_path / "pwned").exists() and not (folder / "pwned").exists()


def test_a_kernel_without_the_runner_target_fails_in_one_line(tmp_path, monkeypatch, capsys):
    """A runner whose load line did not register the target gets the kernel's comm_close: one line, exit 2,
    not a two-minute wait."""
    from repro_jupyter import headless

    monkeypatch.setattr(headless, "LOAD_LINE", "pass")
    path = make_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    before = path.read_bytes()
    assert cli("run", path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(f"has no {runner_protocol.RUNNER_TARGET} comm target" in line for line in err), err
    assert path.read_bytes() == before


SABOTAGE = (
    "import os\n"
    "if os.environ.get('REPRO_TEST_SABOTAGE'):\n"
    "    from comm import get_comm_manager\n"
    "    get_comm_manager().unregister_target('repro_jupyter.runner', None)\n"
)


def test_records_that_never_arrive_never_leave_old_pointers_vouching(tmp_path, monkeypatch, capsys):
    """When the kernel's metadata cannot be fetched after the last cell (here: its runner target is gone,
    as when it dies or the request times out), the run's cells kept the pointers of the previous run:
    ``run`` said "recorded" and ``verify`` judged the new outputs with the old records (a false pass)."""
    path = make_notebook(tmp_path / "nb.ipynb", ["x = 41\nprint(x + 1)", SABOTAGE])
    assert cli("run", path, "-q") == 0
    assert nbformat.read(path, 4).cells[0].metadata.get("repro_jupyter")
    monkeypatch.setenv("REPRO_TEST_SABOTAGE", "1")
    capsys.readouterr()
    assert cli("verify", path) == 2  # could not verify: never "reproduced" on the old records
    said = capsys.readouterr()
    assert "records could not be fetched" in said.out + said.err
    assert cli("run", path, "-q") == 1
    assert "records could not be fetched" in capsys.readouterr().err
    nb = nbformat.read(path, 4)
    assert [c.metadata.get("repro_jupyter") for c in nb.cells] == [None, None]
