"""Real notebooks written by others (../shared/corpus): verified with default settings and no
sanitizer file.  Expectations come from the corpus MANIFEST (and nbval's own test suite)."""

from __future__ import annotations

import json
import shutil

import pytest

from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import corpus_or_skip

# reproduce apart from benign noise (addresses, figure reprs, NumPy 2 / pandas 3 reprs, dict order)
REAL_REPRODUCE = [
    "wwt_05_scalar_types",
    "wwt_08_functions",
    "wwt_09_errors",
    "wwt_15_ds_preview",
    "pdsh_02.02",
    "pdsh_03.02",
    "pdsh_03.03",
]
# real drift, with the first drifting cell and the cause or difference that must be named
REAL_DRIFT = {
    "pdsh_02.01": (36, "differ"),  # unseeded np.random
    "pdsh_03.06": (37, "raised AttributeError"),  # DataFrame.append removed in pandas 2
}
NBVAL = {  # nbval's expected outcome per notebook (tests/test_unit_tests_in_notebooks.py, dodo.py)
    "tests/minimal_example.ipynb": "reproduced",
    "tests/exceptions.ipynb": "reproduced",
    "tests/latex-example.ipynb": "reproduced",
    "tests/test_coalesce.ipynb": "reproduced",
    # nbval passes this only with its sanitize file AND because it skips images; we need no sanitize
    # file, but the figure really changed (matplotlib 2.0 default size: SSIM 0.76 even rescaled)
    "tests/sample_notebook.ipynb": "drift",
    "tests/ipynb-test-samples/test-latex-pass-correctouput.ipynb": "reproduced",
    "tests/ipynb-test-samples/test-latex-pass-failsbutignoreoutput.ipynb": "reproduced",
    "tests/ipynb-test-samples/test-stream-pass-missing-unexecuted-output.ipynb": "reproduced",
    "tests/ipynb-test-samples/test-latex-fail-randomoutput.ipynb": "drift",
    "tests/ipynb-test-samples/test-stream-fail-missingoutput.ipynb": "drift",
    "tests/ipynb-test-samples/test-exceptions-fail-storedmismatch.ipynb": "drift",
    "issues/67/notebook1.ipynb": "reproduced",
    "issues/67/notebook2.ipynb": "drift",
}


@pytest.fixture(scope="module")
def real_world(tmp_path_factory):
    corpus = corpus_or_skip()
    pytest.importorskip("pandas")
    scratch = tmp_path_factory.mktemp("corpus")
    shutil.copytree(corpus / "real_world", scratch / "real_world")
    config = json.loads((scratch / "real_world" / "config.json").read_text())
    return {e["id"]: scratch / "real_world" / e["notebook"] for e in config}


@pytest.mark.parametrize("nb_id", REAL_REPRODUCE)
def test_real_notebooks_that_reproduce_verify_clean(real_world, nb_id):
    report = verify_notebook(real_world[nb_id], VerifyOptions(timeout=120))
    assert report["status"] == "reproduced", report["reason"]


@pytest.mark.parametrize("nb_id", sorted(REAL_DRIFT))
def test_real_notebooks_with_real_drift_are_caught(real_world, nb_id):
    index, text = REAL_DRIFT[nb_id]
    report = verify_notebook(real_world[nb_id], VerifyOptions(timeout=120))
    assert report["status"] == "drift"
    assert report["first_drift"]["index"] == index
    cell = next(c for c in report["cells"] if c["index"] == index)
    assert text in cell["differences"][0]["detail"]


@pytest.fixture(scope="module")
def nbval_suite(tmp_path_factory):
    corpus = corpus_or_skip()
    pytest.importorskip("sympy")
    scratch = tmp_path_factory.mktemp("nbval")
    shutil.copytree(corpus / "peer_suites" / "nbval", scratch / "nbval")
    return scratch / "nbval"


@pytest.mark.parametrize("rel", sorted(NBVAL))
def test_nbval_suite_outcomes_without_sanitizer(nbval_suite, rel):
    report = verify_notebook(nbval_suite / rel, VerifyOptions(timeout=120))
    assert report["status"] == NBVAL[rel], report["reason"]


def test_sample_notebook_needs_no_sanitizer_for_its_text(nbval_suite):
    """Timestamps, addresses and figure reprs are benign without a sanitize file; only the figure drifts."""
    report = verify_notebook(nbval_suite / "tests/sample_notebook.ipynb", VerifyOptions(timeout=120))
    drifting = [c for c in report["cells"] if c["status"] == "drift"]
    assert [c["index"] for c in drifting] == [12]
    kinds = {(d["severity"], d.get("mimetype")) for d in drifting[0]["differences"]}
    assert ("drift", "image/png") in kinds and ("drift", "text/plain") not in kinds
