"""The Lab's drift report names Lab actions, never CLI flags, and an unrecorded notebook's report does
not contradict itself; the CLI keeps its own wording (the same engine, one rewrite at the route)."""

from __future__ import annotations

import copy
import json
import re

import nbformat
import pytest

from repro_jupyter.compare.causes import rank_causes
from repro_jupyter.server.lab_text import RERUN_ADVICE, REWRITES, for_lab

from .conftest import cli, make_notebook

CLI_WORDS = re.compile(r"`?--[a-z]|jupyter repro")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _cli_free(report) -> None:
    for cell in report["cells"]:  # the cells' sources may hold anything: only the report's own words
        cell = {k: v for k, v in cell.items() if k != "source"}
        assert not [s for s in _strings(cell) if CLI_WORDS.search(s)], cell
    assert not CLI_WORDS.search(report.get("reason") or ""), report["reason"]


async def _compare(jp_fetch, recorded, current):
    body = {"path": "work/nb.ipynb", "recorded": recorded, "current": current}
    response = await jp_fetch("repro-jupyter", "compare", method="POST", body=json.dumps(body))
    return json.loads(response.body)


@pytest.fixture
def recorded(jp_root_dir):
    path = make_notebook(jp_root_dir / "work" / "nb.ipynb", ["x = 2", "print(x * 21)", "print(x)"])
    assert cli("run", path, "-q", "--seed", "5") == 0
    return nbformat.read(path, 4)


async def test_unrecorded_report_is_consistent_and_names_no_flag(jp_fetch, recorded):
    nb = copy.deepcopy(recorded)
    nb.metadata.pop("repro_jupyter")
    for cell in nb.cells:
        cell.metadata.pop("repro_jupyter")
    current = copy.deepcopy(nb)
    current.cells[1].outputs[0]["text"] = "43\n"
    report = await _compare(jp_fetch, nb, current)
    assert report["recorded"] is False and report["status"] == "drift"
    causes = report["cells"][1]["causes"]
    # not "nothing recorded explains this drift (same code, seeds, data ...)" beside "not recorded"
    assert [c["kind"] for c in causes] == ["not_recorded"]
    assert "only the saved outputs were compared" in causes[0]["detail"]
    assert "%repro on" in causes[0]["detail"]
    _cli_free(report)


async def test_recorded_report_advises_a_lab_action(jp_fetch, recorded):
    current = copy.deepcopy(recorded)
    current.cells[1].outputs[0]["text"] = "43\n"
    report = await _compare(jp_fetch, recorded, current)
    unknown = [c for c in report["cells"][1]["causes"] if c["kind"] == "unknown"]
    assert unknown and unknown[0]["detail"].endswith(RERUN_ADVICE)
    assert "Re-execute and compare again" in report["reason"]
    _cli_free(report)

    edited = copy.deepcopy(recorded)  # a source edited after recording: "run the cell again"
    edited.cells[2].source = "print(x)  # edited"
    report = await _compare(jp_fetch, edited, copy.deepcopy(edited))
    details = [d["detail"] for d in report["cells"][2]["differences"]]
    assert any("run the cell again to record it" in d for d in details), details
    _cli_free(report)


async def test_nothing_to_verify_names_no_command(jp_fetch, jp_root_dir):
    nb = nbformat.read(make_notebook(jp_root_dir / "work" / "nb.ipynb", ["x = 1"]), 4)
    report = await _compare(jp_fetch, nb, copy.deepcopy(nb))
    assert report["status"] == "error" and "%repro on" in report["reason"]
    _cli_free(report)


def test_the_cli_keeps_its_wording():
    causes = rank_causes(
        source="x", old_record={}, new_record={}, env_diff={}, upstream=None, flaky=False, recorded=True
    )
    assert "`--runs 2`" in causes[-1]["detail"]
    report = {"reason": causes[-1]["detail"], "cells": [{"causes": causes, "differences": []}]}
    assert "--runs" not in for_lab(report)["reason"] and "--runs" in report["reason"]
    assert all(cli != lab for cli, lab in REWRITES)
