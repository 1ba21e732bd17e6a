"""Outputs captured once (issue 17): a record's output digests are those of the outputs Jupyter saves.

The kernel builds a cell's outputs from the IOPub messages it sends for that cell, with nbclient's
rules, so a thread's print, a shell command, ``clear_output`` and ``update_display`` are in the record
as in the file.  Where the record still cannot know what Jupyter saved (a later cell updates this
cell's display), verify of a file saved without outputs says "unverified", never "same".
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from repro_jupyter import schema
from repro_jupyter.compare.cell import capture_gap
from repro_jupyter.compare.normalize import output_digests
from repro_jupyter.outputs import IopubOutputs
from repro_jupyter.schema import METADATA_KEY
from repro_jupyter.store import open_store
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook

WORD = "REPRO_TEST_OUTPUT_WORD"  # read by the cells, not part of any record: a change the record cannot see


def _verify(path: Path) -> dict:
    report = verify_notebook(path, VerifyOptions())
    schema.validate("driftReport", report)
    return report


def _cell(report: dict, index: int) -> dict:
    return next(c for c in report["cells"] if c["index"] == index)


def _strip(path: Path) -> None:
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)


def _records(path: Path) -> list[tuple[int, dict, list]]:
    """(index, record, saved outputs) of every recorded code cell."""
    nb = nbformat.read(path, 4)
    store = open_store(path.parent, create=False)
    out = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get(METADATA_KEY) or {}
        if cell.cell_type == "code" and meta.get("record"):
            out.append((index, store.objects.get_record(meta["record"]), list(cell.outputs)))
    return out


# ------------------------------------------------------------------ the rules, without a kernel


def _msg(kind: str, content: dict, parent: str = "run-1") -> dict:
    return {"header": {"msg_type": kind}, "parent_header": {"msg_id": parent}, "content": content}


def test_iopub_outputs_follow_nbclient_rules():
    seen = IopubOutputs("run-1")
    seen.observe(_msg("stream", {"name": "stdout", "text": "gone\n"}))
    seen.observe(_msg("clear_output", {"wait": True}))
    assert len(seen.outputs) == 1  # wait=True: cleared only when the next output comes
    seen.observe(_msg("stream", {"name": "stdout", "text": "kept\n"}))
    seen.observe(_msg("stream", {"name": "stdout", "text": "other cell\n"}, parent="run-0"))
    seen.observe(_msg("status", {"execution_state": "idle"}))
    shown = {"data": {"text/plain": "v1"}, "metadata": {}, "transient": {"display_id": "d"}}
    seen.observe(_msg("display_data", shown))
    seen.observe(_msg("update_display_data", {**shown, "data": {"text/plain": "v2"}}))
    seen.observe(_msg("error", {"ename": "ValueError", "evalue": "x", "traceback": ["tb"]}))
    assert [o["output_type"] for o in seen.outputs] == ["stream", "display_data", "error"]
    assert seen.outputs[0]["text"] == "kept\n"
    assert seen.outputs[1]["data"] == {"text/plain": "v2"}
    seen.observe(_msg("clear_output", {"wait": False}))
    assert seen.outputs == []


def test_what_an_output_widget_captures_is_not_the_cells():
    """``with out:`` sets the Output widget's ``msg_id``: Lab and nbclient then route the request's
    outputs (a clear_output too) into the widget; the cell keeps only what came before and after."""
    seen = IopubOutputs("run-1")
    seen.observe(_msg("stream", {"name": "stdout", "text": "before\n"}))
    seen.observe(
        _msg("comm_msg", {"comm_id": "w", "data": {"method": "update", "state": {"msg_id": "run-1"}}})
    )
    seen.observe(_msg("stream", {"name": "stdout", "text": "in the widget\n"}))
    seen.observe(_msg("clear_output", {"wait": False}))
    seen.observe(_msg("comm_msg", {"comm_id": "w", "data": {"method": "update", "state": {"msg_id": ""}}}))
    seen.observe(_msg("comm_msg", {"comm_id": "s", "data": {"method": "update", "state": {"value": 3}}}))
    seen.observe(_msg("stream", {"name": "stdout", "text": "after\n"}))
    assert [o["text"] for o in seen.outputs] == ["before\n", "after\n"]


def test_a_record_that_does_not_hold_the_saved_outputs_is_named():
    saved = [{"output_type": "stream", "name": "stdout", "text": "main\nfrom a thread\n"}]
    record = {"outputs": output_digests([{"output_type": "stream", "name": "stdout", "text": "main\n"}])}
    gap = capture_gap(record, saved, None)
    assert gap is not None and "output 1 differs" in gap
    assert capture_gap({"outputs": output_digests(saved)}, saved, None) is None
    assert capture_gap(None, saved, None) is None  # nothing to check against


# ------------------------------------------------------------------ real kernels

EVERY_KIND = [
    "print('to stdout')\nimport sys\nprint('to stderr', file=sys.stderr)",
    "from IPython.display import HTML, clear_output, display\ndisplay(HTML('<b>shown</b>'))",
    "6 * 7",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('figure')",
    "import threading\n_t = threading.Thread(target=lambda: print('from a thread'))\n_t.start()\n_t.join()\n"
    "del _t\nprint('after the thread')",
    "from IPython.display import clear_output\nprint('gone')\nclear_output(wait=True)\nprint('kept')",
    "display(HTML('v1'), display_id='in-cell')\nfrom IPython.display import update_display\n"
    "update_display(HTML('v2'), display_id='in-cell')",
    "import ipywidgets\n_out = ipywidgets.Output()\ndisplay(_out)\nwith _out:\n    print('into the widget')\n"
    "    clear_output()\nprint('into the cell')\ndel _out",
    "raise ValueError('on purpose')",
]


def test_record_digests_agree_with_the_saved_outputs(tmp_path):
    path = make_notebook(tmp_path / "kinds.ipynb", EVERY_KIND)
    cli("run", path, "-q", "--allow-errors")
    recorded = _records(path)
    assert len(recorded) == len(EVERY_KIND)
    kinds = set()
    for index, record, saved in recorded:
        kinds |= {o["output_type"] for o in saved}
        assert record["outputs"] == output_digests(saved), f"cell {index + 1}"
    assert kinds == {"stream", "display_data", "execute_result", "error"}
    assert [o.get("text") for o in recorded[7][2] if o["output_type"] == "stream"] == ["into the cell\n"]
    figure = recorded[3][2]
    assert any("image/png" in o.get("data", {}) for o in figure)
    assert recorded[4][2][0]["text"] == "from a thread\nafter the thread\n"


THREAD_CELL = (
    "import os\nimport threading\n"
    f"def _say():\n    print('thread says', os.environ.get('{WORD}', 'hello'))\n"
    "_t = threading.Thread(target=_say)\n_t.start()\n_t.join()\ndel _t, _say\nprint('main')"
)


def test_stripped_notebook_output_from_a_thread_that_changed_is_drift(tmp_path, monkeypatch):
    monkeypatch.delenv(WORD, raising=False)
    path = make_notebook(tmp_path / "thread.ipynb", [THREAD_CELL])
    assert cli("run", path, "-q") == 0
    _strip(path)
    report = _verify(path)
    assert report["status"] == "reproduced", report["reason"]
    assert _cell(report, 0)["status"] == "same"
    monkeypatch.setenv(WORD, "goodbye")  # only the thread's line changes (the old tee never saw it)
    report = _verify(path)
    assert _cell(report, 0)["status"] == "drift", report["reason"]
    assert report["status"] == "drift"
    assert "recorded digests" in _cell(report, 0)["differences"][0]["detail"]


def test_stripped_cell_updated_by_a_later_cell_is_unverified_not_same(tmp_path, monkeypatch):
    monkeypatch.delenv(WORD, raising=False)
    path = make_notebook(
        tmp_path / "update.ipynb",
        [
            "from IPython.display import HTML, display, update_display\n"
            "display(HTML('<b>first</b>'), display_id='shared')",
            f"import os\nupdate_display(HTML('<b>' + os.environ.get('{WORD}', 'second') + '</b>'), "
            "display_id='shared')",
        ],
    )
    assert cli("run", path, "-q") == 0
    assert "second" in nbformat.read(path, 4).cells[0].outputs[0]["data"]["text/html"]
    _strip(path)
    monkeypatch.setenv(WORD, "third")  # cell 1's saved output now says third: nothing may call it same
    report = _verify(path)
    cell = _cell(report, 0)
    assert cell["status"] == "unverified", cell
    assert "cannot stand in" in cell["differences"][0]["detail"]
    assert "cell 1" in report["reason"] and "unverified" in report["reason"]


def test_stripped_notebook_still_verifies_and_a_changed_print_drifts(tmp_path, monkeypatch):
    monkeypatch.delenv(WORD, raising=False)
    path = make_notebook(
        tmp_path / "plain.ipynb",
        [
            f"import os\nprint('word:', os.environ.get('{WORD}', 'hello'))",
            "from IPython.display import Markdown, display\ndisplay(Markdown('**bold**'))\n1 + 1",
        ],
    )
    assert cli("run", path, "-q") == 0
    _strip(path)
    report = _verify(path)
    assert report["status"] == "reproduced", report["reason"]
    assert report["summary"]["same"] == 2
    monkeypatch.setenv(WORD, "changed")
    report = _verify(path)
    assert report["status"] == "drift"
    assert _cell(report, 0)["status"] == "drift" and _cell(report, 1)["status"] == "same"


def test_stripped_cell_marked_to_raise_still_verifies(tmp_path):
    path = make_notebook(
        tmp_path / "raises.ipynb",
        ["print('before')\nraise ValueError('on purpose')", "print('after')"],
    )
    nb = nbformat.read(path, 4)
    nb.cells[0].metadata["tags"] = ["raises-exception"]
    nbformat.write(nb, path)
    assert cli("run", path, "-q") == 0
    _strip(path)
    report = _verify(path)
    assert report["status"] == "reproduced", report["reason"]
    assert _cell(report, 0)["status"] == "same", _cell(report, 0)


def test_stripped_cell_that_raised_when_recorded_and_still_does_is_same(tmp_path):
    path = make_notebook(tmp_path / "raised.ipynb", ["print('x')", "print('before')\n1 / 0"])
    cli("run", path, "-q", "--allow-errors")
    assert nbformat.read(path, 4).cells[1].outputs[-1]["output_type"] == "error"
    _strip(path)  # the error is now only in the record
    report = _verify(path)
    assert _cell(report, 1)["status"] == "same", _cell(report, 1)
    assert report["status"] == "reproduced", report["reason"]
