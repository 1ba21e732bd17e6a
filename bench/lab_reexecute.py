"""Re-execute and compare in JupyterLab vs JupyterLab's own "Restart Kernel and Run All Cells".

The measurement is a Galata script (``ui-tests/bench/reexecute.bench.ts``): one real JupyterLab, one
Chromium page, the recorded demo, the two alternating so both see the same load.  Target (issue 14):
re-execute-and-compare at most 1.2x restart-run-all.  Needs the UI test tool chain (``make test-ui``
installs it: ui-tests/node_modules and Debian's chromium); without it the scenario says why in one line.
Run alone: ``python -m bench --only lab_reexecute --merge``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui-tests"
PORT = "8897"  # not the UI tests' 8888: a bench may run beside them


def missing() -> str | None:
    if not (UI / "node_modules" / "@jupyterlab" / "galata").is_dir():
        return "ui-tests/node_modules is not installed (make test-ui installs it)"
    if not Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")).exists():
        return "chromium is not installed (make chromium)"
    if shutil.which("npx") is None:
        return "npx (Node) is not on PATH"
    return None


def run(quick: bool, repeats: int) -> dict[str, Any]:
    why = missing()
    if why:
        return {"skipped": why}
    out = Path(tempfile.mkdtemp(prefix="bench-lab-")) / "lab_reexecute.json"
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "REPRO_UI_PORT": PORT,
        "REPRO_BENCH_REPEATS": str(1 if quick else max(1, repeats)),
        "REPRO_BENCH_OUT": str(out),
    }
    cmd = ["npx", "playwright", "test", "--config", "playwright.bench.config.ts", f"--output={out.parent}/pw"]
    proc = subprocess.run(cmd, cwd=UI, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        return {"skipped": f"the Galata bench failed (exit {proc.returncode}): {tail[0][:200]}"}
    result = json.loads(out.read_text())
    shutil.rmtree(out.parent, ignore_errors=True)
    result["met"] = result["reexecute_over_restart_run_all"] <= result["target"]
    return result
