"""Fuzzing the notebook reader and the drift engine: any input gives a result or a one-line
domain error, never a crash.  Case counts are printed for the closing figures."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro_jupyter.compare.normalize import compile_rules, normalize_text, output_digests
from repro_jupyter.compare.numeric import compare_text
from repro_jupyter.compare.outputs import compare_outputs
from repro_jupyter.compare.rules import CompareOptions, RunWindows
from repro_jupyter.compare.text import compare_texts
from repro_jupyter.errors import NotebookError
from repro_jupyter.notebook_io import read_notebook

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
def test_normalization_is_idempotent(t):
    once = normalize_text(t, RULES)
    assert normalize_text(once, RULES) == once


@FUZZ
@given(st.lists(output, max_size=5))
def test_output_digests_never_crash(outputs):
    output_digests(outputs)


# ---------------------------------------------------------------- noise rules never eat a value

_FORMATS = [
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%a %b %d %H:%M:%S %Y",
    "%H:%M:%S",
    "%Y-%m-%d",
    "%b %d %H:%M",
]
_moment = st.floats(min_value=0, max_value=4e9).map(lambda t: round(t, 3))
_clock = st.tuples(_moment, st.sampled_from(_FORMATS)).map(
    lambda p: __import__("datetime").datetime.fromtimestamp(p[0]).strftime(p[1])
)
_window = st.tuples(_moment, st.floats(min_value=0, max_value=86400 * 3)).map(lambda p: (p[0], p[0] + p[1]))
_windows = st.builds(
    lambda new, old: CompareOptions(run_windows=RunWindows(new=new, old=old)),
    st.one_of(st.none(), _window),
    st.one_of(st.none(), _window),
)


@FUZZ
@given(
    st.lists(st.one_of(text, _clock), max_size=6).map("\n".join),
    st.lists(st.one_of(text, _clock), max_size=6).map("\n".join),
    _windows,
)
def test_text_ladder_with_clock_windows_is_total(a, b, opts):
    severity, diff = compare_texts(a, b, opts, RULES)
    assert severity in ("same", "benign", "within_tolerance", "drift")
    assert compare_texts(a, a, opts, RULES)[0] == "same"
    if severity != "same":
        assert diff["detail"]


@FUZZ
@given(st.data(), _window, st.one_of(st.none(), _window), st.sampled_from(_FORMATS))
def test_a_changed_value_beside_the_runs_own_clocks_is_always_drift(data, new_window, old_window, fmt):
    """Clocks drawn inside the windows (so they are masked), next to a value that changed."""
    from datetime import datetime

    def inside(window: tuple[float, float] | None) -> str:
        low, high = window if window else (0.0, new_window[0])
        return datetime.fromtimestamp(data.draw(st.floats(min_value=low, max_value=high))).strftime(fmt)

    opts = CompareOptions(run_windows=RunWindows(new=new_window, old=old_window))
    old_clock, new_clock = inside(old_window), inside(new_window)
    value, step = data.draw(st.integers(0, 10**6)), data.draw(st.integers(1, 99))
    old = f"{old_clock} value {value}\nrun at {old_clock}"
    new = f"{new_clock} value {value + step}\nrun at {new_clock}"
    severity, diff = compare_texts(old, new, opts, RULES)
    assert severity == "drift", diff
    assert compare_texts(old, new.replace(f"value {value + step}", f"value {value}"), opts, RULES)[0] in (
        "same",
        "benign",
    )
