"""A clean headless run prints only our own lines (issue 14, item 12): no ipykernel warnings about TCP
without encryption, no "KeyboardInterrupt caught in kernel", no kernel traceback after a timeout; the
kernel's own log goes to a file that a failure names.  Real processes, real kernels."""

from __future__ import annotations

import subprocess
import sys

from .conftest import make_notebook

NOISE = ("IPKernelApp", "without encryption", "KeyboardInterrupt caught", "Traceback")


def _jupyter_repro(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "repro_jupyter.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_clean_run_and_verify_print_only_our_lines(tmp_path):
    make_notebook(tmp_path / "q.ipynb", ["x = 6 * 7", "print(x)"])
    run = _jupyter_repro("run", "q.ipynb", "-q", cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == "" and run.stdout == "", (run.stdout, run.stderr)
    verify = _jupyter_repro("verify", "q.ipynb", "-q", cwd=tmp_path)
    assert verify.returncode == 0 and verify.stderr == "" and verify.stdout == "", (
        verify.stdout,
        verify.stderr,
    )


def test_a_timeout_is_one_line_naming_the_kernel_log(tmp_path):
    """The kernel's own stderr goes to a log that a failed run names; a kernel that said nothing leaves
    no log to name (the set-up and metadata requests wait for the kernel, not the cells' --timeout, so an
    interrupted kernel now finishes cleanly instead of tracing a closed socket into its log)."""
    cell = "import os, time\nos.write(2, b'kernel says: slow start\\n')\ntime.sleep(30)"
    make_notebook(tmp_path / "slow.ipynb", [cell])
    run = _jupyter_repro("run", "slow.ipynb", "--timeout", "2", cwd=tmp_path)
    text = run.stdout + run.stderr
    assert run.returncode != 0 and not any(noise in text for noise in NOISE), text
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "timeout" in errors[0] and "kernel log:" in errors[0], errors
    log = errors[0].split("kernel log: ", 1)[1].rstrip(")")
    assert "kernel says: slow start" in open(log).read()

    make_notebook(tmp_path / "quiet.ipynb", ["import time\ntime.sleep(30)"])
    run = _jupyter_repro("run", "quiet.ipynb", "--timeout", "2", cwd=tmp_path)
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode != 0 and len(errors) == 1 and "timeout" in errors[0], errors
    assert not any(noise in run.stdout + run.stderr for noise in NOISE)
