"""Which notebooks the fidelity harness runs, and how each gets its scratch folder.

Real-world notebooks come from ``../shared/corpus/real_world/config.json`` (with their support
files); peer-suite notebooks are those their own test suites expect to PASS (see the corpus
MANIFEST).  Notebooks we cannot run honestly (missing files, network, a result that changes by
construction) stay in the list with a reason, so the table says why they were left out instead
of silently shrinking.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .common import CORPUS

PEERS = CORPUS / "peer_suites"

# the fast subset the test suite runs: pure Python (a, d), the CSV reader (c), a seeded peer notebook
# (a, b), a DataFrame built from literals (a), a notebook whose only cell is empty
QUICK = ["wwt_05_scalar_types", "pdsh_03.07", "nbval_latex_example", "testbook_dataframe", "nbmake_empty"]


@dataclass
class Entry:
    """One notebook: where it is, the files copied beside it, and why it is skipped (if it is)."""

    id: str
    notebook: Path
    support: list[tuple[Path, str]] = field(default_factory=list)  # (source, path relative to the nb)
    skip: str | None = None
    note: str | None = None
    record_exit: int = 0  # what `jupyter repro run` must return: 1 where the notebook has a *new* error

    def prepare(self, folder: Path) -> Path:
        """Copy the notebook and its support files into ``folder``; return the notebook's path there."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.notebook.name
        shutil.copyfile(self.notebook, target)
        for source, relative in self.support:
            dest = folder / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
        return target


REAL_WORLD_EXPECT: dict[str, dict[str, object]] = {
    "pdsh_03.06": {
        "record_exit": 1,
        "note": "DataFrame.append was removed in pandas 2: cell 38 raises AttributeError where the saved "
        "notebook shows a result; a new error, so `repro run` must fail (issue 12: a new error still fails)",
    },
}


def _real_world() -> list[Entry]:
    root = CORPUS / "real_world"
    entries = []
    for item in json.loads((root / "config.json").read_text()):
        notebook = root / item["notebook"]
        support = [(root / s, os.path.relpath(root / s, notebook.parent)) for s in item.get("support", [])]
        entries.append(Entry(item["id"], notebook, support, **REAL_WORLD_EXPECT.get(item["id"], {})))
    return entries


def _peer(entry_id: str, relative: str, skip: str | None = None, note: str | None = None) -> Entry:
    return Entry(entry_id, PEERS / relative, skip=skip, note=note)


def _peers() -> list[Entry]:
    samples = "nbval/tests/ipynb-test-samples"
    tb = "testbook/testbook/tests/resources"
    return [
        _peer("nbval_exceptions", "nbval/tests/exceptions.ipynb"),
        _peer("nbval_latex_example", "nbval/tests/latex-example.ipynb"),
        _peer("nbval_minimal_example", "nbval/tests/minimal_example.ipynb"),
        _peer(
            "nbval_sample_notebook",
            "nbval/tests/sample_notebook.ipynb",
            note="prints datetime.now() (3 cells marked NBVAL_IGNORE_OUTPUT, 1 'Last executed' line that "
            "nbval's sanitizer removes)",
        ),
        _peer("nbval_test_coalesce", "nbval/tests/test_coalesce.ipynb"),
        _peer("nbval_latex_pass_correctouput", f"{samples}/test-latex-pass-correctouput.ipynb"),
        _peer(
            "nbval_latex_pass_ignoreoutput",
            f"{samples}/test-latex-pass-failsbutignoreoutput.ipynb",
            note="stores n = int(time.time()); nbval ignores only the output of the cell that shows x**n",
        ),
        _peer("nbval_stream_pass_unexecuted", f"{samples}/test-stream-pass-missing-unexecuted-output.ipynb"),
        _peer("nbval_issue67_notebook1", "nbval/issues/67/notebook1.ipynb"),
        _peer(
            "nbval_issue7_tutorial_lib",
            "nbval/issues/7/tutorial_lib.ipynb",
            skip="needs nbval's issues/7/lib.py and test_lib.py, which the corpus does not include",
        ),
        _peer("nbmake_empty", "nbmake/tests/resources/empty.ipynb"),
        _peer("nbmake_ignore_tag", "nbmake/tests/resources/ignore_tag.ipynb"),
        _peer("nbmake_raises_tag", "nbmake/tests/resources/raises_tag.ipynb"),
        _peer("testbook_foo", f"{tb}/foo.ipynb"),
        _peer("testbook_inject", f"{tb}/inject.ipynb"),
        _peer("testbook_datamodel", f"{tb}/datamodel.ipynb"),
        _peer("testbook_reference", f"{tb}/reference.ipynb"),
        _peer("testbook_patch", f"{tb}/patch.ipynb"),
        _peer("testbook_exception", f"{tb}/exception.ipynb"),
        _peer("testbook_dataframe", "testbook/examples/dataframe-example/dataframe-assertion-example.ipynb"),
        _peer(
            "testbook_requests",
            "testbook/examples/requests-example/requests-example.ipynb",
            note="imports requests and defines a function; the network is only used when testbook calls it",
        ),
        _peer(
            "testbook_stdout",
            "testbook/examples/stdout-example/stdout-assertion-example.ipynb",
            skip="prints datetime.now() to the second: a real change between two runs, not a pass case",
        ),
    ]


def entries() -> list[Entry]:
    """Every notebook the harness knows, real-world first."""
    return _real_world() + _peers()


def select(only: list[str] | None, quick: bool) -> list[Entry]:
    """The entries named by ``--only`` (in that order) or ``--quick``; all of them otherwise."""
    known = {e.id: e for e in entries()}
    names = only or (QUICK if quick else list(known))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(
            f"fidelity: unknown notebook id(s): {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return [known[n] for n in names]
