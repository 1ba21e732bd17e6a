"""Facts computed once: "did this cell's code change since its record?" (repro_jupyter/cell_source.py) and
the environment in words (environment/summary.py), each asked by the panel, the CLI and the judge alike."""

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


def test_the_panel_and_the_cli_say_the_same_environment():
    """The panel's rows and the lines of ``jupyter repro env`` come from one function."""
    from repro_jupyter.environment import summary

    env = {
        "python": {"version": "3.11.9", "implementation": "CPython"},
        "os": {"system": "Linux", "distribution": "Debian 13", "machine": "x86_64"},
        "cpu": {"model": "Xeon", "count": 2},
        "gpu": {"available": False, "reason": "no NVIDIA driver"},
        "git": {"available": True, "commit": "0123456789abcdef", "branch": "main", "dirty": True},
        "packages": {"imported": {"numpy": "2.3.0"}, "installed": {"numpy": "2.3.0", "pip": "25"}},
        "env_vars": {"variables": {"OMP_NUM_THREADS": "1"}, "omitted_secrets": 2},
    }
    facts = summary.environment_facts(env)
    text = summary.environment_summary(env)
    for fact in facts.values():
        assert fact in text
    assert facts["git"] == "0123456789 on main (dirty)"
    assert "numpy 2.3.0; 1 imported, 2 installed" in text and "1 recorded, 2 secret(s) left out" in text
    assert summary.environment_facts({})["gpu"] == "none (not available)"  # a partial snapshot: no raise
