"""Issue 14, items 6, 7 and 11 (kernel side): what the magics do in the user's own kernel.

6: a magic that only configures never replaces the notebook's environment pointer.
7: after a Lab replay the kernel is the user's again (seed, deterministic, recording, kind),
   and warnings are one line without file paths.
11: %repro status in words, %repro seed says what it did, configuration cells are neither
   recorded nor drawn in the lineage.

Real kernels (jupyter_client) where the frontend's view matters: the comm messages the Lab
extension would write into the notebook, and the stream text a person would read.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import start_new_kernel

from repro_jupyter import kernel_runner, lineage, magics, runner_protocol
from repro_jupyter.store import open_store

from .conftest import cli, make_notebook, run

# --- a real kernel, seen as the Lab extension sees it ----------------------------------------


class Kernel:
    def __init__(self, client: Any) -> None:
        self.client = client

    def execute(self, code: str, silent: bool = False) -> dict[str, Any]:
        """Run ``code``; return its stdout, stderr, error and the comm messages it sent."""
        seen: dict[str, Any] = {"stdout": "", "stderr": "", "comm": [], "error": None}

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream":
                seen[content["name"]] += content["text"]
            elif kind in ("comm_msg", "comm_open"):
                seen["comm"].append(content.get("data") or {})
            elif kind == "error":
                seen["error"] = f"{content['ename']}: {content['evalue']}"

        reply = self.client.execute_interactive(
            code, silent=silent, store_history=not silent, output_hook=hook, timeout=120
        )
        if reply["content"]["status"] != "ok" and seen["error"] is None:
            seen["error"] = f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
        return seen

    def request(self, data: dict[str, Any]) -> dict[str, Any]:
        """A runner request as Lab's replay sends it (runnercomm.ts): the fixed load line, then a comm
        opened on the runner target with the request as data; returns the kernel's one reply."""
        assert self.execute(runner_protocol.LOAD_LINE, silent=True)["error"] is None
        comm_id = uuid.uuid4().hex
        content = {"comm_id": comm_id, "target_name": runner_protocol.RUNNER_TARGET, "data": data}
        self.client.shell_channel.send(self.client.session.msg("comm_open", content))
        while True:
            msg = self.client.get_iopub_msg(timeout=120)
            if msg["header"]["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == comm_id:
                return msg["content"]["data"]


@contextmanager
def kernel(folder: Path, notebook: Path | None = None):
    """A fresh python3 kernel in ``folder``; Jupyter Server names the notebook as it does."""
    env = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
    if notebook is not None:
        env["JPY_SESSION_NAME"] = str(notebook)
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(folder), env=env)
    try:
        yield Kernel(kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _recorded_numpy_notebook(tmp_path: Path) -> tuple[Path, str]:
    """A notebook recorded headless whose cells import numpy: (path, its environment digest)."""
    nb = make_notebook(
        tmp_path / "work.ipynb",
        ["import numpy as np\nw = np.random.rand(3)\nprint(round(float(w.sum()), 6))"],
    )
    assert cli("run", nb, "-q") == 0
    meta = nbformat.read(nb, as_version=4).metadata["repro_jupyter"]
    env = open_store(tmp_path, create=False).objects.get_environment(meta["environment"])
    assert "numpy" in env["packages"]["imported"]
    return nb, meta["environment"]


def _notebook_metadata_sent(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every notebook metadata the kernel told the frontend to write."""
    return [m["notebook_metadata"] for m in messages if "notebook_metadata" in m]


# --- item 6: configuring magics keep the notebook's environment --------------------------------


def test_configuring_after_a_restart_keeps_the_notebooks_environment(tmp_path):
    """Restart, `%load_ext` + `%repro on`, then `%repro seed 123`: what the frontend is told to
    write still names the environment the notebook's cells were recorded in (numpy imported),
    never the bare kernel's (the panel then said "packages none")."""
    nb, recorded_env = _recorded_numpy_notebook(tmp_path)
    with kernel(tmp_path, nb) as k:
        first = k.execute("%load_ext repro_jupyter\n%repro on")
        second = k.execute("%repro seed 123")
        assert first["error"] is None and second["error"] is None
        sent = _notebook_metadata_sent(first["comm"] + second["comm"])
        assert sent, "the magics sent no notebook metadata"
        assert all(m.get("environment") == recorded_env for m in sent), sent
        assert sent[-1]["master_seed"] == 123
        # the configuration cells were not recorded: no cell metadata went to the frontend
        assert not [m for m in first["comm"] + second["comm"] if m.get("type") == "cell_recorded"]
        # a cell that computes is recorded, and its environment becomes the notebook's
        third = k.execute("import json\nv = json.dumps([1])")
        recorded = [m for m in third["comm"] if m.get("type") == "cell_recorded"]
        assert len(recorded) == 1
        assert recorded[0]["notebook_metadata"]["environment"] == recorded[0]["cell_metadata"]["environment"]


def test_the_frontends_copy_of_the_environment_wins_over_the_file(ip, tmp_path):
    """The Lab extension answers `hello` with the open notebook's metadata (maybe unsaved)."""
    session = magics._LOADED[id(ip)].session
    digest = "sha256:" + "ab" * 32
    magics._LOADED[id(ip)].comm._on_msg(
        {"content": {"data": {"type": "notebook", "metadata": {"master_seed": 5, "environment": digest}}}}
    )
    run(ip, "%repro seed 9")
    assert session.notebook_metadata()["environment"] == digest


def test_configuration_cells_are_not_recorded(ip):
    run(ip, "%repro on --seed 3", cell_id="setup")
    run(ip, "%load_ext repro_jupyter\n%repro seed 4", cell_id="again")
    run(ip, "# settings\n%repro status\n%repro env", cell_id="status")
    run(ip, "%config ReproMagics.state = True", cell_id="config")
    run(ip, "x = 1", cell_id="work")
    session = magics._LOADED[id(ip)].session
    assert set(session.cell_metadata) == {"work"}
    # a %repro off cell is still recorded (it began while recording was on)
    run(ip, "%repro off", cell_id="off")
    assert "off" in session.cell_metadata


# --- item 7: the replay ends, the user's settings come back -------------------------------------


def test_after_a_replay_the_users_seed_is_obeyed_and_warnings_are_one_line(tmp_path):
    nb, _ = _recorded_numpy_notebook(tmp_path)
    with kernel(tmp_path, nb) as k:
        configured = k.request({"type": "configure_replay", "seed": 21, "deterministic": True})
        assert configured == {"type": "configure_replay_reply", "ok": True}
        # the notebook's own cells run pinned; a different seed is refused in one line
        during = k.execute("%load_ext repro_jupyter\n%repro seed 123")
        assert during["stderr"].count("\n") == 1, during["stderr"]
        assert "repro-jupyter warning: master seed stays 21" in during["stderr"]
        assert not re.search(r"\.py:\d+|Warning:|warnings\.warn", during["stderr"]), during["stderr"]
        pinned = k.execute("%repro status")["stdout"]
        assert "pinned by the runner" in pinned and "re-execution" in pinned
        assert k.request({"type": "flush_records"}) == {"type": "flush_records_reply", "ok": True}

        # the replay is over: the user's next cell runs with the user's settings
        after = k.execute("%repro seed 77")
        assert after["stderr"] == "", after["stderr"]
        assert after["stdout"] == "master seed 77: the cells run from now on are seeded from it\n"
        assert _notebook_metadata_sent(after["comm"])[-1]["master_seed"] == 77
        status = k.execute("%repro status")["stdout"]
        assert "master seed: 77 (set in this notebook by %repro seed)" in status
        assert "deterministic: off" in status  # the replay's deterministic mode was the runner's
        assert "pinned" not in status


def test_end_replay_unpins_a_cancelled_replay(ip):
    """A cancelled replay never reaches flush_records: the frontend calls end_replay."""
    m = magics._LOADED[id(ip)]
    kernel_runner.configure_replay(ip, 21, True)
    run(ip, "import random\nr = random.random()", cell_id="c1")
    kernel_runner.end_replay(ip)
    assert m.session.kind == "interactive" and not m.session.pinned
    assert m.deterministic is False and m.session.record_all is False
    assert m.session.master_seed == 21 and m.session.master_seed_source == "notebook"
    run(ip, "%repro seed 5")
    assert m.session.master_seed == 5


def test_what_the_notebook_asked_for_during_a_replay_stays(ip):
    m = magics._LOADED[id(ip)]
    kernel_runner.configure_replay(ip, 3, False)
    run(ip, "%load_ext repro_jupyter\n%repro on --seed 3 --deterministic", cell_id="setup")
    run(ip, "y = 2", cell_id="work")
    kernel_runner.flush_records(ip)
    assert m.session.kind == "replay"  # ends before the user's next cell, not before
    run(ip, "z = 3", cell_id="mine")
    assert m.session.kind == "interactive" and not m.session.pinned
    assert m.session.record_all is True and m.deterministic is True
    assert (m.session.master_seed, m.session.master_seed_source) == (3, "explicit")
    # the replay's run is closed in the log; the user's cell opened an interactive one
    m.session.flush()
    kinds = [r["kind"] for r in open_store(Path.cwd(), create=False).catalog.runs()]
    assert kinds == ["replay", "interactive"]


# --- item 11: words, one line per setting, configuration out of the lineage --------------------


def test_status_speaks_words_and_explains_the_pin(ip, capsys):
    run(ip, "%repro status")
    out = capsys.readouterr().out
    assert not re.search(r"\b(True|False|None)\b", out), out
    assert "deterministic: off   auto-seed: on   state fingerprints: on" in out
    kernel_runner.configure_replay(ip, 21, False)
    run(ip, "%repro status")
    out = capsys.readouterr().out
    assert "master seed: 21 (pinned by the runner: the notebook's %repro seed is ignored" in out


def test_seed_says_what_it_did(ip, capsys):
    run(ip, "%repro seed 123")
    assert capsys.readouterr().out == "master seed 123: the cells run from now on are seeded from it\n"


def test_headless_run_leaves_configuration_cells_out(tmp_path):
    nb = make_notebook(
        tmp_path / "cfg.ipynb",
        [
            "%load_ext repro_jupyter\n%repro seed 123",
            "import numpy as np\nx = np.random.rand(3)\nprint(round(float(x.sum()), 6))",
            "%repro env",
            "y = x * 2\nprint(round(float(y.sum()), 6))",
        ],
    )
    assert cli("run", nb, "-q") == 0
    cells = nbformat.read(nb, as_version=4).cells
    assert ["repro_jupyter" in c.metadata for c in cells] == [False, True, False, True]
    g = lineage.graph(nb)
    assert [n["cell_index"] for n in g["nodes"] if n["kind"] == "cell"] == [1, 3]
    assert cli("verify", nb, "-q") == 0


def test_headless_notebook_with_a_status_cell_verifies(tmp_path):
    nb = make_notebook(
        tmp_path / "st.ipynb",
        ["%load_ext repro_jupyter\n%repro on", "%repro status", "x = 1\nprint(x)"],
    )
    assert cli("run", nb, "-q") == 0
    assert cli("verify", nb, "-q") == 0


def test_lineage_omits_configuration_cells_an_older_version_recorded(tmp_path):
    """Older notebooks carry records for `%repro status` cells: the lineage leaves them out."""
    nb = make_notebook(tmp_path / "old.ipynb", ["a = 1", "pass", "b = a + 1"])
    assert cli("run", nb, "-q") == 0
    data = json.loads(nb.read_text())
    data["cells"][1]["source"] = "%repro status"  # as recorded before configuration cells were left out
    nb.write_text(json.dumps(data))
    g = lineage.graph(nb)
    cells = [n["cell_index"] for n in g["nodes"] if n["kind"] == "cell"]
    assert cells == [0, 2]
    assert {"source": "var:a:1", "target": "cell:2", "kind": "reads"} in g["edges"]


def test_a_configuration_cell_that_fails_now_is_not_skipped(tmp_path):
    """Configuration cells are skipped by verify only while they run cleanly: an extension that no
    longer loads is a failure to report, never a skipped cell behind a pass."""
    (tmp_path / "myext.py").write_text("def load_ipython_extension(ip):\n    pass\n")
    nb = make_notebook(tmp_path / "ext.ipynb", ["%load_ext myext", "x = 1\nprint(x)"])
    assert cli("run", nb, "-q") == 0
    (tmp_path / "myext.py").unlink()
    assert cli("verify", nb, "-q") != 0
