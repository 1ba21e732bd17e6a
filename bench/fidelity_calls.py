"""One harness call of the CLI, what it said in a line, and whether an injected change was caught."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .common import ROOT

TIMEOUT = 900  # seconds for one CLI call (pdsh_02.09's %timeit cells take ~30 s in all)


def jupyter() -> str:
    local = ROOT / ".venv" / "bin" / "jupyter"
    return str(local) if local.exists() else (shutil.which("jupyter") or "jupyter")


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``jupyter repro ...`` as a user types it; no store or scratch settings leak in from our env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRO_JUPYTER_")}
    try:
        return subprocess.run(
            [jupyter(), "repro", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, "", f"timed out after {TIMEOUT} s")


NOISE = ("[IPKernelApp]", "Use IPC transport", "warnings.warn", "Warning:")


def message(proc: subprocess.CompletedProcess[str], lines: int = 2) -> str:
    """What a user reads first: the tool's error lines on stderr, else the first lines it printed."""
    err = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
    err = [ln for ln in err if not any(n in ln for n in NOISE)]
    errors = [ln for ln in err if "error" in ln.lower() or "raised" in ln or "failed" in ln.lower()]
    if errors:
        return " | ".join(errors[-lines:])
    out = [ln.strip() for ln in (proc.stdout or "").splitlines() if ln.strip()]
    return " | ".join((out or err)[:lines])


def cell_name(index: int | None) -> str:
    return "none" if index is None else f"#{index + 1} (idx {index})"


def verify(folder: Path, name: str, report: Path) -> dict[str, Any]:
    """``jupyter repro verify NB --report-json`` and what we need from it."""
    proc = cli(["verify", name, "--report-json", str(report)], folder)
    out: dict[str, Any] = {"exit": proc.returncode, "message": message(proc)}
    if report.exists():
        data = json.loads(report.read_text())
        out["status"] = data.get("status")
        out["first_drift"] = (data.get("first_drift") or {}).get("index")
        out["cells"] = [c for c in data.get("cells", []) if c.get("status") not in ("same", "skipped")]
    else:
        out["status"], out["first_drift"], out["cells"] = None, None, []
    return out


def drifting(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per drifting cell: where, what differs, and the top cause (for the list of false drifts)."""
    rows = []
    for c in cells:
        if c.get("status") not in ("drift", "error"):
            continue
        cause = (c.get("causes") or [{}])[0]
        rows.append(
            {
                "index": c["index"],
                "cell": cell_name(c["index"]),
                "status": c["status"],
                "source": (c.get("source") or "")[:120],
                "differences": [d.get("detail", "")[:300] for d in c.get("differences", [])][:3],
                "top_cause": f"{cause.get('kind')}: {cause.get('detail', '')}"[:300],
            }
        )
    return rows


def judge(
    result: dict[str, Any], expected: int | None, kind: str, must_mention: str = "", known_false: Any = ()
) -> dict[str, Any]:
    """Compare a verify result with the expectation; ``expected`` None means: no change, exit 0.
    ``known_false``: cells the plain verify already (falsely) flagged, named when they mask the change."""
    cell = next((c for c in result["cells"] if c["index"] == result["first_drift"]), None)
    cause = ((cell or {}).get("causes") or [{}])[0]
    got = {
        "exit": result["exit"],
        "cell": result["first_drift"],
        "where": cell_name(result["first_drift"]),
        "top_cause": cause.get("kind"),
        "cause_detail": cause.get("detail"),
        "differences": [d.get("detail", "")[:300] for d in (cell or {}).get("differences", [])][:3],
        "message": result["message"],
    }
    problems = []
    if expected is None:
        if result["exit"] != 0:
            problems.append(f"exit {result['exit']}, want 0 (nothing observable changed)")
    else:
        if result["exit"] != 1:
            problems.append(f"exit {result['exit']}")
        if result["first_drift"] != expected:
            there = next((c for c in result["cells"] if c["index"] == expected), None)
            said = (
                "same"
                if there is None
                else f"{there['status']}/{((there.get('causes') or [{}])[0]).get('kind')}"
            )
            masked = " (a false drift of the plain verify)" if result["first_drift"] in known_false else ""
            problems.append(
                f"first drift {cell_name(result['first_drift'])}{masked}, want {cell_name(expected)} "
                f"(there: {said})"
            )
        elif cause.get("kind") != kind:
            problems.append(f"top cause {cause.get('kind')}, want {kind}")
        elif must_mention and must_mention not in (cause.get("detail") or ""):
            problems.append(f"top cause does not name {must_mention}")
    return {
        "status": "FAIL" if problems else "ok",
        "why": "; ".join(problems),
        "expected_cell": expected,
        "expected": cell_name(expected) if expected is not None else "no drift (exit 0)",
        "expected_cause": kind if expected is not None else None,
        "got": got,
    }
