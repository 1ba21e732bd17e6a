"""False passes that must never happen again (issue 12), each with a real kernel where a run is involved.

Every test here failed before its fix: a changed HTML/Markdown output, a changed figure title, a changed
input file behind an unchanged output, edited code, a notebook that only raises, tolerance tags that were
ignored, options that silently selected nothing.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY, schema
from repro_jupyter.compare.normalize import compile_rules
from repro_jupyter.compare.outputs import compare_outputs
from repro_jupyter.compare.rules import CompareOptions, cell_control
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook

RULES = compile_rules()
SAME_ENV = CompareOptions()


def _display(data: dict) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _verify(path: Path, **kw) -> dict:
    report = verify_notebook(path, VerifyOptions(**kw))
    schema.validate("driftReport", report)
    return report


def _cell(report: dict, index: int) -> dict:
    return next(c for c in report["cells"] if c["index"] == index)


# ---------------------------------------------------------------- rich outputs (no kernel needed)


@pytest.mark.parametrize(
    ("mime", "old", "new"),
    [
        ("text/html", "<b>accuracy 0.91</b>", "<b>accuracy 0.51</b>"),
        ("text/markdown", "**peak** at 12", "**peak** at 13"),
        ("text/latex", "$x^{2}$", "$x^{3}$"),
        ("image/svg+xml", "<svg><text>0.91</text></svg>", "<svg><text>0.51</text></svg>"),
        ("application/json", {"acc": 0.91}, {"acc": 0.51}),
    ],
)
def test_changed_rich_output_is_drift_although_text_plain_is_the_same(mime, old, new):
    plain = "<IPython.core.display.HTML object>"
    result = compare_outputs(
        [_display({"text/plain": plain, mime: old})],
        [_display({"text/plain": plain, mime: new})],
        SAME_ENV,
        RULES,
    )
    assert result.status == "drift"
    assert mime in result.differences[0]["detail"]


def test_same_table_other_markup_is_benign_only_where_renderers_differ():
    old = '<table class="dataframe"><tr><td>1.5</td></tr></table>'
    new = '<div><table border="1" class="dataframe"><tr><td>1.5</td></tr></table></div>'
    bundle = lambda html: [_display({"text/plain": "1.5", "text/html": html})]  # noqa: E731
    assert compare_outputs(bundle(old), bundle(new), SAME_ENV, RULES).status == "drift"
    other = CompareOptions(renderers_differ=True)
    assert compare_outputs(bundle(old), bundle(new), other, RULES).status == "benign"
    changed = new.replace("1.5", "2.5")
    assert compare_outputs(bundle(old), bundle(changed), other, RULES).status == "drift"


def _figure_png(title: str = "accuracy 0.91", alpha: float = 0.5) -> str:
    import base64

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter(rng.normal(size=100), rng.normal(size=100), alpha=alpha)
    ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("change", [{"title": "accuracy 0.51"}, {"alpha": 0.795}])
def test_changed_figure_is_drift_in_the_same_rendering_environment(change):
    old = [_display({"image/png": _figure_png(), "text/plain": "<Figure size 400x300 with 1 Axes>"})]
    new = [_display({"image/png": _figure_png(**change), "text/plain": "<Figure size 400x300 with 1 Axes>"})]
    result = compare_outputs(old, new, SAME_ENV, RULES)
    assert result.status == "drift"
    assert "pixel" in result.differences[0]["detail"]


def test_a_changed_title_fails_even_with_perceptual_tolerance():
    old = [_display({"image/png": _figure_png()})]
    new = [_display({"image/png": _figure_png(title="accuracy 0.51")})]
    result = compare_outputs(old, new, CompareOptions(perceptual_images=True), RULES)
    assert result.status == "drift"
    image = result.differences[0]["image"]
    assert image["ssim"] > 0.99  # the global score alone would have passed it
    assert "region" in result.differences[0]["detail"]


def test_identical_figures_are_the_same():
    assert (
        compare_outputs(
            [_display({"image/png": _figure_png()})],
            [_display({"image/png": _figure_png()})],
            SAME_ENV,
            RULES,
        ).status
        == "same"
    )


def test_headline_names_the_worst_difference():
    old = [
        {"output_type": "stream", "name": "stderr", "text": "warning at 0x7f00aa\n"},
        _display({"image/png": _figure_png(), "text/plain": "<Figure size 400x300 with 1 Axes>"}),
    ]
    new = [
        {"output_type": "stream", "name": "stderr", "text": "warning at 0x7f00bb\n"},
        _display(
            {"image/png": _figure_png(title="other"), "text/plain": "<Figure size 500x300 with 1 Axes>"}
        ),
    ]
    from repro_jupyter.compare.cell import judge_cell
    from repro_jupyter.compare.rules import CellControl

    status, differences = judge_cell(
        {"outputs": old}, {"outputs": new}, CellControl(), SAME_ENV, RULES, None, None
    )
    assert status == "drift"
    assert differences[0]["severity"] == "drift"
    assert "image" in differences[0]["detail"]


# ---------------------------------------------------------------- real kernels


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    base = tmp_path_factory.mktemp("truth")
    (base / "data.csv").write_text("city,value\na,1\nb,2\nc,3\n")
    make_notebook(
        base / "nb.ipynb",
        [
            "import csv\nrows = list(csv.DictReader(open('data.csv')))\nprint(len(rows), 'rows')",  # 0
            "from IPython.display import HTML, display\ndisplay(HTML('<b>total 6</b>'))",  # 1
            "x = 0.1 + 0.2\nprint(round(x, 3))",  # 2
        ],
    )
    assert cli("run", base / "nb.ipynb", "-q", "--seed", "3") == 0
    return base


@pytest.fixture
def work(recorded, tmp_path):
    shutil.copytree(recorded, tmp_path / "w")
    return tmp_path / "w"


def test_changed_input_behind_an_unchanged_output_is_drift_with_data_first(work, capsys):
    (work / "data.csv").write_text("city,value\na,1\nb,20\nc,3\n")  # same row count: same output
    report = _verify(work / "nb.ipynb")
    assert report["status"] == "drift"
    cell = _cell(report, 0)
    assert cell["status"] == "drift"
    assert any(d["kind"] == "input" and d["path"] == "data.csv" for d in cell["differences"])
    assert cell["causes"][0]["kind"] == "data"
    assert "data.csv" in cell["causes"][0]["detail"]
    assert cli("verify", work / "nb.ipynb") == 1
    assert "input data changed: data.csv" in capsys.readouterr().out


def test_changed_html_output_in_the_file_is_drift(work):
    path = work / "nb.ipynb"
    nb = nbformat.read(path, 4)
    nb.cells[1].outputs[0]["data"]["text/html"] = "<b>total 7</b>"
    nbformat.write(nb, path)
    report = _verify(path)
    assert report["status"] == "drift"
    assert report["first_drift"]["index"] == 1


def test_edited_code_with_matching_outputs_is_unverified_not_same(work, capsys):
    path = work / "nb.ipynb"
    nb = nbformat.read(path, 4)
    nb.cells[2].source = "x = 0.2 + 0.1  # reordered\nprint(round(x, 3))"
    nbformat.write(nb, path)
    report = _verify(path)
    cell = _cell(report, 2)
    assert cell["status"] == "unverified"
    assert cell["differences"][0]["kind"] == "source"
    assert report["status"] == "reproduced" and "unverified" in report["reason"]
    assert cli("verify", path) == 0
    assert "code changed" in capsys.readouterr().out


def test_cleared_outputs_verify_against_the_recorded_digests(work):
    path = work / "nb.ipynb"
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)
    report = _verify(path)
    assert report["status"] == "reproduced", report["reason"]
    assert report["summary"]["same"] == 3
    (work / "data.csv").write_text("city,value\na,1\n")  # now the printed row count changes
    report = _verify(path)
    assert report["status"] == "drift"
    assert "recorded digests" in _cell(report, 0)["differences"][0]["detail"] or any(
        "recorded digests" in d["detail"] for d in _cell(report, 0)["differences"]
    )


@pytest.mark.parametrize("tag", ["repro-rtol=1e-3", "repro-tolerance=1e-3"])  # the name, its alias
def test_tolerance_tag_is_applied(tmp_path, tag):
    path = make_notebook(tmp_path / "tol.ipynb", ["print(1.0005)"])
    nb = nbformat.read(path, 4)
    nb.cells[0].outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "1.0\n"})]
    nb.cells[0].execution_count = 1
    nbformat.write(nb, path)
    assert _verify(path)["status"] == "drift"
    nb.cells[0].metadata["tags"] = [tag]
    nbformat.write(nb, path)
    report = _verify(path)
    assert report["status"] == "reproduced", report["reason"]
    assert _cell(report, 0)["status"] == "within_tolerance"


def test_rtol_tag_and_its_alias_together_take_the_tighter_value():
    tags = ["repro-tolerance=1e-2", "repro-rtol=1e-3", "repro-atol=1e-6", "repro-atol=1e-9"]
    control = cell_control({"cell_type": "code", "source": "", "metadata": {"tags": tags}})
    assert (control.rtol, control.atol) == (1e-3, 1e-9)  # a second tag never loosens the comparison


def test_notebook_never_executed_whose_cells_raise_is_not_reproduced(tmp_path):
    path = make_notebook(tmp_path / "raises.ipynb", ["undefined_name", "1/0"])
    before = path.read_bytes()
    report = _verify(path, update=True)
    assert report["status"] == "drift"
    assert _cell(report, 0)["status"] == "error"
    assert "never ran" in _cell(report, 0)["differences"][0]["detail"]
    assert path.read_bytes() == before  # --update never makes a failing run the reference
    assert "not updated" in report["reason"]


def test_nothing_to_compare_is_not_reproduced(tmp_path, capsys):
    path = make_notebook(tmp_path / "fresh.ipynb", ["x = 1"])
    report = _verify(path)
    assert report["status"] == "error" and "nothing to verify" in report["reason"]
    assert cli("verify", path) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["--cells", "abc"],
        ["--cells", "-1"],
        ["--cells", "99"],
        ["--rtol", "-1"],
        ["--rtol", "nan"],
        ["--atol", "inf"],
        ["--runs", "0"],
        ["--timeout", "-5"],
        ["-j", "0"],
        ["--ssim", "1.5"],
    ],
)
def test_invalid_options_exit_2_with_one_line(recorded, argv, capsys):
    assert cli("verify", recorded / "nb.ipynb", *argv) == 2
    captured = capsys.readouterr()
    lines = (captured.err + captured.out).strip().splitlines()
    assert len(lines) == 1 and ("error:" in lines[0] or "ERROR" in lines[0]), lines
    assert "Traceback" not in captured.err


# ---------------------------------------------------------------- jupyter repro run


def test_run_records_deliberate_errors_the_saved_notebook_shows(tmp_path, capsys):
    path = make_notebook(tmp_path / "lesson.ipynb", ["x = 1", "1/0", "print(x + 1)"])
    nb = nbformat.read(path, 4)
    error = {
        "output_type": "error",
        "ename": "ZeroDivisionError",
        "evalue": "division by zero",
        "traceback": [],
    }
    nb.cells[1].outputs = [nbformat.from_dict(error)]
    nbformat.write(nb, path)
    assert cli("run", path) == 0
    assert "raised ZeroDivisionError, as the saved notebook shows" in capsys.readouterr().out
    nb = nbformat.read(path, 4)
    assert all(METADATA_KEY in c.metadata for c in nb.cells)
    assert nb.cells[2].outputs[0]["text"] == "2\n"
    assert _verify(path)["status"] == "reproduced"


def test_run_fails_on_a_new_error_and_marks_later_cells_not_run(tmp_path):
    path = make_notebook(tmp_path / "new_error.ipynb", ["x = 1", "print(x)", "print(x + 1)"])
    assert cli("run", path, "-q") == 0
    nb = nbformat.read(path, 4)
    nb.cells[1].source = "raise KeyError('new')"
    nbformat.write(nb, path)
    assert cli("run", path, "-q") == 1
    nb = nbformat.read(path, 4)
    assert nb.cells[1].metadata[METADATA_KEY]["status"] == "error"
    later = nb.cells[2]
    assert later.outputs == [] and later.execution_count is None and METADATA_KEY not in later.metadata


def test_run_timeout_marks_the_interrupted_and_later_cells_not_run(tmp_path):
    path = make_notebook(tmp_path / "slow.ipynb", ["x = 1", "print('fast')", "print(x)"])
    assert cli("run", path, "-q") == 0
    nb = nbformat.read(path, 4)
    nb.cells[1].source = "import time\ntime.sleep(30)\nprint('slow')"
    nbformat.write(nb, path)
    assert cli("run", path, "-q", "--timeout", "2") == 1
    nb = nbformat.read(path, 4)
    for cell in nb.cells[1:]:
        assert cell.outputs == [] and cell.execution_count is None
        assert METADATA_KEY not in cell.metadata


def test_missing_python_kernelspec_runs_on_python3(tmp_path, capsys):
    path = make_notebook(tmp_path / "old.ipynb", ["print(2 + 2)"])
    nb = nbformat.read(path, 4)
    nb.metadata["kernelspec"] = {"name": "python2", "display_name": "Python 2", "language": "python"}
    nbformat.write(nb, path)
    assert cli("run", path, "-q") == 0
    err = capsys.readouterr().err
    assert "kernel 'python2' is not installed; running on 'python3'" in err
    assert json.loads(path.read_text())["cells"][0]["outputs"][0]["text"] == ["4\n"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (None, "oops", "notebook metadata 'repro_jupyter' is not valid"),
        (None, [1, 2], "notebook metadata 'repro_jupyter' is not valid"),
        ("master_seed", "x", "master_seed"),
        ("cell.record", 5, "cell 1 metadata 'repro_jupyter' is not valid: record"),
        ("cell", "x", "cell 1 metadata 'repro_jupyter' is not valid"),
    ],
)
def test_malformed_repro_metadata_is_one_line_exit_2(recorded, tmp_path, field, value, message, capsys):
    shutil.copytree(recorded, tmp_path / "m")
    path = tmp_path / "m" / "nb.ipynb"
    raw = json.loads(path.read_text())
    if field is None:
        raw["metadata"][METADATA_KEY] = value
    elif field == "cell":
        raw["cells"][0]["metadata"][METADATA_KEY] = value
    elif field == "cell.record":
        raw["cells"][0]["metadata"][METADATA_KEY]["record"] = value
    else:
        raw["metadata"][METADATA_KEY][field] = value
    path.write_text(json.dumps(raw))
    for command in ("verify", "run", "show"):
        assert cli(command, path) == 2, command
        captured = capsys.readouterr()
        assert message in captured.out + captured.err
        assert "Traceback" not in captured.out + captured.err


def test_cleared_outputs_of_a_cell_printing_its_own_clock_still_verify(tmp_path):
    path = make_notebook(
        tmp_path / "clock.ipynb", ["import datetime\nprint('ran at', datetime.datetime.now())"]
    )
    assert cli("run", path, "-q") == 0
    nb = nbformat.read(path, 4)
    nb.cells[0].outputs, nb.cells[0].execution_count = [], None
    nbformat.write(nb, path)
    report = _verify(path)
    assert report["status"] == "reproduced", report["reason"]
    assert _cell(report, 0)["status"] == "same"


def test_run_accepts_cells_marked_to_raise_and_names_the_real_error(tmp_path, capsys):
    path = make_notebook(
        tmp_path / "marked.ipynb",
        ["# NBVAL_RAISES_EXCEPTION\nraise ValueError('on purpose')", "print('after')"],
    )
    assert cli("run", path, "-q") == 0
    assert nbformat.read(path, 4).cells[1].outputs[0]["text"] == "after\n"
    # a display hook that fails leaves the reply without an ename: name the error the outputs show
    broken = make_notebook(
        tmp_path / "broken_repr.ipynb",
        ["class Bad:\n    def _repr_html_(self):\n        return self.missing\n", "display(Bad())", "1"],
    )
    nb = nbformat.read(broken, 4)
    nb.cells[1].outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "ok\n"})]
    nbformat.write(nb, broken)
    code = cli("run", broken, "-q")
    err = capsys.readouterr().err
    if code == 1:  # IPython versions differ on whether a failing repr fails the cell
        assert "NoneType" not in err and "AttributeError" in err


def test_a_variable_assigned_from_the_wall_clock_is_unverified_not_drift(tmp_path):
    path = make_notebook(
        tmp_path / "clock_state.ipynb",
        ["import time\nn = int(time.time() * 1000)  # changes every run", "total = 2 + 2\nprint(total)"],
    )
    assert cli("run", path, "-q") == 0
    report = _verify(path)
    assert report["status"] == "reproduced", report["reason"]
    cell = _cell(report, 0)
    assert cell["status"] == "unverified"
    assert "wall clock" in cell["differences"][0]["detail"] and "n" in cell["differences"][0]["variables"]


def test_a_notebook_of_empty_cells_reproduces_with_a_reason(tmp_path):
    path = make_notebook(tmp_path / "empty.ipynb", [""])
    assert cli("run", path, "-q") == 0
    report = _verify(path)
    assert report["status"] == "reproduced" and report["reason"] == "the notebook has no code to run"


def test_run_does_not_execute_cells_marked_to_skip(tmp_path):
    path = make_notebook(
        tmp_path / "skip.ipynb", ["# NBVAL_SKIP\nraise RuntimeError('must not run')", "print('ran')"]
    )
    nb = nbformat.read(path, 4)
    nb.cells[0].outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "kept\n"})]
    nbformat.write(nb, path)
    assert cli("run", path, "-q") == 0
    nb = nbformat.read(path, 4)
    assert nb.cells[0].outputs[0]["text"] == "kept\n" and METADATA_KEY not in nb.cells[0].metadata
    assert _verify(path)["status"] == "reproduced"


def _record(**variables) -> dict:
    return {"state": {"variables": variables}}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"digest": "xxh3:a", "opaque": True}, {"digest": "xxh3:b", "opaque": True}),
        ({"digest": "xxh3:a"}, {"digest": "xxh3:b", "scheme": 2}),  # a record from another version
    ],
)
def test_a_variable_not_comparable_by_value_is_unverified_unless_strict(old, new):
    from repro_jupyter.compare.cell import judge_cell
    from repro_jupyter.compare.rules import CellControl

    cell = {"source": "obj = make()", "outputs": []}
    status, diffs = judge_cell(cell, cell, CellControl(), SAME_ENV, RULES, _record(obj=old), _record(obj=new))
    assert (
        status == "unverified" and diffs[0]["kind"] == "unverified_state" and diffs[0]["variables"] == ["obj"]
    )
    strict = CompareOptions(strict_state=True)
    status, diffs = judge_cell(cell, cell, CellControl(), strict, RULES, _record(obj=old), _record(obj=new))
    assert status == "drift" and diffs[0]["kind"] == "state"


def test_a_set_hyperparameter_records_the_same_in_every_process():
    import subprocess
    import sys

    code = (
        "from repro_jupyter.params import collect_params\n"
        "print(collect_params([], \"seen = {'alpha', 'beta', 'gamma', 'delta'}\", "
        "{'seen': {'alpha', 'beta', 'gamma', 'delta'}}))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(outputs) == 1, outputs


def test_nbval_check_output_comment_wins_over_an_ignore_tag():
    from repro_jupyter.compare.rules import cell_control

    tagged = {"metadata": {"tags": ["nbval-ignore-output"]}, "source": "# NBVAL_CHECK_OUTPUT\nprint(5)"}
    assert not cell_control(tagged).ignore_output
    assert cell_control({**tagged, "source": "print(5)"}).ignore_output


def test_a_pandas_fingerprint_does_not_change_when_pandas_builds_its_lookup_table():
    """pdsh_03.07: ``density.tail()`` made pandas build the index hash table, ``memory_usage`` grew, and the
    cell's record listed ``density`` as changed in one run but not in another (a false drift)."""
    pd = pytest.importorskip("pandas")
    from repro_jupyter.fingerprint import fingerprint

    frame = pd.DataFrame({"v": [3.0, 1.0, 2.0]}, index=["a", "b", "c"])
    series = frame["v"].copy()
    before = fingerprint(frame), fingerprint(series), fingerprint(series.index)
    frame.loc["a"], series.loc["a"], series.tail(), series.index.get_loc("b")
    assert (fingerprint(frame), fingerprint(series), fingerprint(series.index)) == before


@pytest.mark.parametrize("tag", ["repro-rtol=1e-", "repro-atol=-1", "repro-tolerance=1e999", "repro-rtol=."])
def test_a_malformed_tolerance_tag_is_one_line_and_exit_2(tmp_path, tag, capsys):
    """``repro-rtol=1e-`` matched the tag's pattern, then ``float()`` raised: verify crashed with a
    traceback.  A negative one would have failed every number.  Bad input: one line naming the tag."""
    path = make_notebook(tmp_path / "tol.ipynb", ["print(1.0)"])
    assert cli("run", path, "-q") == 0
    nb = nbformat.read(path, 4)
    nb.cells[0].metadata["tags"] = [tag]
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert cli("verify", path) == 2
    seen = capsys.readouterr()
    said = (seen.out + seen.err).strip()
    assert len(said.splitlines()) == 1 and repr(tag) in said and "Traceback" not in said, said
    assert path.read_bytes() == before
