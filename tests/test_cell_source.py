"""One answer to "did this cell's code change since its record?" (repro_jupyter/cell_source.py), asked by
the panel's staleness, lineage, the judge, the ranked causes and the MLflow export."""

from __future__ import annotations

from pathlib import Path

import nbformat

from repro_jupyter.cell_source import source_changed, source_digest, source_text


def test_a_cell_in_lines_and_in_one_string_is_the_same_code():
    as_lines = nbformat.v4.new_code_cell(["x = 1\n", "print(x)"])
    as_text = nbformat.v4.new_code_cell("x = 1\nprint(x)")
    assert source_text(as_lines) == source_text(as_text) == "x = 1\nprint(x)"
    assert source_text({"cell_type": "code", "source": ["a", "b"]}) == "ab"


def test_changed_only_when_a_recorded_digest_differs():
    recorded = source_digest("x = 1")
    assert not source_changed("x = 1", recorded)
    assert source_changed("x = 2", recorded)
    assert not source_changed("x = 2", None) and not source_changed("x = 2", "")  # nothing to tell by


def test_no_module_rewrites_the_question():
    """Five private copies of the source helper and four of the check once disagreed on a missing
    digest (stale in the panel, not stale in lineage); they must not come back."""
    root = Path(__file__).parent.parent / "repro_jupyter"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "cell_source.py"
        and ("def _source(" in path.read_text() or "digest_bytes(source.encode())" in path.read_text())
    ]
    assert offenders == []
