"""One wheel carries everything: installed into a fresh venv with no Node on PATH, JupyterLab lists the
prebuilt extension as enabled and OK and the server extension as enabled (no build step for users)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT
from .conftest import cli as cli_main

PREBUILT = ROOT / "repro_jupyter" / "labextension" / "static" / "style.js"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The project's wheel, built once (no Node needed: the prebuilt extension is already in the tree)."""
    if not PREBUILT.exists():
        pytest.skip("the lab extension is not built here (make install builds it)")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
        ],
        check=True,
        cwd=dist,
    )
    return next(dist.glob("repro_jupyter-*.whl"))


def fresh_venv(where):
    """A new venv with nothing of ours on PATH (no node, no project venv) and the machine's pip config.

    Retries are off so an index that this machine cannot reach (download.pytorch.org, noted by the
    export for torch's local builds) costs one refused request per package, not minutes of backoff.
    """
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {
        "PATH": str(bin_dir),
        "HOME": str(where),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CONFIG_FILE": os.environ.get("PIP_CONFIG_FILE", "/etc/pip.conf"),
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "10",
    }
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CERT"):
        if name in os.environ:
            env[name] = os.environ[name]
    return bin_dir, env


@pytest.mark.timeout(900)
def test_wheel_in_a_fresh_venv_without_node(tmp_path, wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith("share/jupyter/labextensions/repro-jupyter/package.json") for n in names)
    assert any(n.endswith("etc/jupyter/jupyter_server_config.d/repro_jupyter.json") for n in names)
    bin_dir, env = fresh_venv(tmp_path)
    assert shutil.which("node", path=env["PATH"]) is None and shutil.which("jlpm", path=env["PATH"]) is None
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel), "jupyterlab>=4.6,<4.7"],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    labext = subprocess.run(
        [str(bin_dir / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    text = labext.stdout + labext.stderr
    assert "repro-jupyter" in text and "enabled" in text and "OK" in text, text
    server = subprocess.run(
        [str(bin_dir / "jupyter"), "server", "extension", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert "repro_jupyter" in server.stdout + server.stderr and "enabled" in server.stdout + server.stderr
    cli = subprocess.run(
        [str(bin_dir / "jupyter"), "repro", "--version"], capture_output=True, text=True, env=env
    )
    assert cli.returncode == 0 and "repro-jupyter" in cli.stdout


@pytest.mark.timeout(900)
def test_exported_requirements_rebuild_the_demo_which_then_verifies(tmp_path, wheel):
    """Issue 8's promise: record the demo, export its lock, install it into a fresh venv, verify there."""
    demo = tmp_path / "demo.ipynb"
    shutil.copy(ROOT / "examples" / "demo.ipynb", demo)
    assert cli_main("run", demo, "-q") == 0
    lock = tmp_path / "requirements.txt"
    assert cli_main("env", "export", demo, "--format", "requirements", "-o", lock) == 0
    pins = [line for line in lock.read_text().splitlines() if "==" in line]
    names = {line.split("==")[0] for line in pins}
    assert {"torch", "numpy"} <= names, pins

    bin_dir, env = fresh_venv(tmp_path)
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "-r", str(lock), str(wheel)],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    frozen = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "freeze"], capture_output=True, text=True, env=env, check=True
    ).stdout.lower()
    for pin in pins:  # the lock was honoured, not just satisfied
        assert pin.lower() in frozen, pin
    done = subprocess.run(
        [str(bin_dir / "jupyter-repro"), "verify", str(demo), "--report-json", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "reproduced" and report["first_drift"] is None
