"""The drift report in JupyterLab's words: advice names what to click, never a command-line flag.

The comparison engine is shared with ``jupyter repro verify``, whose texts advise CLI flags
(``--runs 2``, ``--strict-state``, ``jupyter repro run``).  Those texts stay as they are for the CLI;
the server's ``compare`` route (used only by the Lab extension) passes its report through
``for_lab``, which rewrites them into actions the panel offers.  Kinds, statuses and every other
machine-readable field are left alone: only ``detail`` and ``reason`` texts change.
"""

from __future__ import annotations

from typing import Any

RERUN_ADVICE = (
    "click Re-execute and compare again: a cell that differs between two re-executions "
    "with the same seeds is nondeterministic"
)
RECORD_ADVICE = (
    "to record it, run %load_ext repro_jupyter and %repro on in its first cell, run all cells "
    "and save; then re-execute and compare"
)

# (CLI wording, Lab wording): exact phrases of compare/causes.py, compare/cell.py and verify.py.
# tests/test_server_lab_text.py produces each of them through the real engine, so a changed CLI
# phrase fails a test instead of slipping through untranslated.
REWRITES: tuple[tuple[str, str], ...] = (
    ("try `--runs 2` to test for nondeterminism", RERUN_ADVICE),
    ("; --strict-state counts this as drift", ""),
    (
        " (re-record with `jupyter repro run` to make this the reference)",
        " (run the cell again to record it as the reference)",
    ),
    ("(run it first: jupyter repro run NB.ipynb)", "(run all cells with %repro on and save first)"),
    (
        "the notebook was not recorded with repro-jupyter: no seeds, data hashes or environment to "
        "compare against",
        "the notebook was not recorded: only the saved outputs were compared, with no seeds, data "
        "hashes or environment to explain a difference; " + RECORD_ADVICE,
    ),
)


def lab_text(text: Any) -> Any:
    """``text`` with every CLI phrase replaced by its Lab wording (non-strings pass through)."""
    if not isinstance(text, str):
        return text
    for cli, lab in REWRITES:
        text = text.replace(cli, lab)
    return text


def _causes(causes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Unrecorded: "nothing recorded explains this drift (same code, seeds, data ...)" would contradict
    # "not recorded: no seeds ..." beside it; the latter already says why nothing can be explained.
    if any(c.get("kind") == "not_recorded" for c in causes):
        causes = [c for c in causes if c.get("kind") != "unknown"]
    return [{**c, "detail": lab_text(c.get("detail"))} for c in causes]


def for_lab(report: dict[str, Any]) -> dict[str, Any]:
    """The report with its advice in the Lab's words (a new dict; ``report`` is not changed)."""
    out = {**report, "reason": lab_text(report.get("reason"))}
    cells = []
    for cell in report.get("cells") or []:
        cell = {**cell, "causes": _causes(cell.get("causes") or [])}
        cell["differences"] = [
            {**d, "detail": lab_text(d.get("detail"))} for d in cell.get("differences") or []
        ]
        cells.append(cell)
    out["cells"] = cells
    return out
