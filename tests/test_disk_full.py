"""Disk full, for real: a 4 MiB tmpfs under the notebook and its store.

A checkpoint that does not fit, and then a notebook that cannot be saved, must
each end in one clear line and a non-zero exit, with everything recorded before
still intact (fsck clean, the old notebook byte for byte, verify reproduces it).
Mounting needs root (CAP_SYS_ADMIN); elsewhere the test skips and says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import nbformat
import pytest

from .conftest import cli, make_notebook


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a size-limited tmpfs needs root and mount(8); not available here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder, leave: int) -> None:
    """Fill the file system until only ``leave`` bytes are free."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with open(folder / "filler.bin", "wb") as fh:
        fh.truncate(0)
        block = b"\0" * (1 << 16)
        remaining = max(free - leave, 0)
        try:
            while remaining > 0:
                remaining -= fh.write(block[: min(len(block), remaining)])
        except OSError:
            pass


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("jupyter repro")]
    assert len(lines) == 1, err
    return lines[0]


def test_checkpoint_that_does_not_fit_is_one_line_and_loses_nothing(small_disk, capsys):
    nb = make_notebook(small_disk / "nb.ipynb", ["x = 41 + 1\nprint(x)"], ids=["a"])
    assert cli("run", nb, "-q") == 0
    assert cli("fsck", small_disk) == 0
    capsys.readouterr()

    make_notebook(
        nb,
        ["x = 41 + 1\nprint(x)", "import numpy as np\nbig = np.arange(1_000_000.0)\nprint(big.sum())"],
        ids=["a", "b"],
    )
    assert cli("run", nb, "-q") == 2  # 8 MB of checkpoint cannot fit in 4 MiB
    line = _one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line

    saved = nbformat.read(nb, 4)
    assert [c.outputs[0]["text"] for c in saved.cells] == ["42\n", "499999500000.0\n"]
    assert cli("fsck", small_disk) == 0  # no half-written object under a real name
    assert cli("verify", nb) == 0


def test_notebook_that_cannot_be_saved_keeps_the_old_file(small_disk, capsys):
    nb = make_notebook(small_disk / "nb.ipynb", ["x = 1\nprint('x' * 1000)"], ids=["a"])
    assert cli("run", nb, "-q") == 0
    before = nb.read_bytes()
    make_notebook(nb, ["x = 1\nprint('x' * 1000)", "print('y' * 200_000)"], ids=["a", "b"])
    edited = nb.read_bytes()
    _fill(small_disk, leave=64 * 1024)  # the store's small records fit, the 200 kB output does not
    capsys.readouterr()

    assert cli("run", nb, "-q") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line and "nb.ipynb" in line
    assert nb.read_bytes() == edited  # the user's file is untouched, not truncated
    assert not [p for p in small_disk.iterdir() if p.name.endswith(".tmp")]  # no stray temp files
    (small_disk / "filler.bin").unlink()
    assert cli("fsck", small_disk) == 0
    assert before != edited
