"""One way to write a relative change (repro_jupyter/figures.py), shared with the Lab panel's formatPercent
through one table of cases: a number reads the same in a terminal, a CI log, the HTML page and Lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro_jupyter.figures import format_percent

CASES = Path(__file__).parent.parent / "labextension" / "src" / "__tests__" / "percent_cases.json"


@pytest.mark.parametrize("fraction, expected", json.loads(CASES.read_text())["cases"])
def test_format_percent_writes_the_shared_cases(fraction, expected):
    assert format_percent(fraction) == expected


def test_what_is_not_a_finite_number_is_shown_as_it_is():
    assert format_percent("inf") == "inf"
    assert format_percent(float("nan")) == "nan"
    assert format_percent(None) == ""
    assert format_percent(True) == "True"


def test_every_writer_uses_it():
    """The four percent formats this replaced (HTML, JUnit, pytest, sensitivity) must not come back."""
    root = Path(__file__).parent.parent / "repro_jupyter"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "figures.py" and (":.3g}%" in path.read_text() or ":.1%}" in path.read_text())
    ]
    assert offenders == []
