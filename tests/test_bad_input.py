"""Bad input: old formats, huge and garbage outputs.  Each gives a result or one clear line."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook

V3 = {
    "metadata": {"name": "old"},
    "nbformat": 3,
    "nbformat_minor": 0,
    "worksheets": [
        {
            "cells": [
                {
                    "cell_type": "code",
                    "input": "x = 6 * 7\nprint(x)",
                    "language": "python",
                    "outputs": [{"output_type": "stream", "stream": "stdout", "text": "42\n"}],
                    "prompt_number": 1,
                },
            ],
            "metadata": {},
        }
    ],
}


def test_nbformat_v3_notebook_runs_and_verifies(tmp_path):
    path = tmp_path / "v3.ipynb"
    path.write_text(json.dumps(V3))
    report = verify_notebook(path, VerifyOptions())
    assert report["status"] == "reproduced", report["reason"]
    assert cli("run", path, "-o", tmp_path / "v4.ipynb", "-q") == 0
    nb = nbformat.read(tmp_path / "v4.ipynb", 4)
    assert nb.nbformat == 4 and METADATA_KEY in nb.cells[0].metadata and nb.cells[0].id


def test_huge_output_is_recorded_and_verified(tmp_path):
    src = make_notebook(tmp_path / "huge.ipynb", ["print('x' * 20_000_000)"])
    assert cli("run", src, "-q") == 0
    assert len(nbformat.read(src, 4).cells[0].outputs[0]["text"]) >= 20_000_000
    assert verify_notebook(src, VerifyOptions())["status"] == "reproduced"


def test_binary_garbage_in_stored_outputs_is_drift_not_a_crash(tmp_path):
    src = make_notebook(
        tmp_path / "g.ipynb",
        [
            "print('hello')",
            "from IPython.display import Image\nImage(b'\\x89PNG\\r\\n\\x1a\\n' + bytes(range(256)))",
        ],
    )
    nb = nbformat.read(src, 4)
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="\x00\ufffd\x1b[31mgarbage\x07")
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "display_data", data={"image/png": "not base64 at all !!", "text/plain": "<Image>"}
        )
    ]
    nb.cells[0].execution_count = nb.cells[1].execution_count = 1
    nbformat.write(nb, src)
    report = verify_notebook(src, VerifyOptions())
    assert report["status"] == "drift"
    assert [c["status"] for c in report["cells"]] == ["drift", "drift"]


# ---------------------------------------------------------------- settings, paths, pipes: one line, exit 2


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def _fake_recorded(folder):
    """A notebook whose environment pointer is in a real store, without starting a kernel."""
    from repro_jupyter.environment import capture
    from repro_jupyter.store import open_store

    store = open_store(folder)
    digest, _ = store.objects.put_json(capture(folder))
    store.catalog.add_environment(digest)
    store.close()
    meta = {"schema_version": 1, "master_seed": 1, "environment": digest}
    return make_notebook(folder / "nb.ipynb", ["x = 1"], **{METADATA_KEY: meta})


BAD_PYPROJECT = {
    "rtol-string": ('[tool.repro-jupyter]\nrtol = "abc"\n', "rtol must be a number"),
    "atol-negative": ("[tool.repro-jupyter]\natol = -1\n", "atol must be a finite number >= 0"),
    "ssim-out-of-range": ("[tool.repro-jupyter]\nssim-threshold = 2\n", "ssim-threshold must be in (0, 1]"),
    "normalize-string": ('[tool.repro-jupyter]\nnormalize = "oops"\n', "normalize must be a list of tables"),
    "bad-regex": (
        '[[tool.repro-jupyter.normalize]]\nname = "ids"\npattern = "([a-z"\n',
        "bad regular expression",
    ),
    "bad-group-reference": (
        '[[tool.repro-jupyter.normalize]]\nname = "g"\npattern = "a"\nreplace = "\\\\1"\n',
        "bad regular expression",
    ),
    "invalid-toml": ("[tool.repro-jupyter\nrtol = 1\n", "is not valid TOML"),
    "tool-not-a-table": ("tool = 3\n", "'tool' must be a table"),
    "section-not-a-table": ('[tool]\nrepro-jupyter = "x"\n', "must be a table"),
}


@pytest.mark.parametrize("case", sorted(BAD_PYPROJECT))
def test_bad_pyproject_is_one_line_and_exit_2_before_any_kernel(tmp_path, capsys, case):
    text, expected = BAD_PYPROJECT[case]
    (tmp_path / "pyproject.toml").write_text(text)
    src = make_notebook(tmp_path / "nb.ipynb", ["print(1)"])
    capsys.readouterr()
    assert cli("verify", src) == 2
    out, err = capsys.readouterr()
    assert expected in _one_line(out + err) and "pyproject.toml" in out + err
    assert not (tmp_path / ".repro").exists()  # stopped before a kernel could record anything


@pytest.mark.parametrize("command", ["run", "show", "fsck", "gc", "sync"])
def test_invalid_toml_is_said_by_every_command_that_reads_it(tmp_path, capsys, command):
    src = make_notebook(tmp_path / "nb.ipynb", ["print(1)"])
    (tmp_path / ".repro" / "objects").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[tool.repro-jupyter]\nstore = \n")
    capsys.readouterr()
    target = tmp_path if command in ("fsck", "gc", "sync") else src
    assert cli(command, target) == 2
    assert "is not valid TOML" in _one_line(capsys.readouterr().err)
    assert nbformat.read(src, 4).cells[0].outputs == []  # run never started a kernel


def test_a_store_setting_that_is_not_a_string_is_said(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text("[tool.repro-jupyter]\nstore = 5\n")
    assert cli("sync", tmp_path) == 2
    assert "store must be a path or URL string" in _one_line(capsys.readouterr().err)


def test_env_export_to_a_missing_folder_is_one_line(tmp_path, capsys):
    src = _fake_recorded(tmp_path)
    capsys.readouterr()
    assert cli("env", "export", src, "-o", "/nonexistent/dir/f") == 2
    assert "cannot write /nonexistent/dir/f" in _one_line(capsys.readouterr().err)
    assert cli("env", "export", src, "-o", tmp_path) == 2  # a directory
    assert "cannot write" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["env", "export", "{nb}"],
        ["show", "{nb}"],
        ["env", "diff", "{nb}", "{nb}"],
        ["fsck", "{dir}"],
    ],
)
def test_a_closed_pipe_ends_quietly(tmp_path, args):
    """`jupyter repro ... | head`: the reader is gone before we write; no traceback, no noise."""
    import subprocess
    import sys

    src = _fake_recorded(tmp_path)
    argv = [a.format(nb=src, dir=tmp_path) for a in args]
    proc = subprocess.Popen(
        [sys.executable, "-m", "repro_jupyter.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    proc.stdout.close()  # like `head` that has read what it wanted
    err = proc.stderr.read().decode()
    code = proc.wait(120)
    assert err == ""
    assert code == (0 if args == ["--help"] else 141)  # argparse itself ignores a failed write


def test_a_huge_argument_is_cut_in_messages(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    huge = "sha256:" + "a" * 5_000_000
    assert cli("env", "diff", huge, "current") == 2
    assert len(_one_line(capsys.readouterr().err)) < 1000
    assert cli("verify", "--rtol", "1" * 5_000_000, "nb.ipynb") == 2  # argparse's own error
    assert len(capsys.readouterr().err) < 2000
    src = make_notebook(tmp_path / "nb.ipynb", ["1"])
    nb = nbformat.read(src, 4)
    nb.metadata[METADATA_KEY] = {"schema_version": 1, "master_seed": 1, "environment": huge}
    nbformat.write(nb, src)
    for command in ("show", "lineage", "verify"):
        assert cli(command, src) == 2
        out, err = capsys.readouterr()
        assert len(out + err) < 2000, command


def test_sync_in_an_empty_folder_creates_nothing(tmp_path, capsys):
    assert cli("sync", tmp_path) == 0
    assert "nothing to synchronise" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_mlflow_server_costs_seconds_not_minutes(tmp_path):
    """Port 9 refuses connections; MLflow's default retries took 254 s.  The subprocess timeout is the
    bound (a hang fails the test), the exit code and the one line are the checks."""
    import subprocess
    import sys

    pytest.importorskip("mlflow")
    src = make_notebook(tmp_path / "nb.ipynb", ["x = 1", "print(x)"])
    assert cli("run", src, "-q") == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "repro_jupyter.cli", "export", "mlflow", str(src)]
        + ["--tracking-uri", "http://127.0.0.1:9/"],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "127.0.0.1:9" in _one_line(done.stderr)


def test_absolute_declared_inputs_are_recorded_relative(tmp_path):
    """`%%repro --inputs /abs/path`: the record holds a path relative to the notebook (docs: no
    absolute paths), and the same file still hashes the same."""
    from repro_jupyter.store import open_store

    data = tmp_path / "data" / "train.csv"
    data.parent.mkdir()
    data.write_text("a,b\n1,2\n")
    folder = tmp_path / "project"
    src = make_notebook(folder / "nb.ipynb", [f"%%repro --inputs {data}\nprint(open({str(data)!r}).read())"])
    assert cli("run", src, "-q") == 0
    record_digest = nbformat.read(src, 4).cells[0].metadata[METADATA_KEY]["record"]
    record = open_store(folder, create=False).objects.get_json(record_digest)
    paths = [entry["path"] for entry in record["inputs"]]
    assert paths == ["../data/train.csv"], paths
    assert str(tmp_path) not in json.dumps(record)


@pytest.mark.parametrize(
    "args",
    [
        ("sensitivity", "{nb}", "--seeds", str(2**40)),  # built a list of 2**40 seeds: memory exhausted
        ("sensitivity", "{nb}", "--base-seed", str(2**32)),  # seeds are unsigned 32-bit
        ("verify", "{nb}", "{nb}", "-j", str(2**40)),  # forked that many workers
        ("verify", "{nb}", "--runs", "100000"),
    ],
)
def test_counts_are_bounded_before_anything_runs(tmp_path, capsys, args):
    src = make_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    capsys.readouterr()
    assert cli(*[a.format(nb=src) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "must be from" in err[0], err


def test_verify_quiet_still_names_what_failed(tmp_path, capsys):
    """`-q` drops the summary of what reproduced; a notebook that errors or drifts still gets a line."""
    src = make_notebook(tmp_path / "nb.ipynb", ["x = 1", "print(x)"])
    capsys.readouterr()
    assert cli("verify", src, "-q") == 2  # never recorded
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "ERROR" in out[0] and "nb.ipynb" in out[0], out
    assert cli("run", src, "-q") == 0
    assert cli("verify", src, "-q") == 0
    assert capsys.readouterr().out == ""
    nb = nbformat.read(src, 4)
    nb.cells[1].outputs[0]["text"] = "2\n"  # the saved output says 2, the code prints 1
    nbformat.write(nb, src)
    assert cli("verify", src, "-q") == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "DRIFT at cell 2" in out[0]  # the second cell (1-based, numbering.py), out


def test_explain_with_a_notebook_name_too_long_for_the_os_is_one_line(tmp_path, capsys):
    """Found by the CLI fuzz once `explain` joined it: is_file() raised ENAMETOOLONG as a traceback."""
    capsys.readouterr()
    assert cli("explain", "a" * 5000 + ".ipynb") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such notebook" in err[0] and len(err[0]) < 400, err
