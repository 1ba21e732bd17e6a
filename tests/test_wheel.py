"""One wheel carries everything: installed into a fresh venv with no Node on PATH, JupyterLab lists the
prebuilt extension as enabled and OK and the server extension as enabled (no build step for users)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT

PREBUILT = ROOT / "repro_jupyter" / "labextension" / "static" / "style.js"


@pytest.mark.timeout(900)
def test_wheel_in_a_fresh_venv_without_node(tmp_path):
    if not PREBUILT.exists():
        pytest.skip("the lab extension is not built here (make install builds it)")
    dist = tmp_path / "dist"
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
        cwd=tmp_path,
    )
    wheel = next(dist.glob("repro_jupyter-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith("share/jupyter/labextensions/repro-jupyter/package.json") for n in names)
    assert any(n.endswith("etc/jupyter/jupyter_server_config.d/repro_jupyter.json") for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CONFIG_FILE": os.environ.get("PIP_CONFIG_FILE", "/etc/pip.conf"),
    }
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
