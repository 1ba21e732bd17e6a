"""Fuzzing the notebook reader and the drift engine: any input gives a result or a one-line
domain error, never a crash.  Case counts are printed for the closing figures."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro_jupyter.compare.normalize import compile_rules, normalise_text, output_digests
from repro_jupyter.compare.numeric import compare_text
from repro_jupyter.compare.outputs import compare_outputs
from repro_jupyter.compare.rules import CompareOptions
from repro_jupyter.errors import NotebookError
from repro_jupyter.headless import read_notebook

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = compile_rules()
OPTS = CompareOptions()

text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300)
numbers_text = st.lists(
    st.one_of(text, st.floats(allow_nan=True).map(repr), st.integers().map(str)), max_size=20
).map(" ".join)
mime_bundle = st.dictionaries(
    st.sampled_from(
        [
            "text/plain",
            "text/html",
            "text/latex",
            "image/png",
            "image/svg+xml",
            "application/json",
            "application/vnd.jupyter.widget-view+json",
            "text/markdown",
        ]
    ),
    st.one_of(text, st.binary(max_size=200).map(lambda b: b.hex()), st.lists(text, max_size=3)),
    max_size=4,
)
output = st.one_of(
    st.fixed_dictionaries(
        {
            "output_type": st.just("stream"),
            "name": st.sampled_from(["stdout", "stderr"]),
            "text": st.one_of(text, st.lists(text, max_size=3)),
        }
    ),
    st.fixed_dictionaries(
        {"output_type": st.sampled_from(["display_data", "execute_result"]), "data": mime_bundle}
    ),
    st.fixed_dictionaries({"output_type": st.just("error"), "ename": text, "evalue": text}),
    st.dictionaries(text, text, max_size=3),  # garbage
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=30,
)


@FUZZ
@given(st.one_of(st.binary(max_size=2000), json_value.map(lambda v: json.dumps(v).encode())))
def test_notebook_reader_never_crashes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "nb.ipynb"
    path.write_bytes(data)
    try:
        read_notebook(path)
    except NotebookError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(st.lists(output, max_size=5), st.lists(output, max_size=5))
def test_drift_engine_never_crashes(old, new):
    result = compare_outputs(old, new, OPTS, RULES)
    assert result.status in ("same", "benign", "within_tolerance", "drift")
    if old == new:
        assert result.status == "same" or all(d["severity"] != "drift" for d in result.differences)


@FUZZ
@given(numbers_text, numbers_text)
def test_numeric_compare_is_total_and_reflexive(a, b):
    compare_text(a, b)
    same = compare_text(a, a)
    assert same.within and not same.deltas


@FUZZ
@given(text)
def test_normalisation_is_idempotent(t):
    once = normalise_text(t, RULES)
    assert normalise_text(once, RULES) == once


@FUZZ
@given(st.lists(output, max_size=5))
def test_output_digests_never_crash(outputs):
    output_digests(outputs)
