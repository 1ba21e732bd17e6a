"""Bad input: old formats, huge and garbage outputs.  Each gives a result or one clear line."""

from __future__ import annotations

import json

import nbformat

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
