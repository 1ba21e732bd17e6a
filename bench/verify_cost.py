"""Verify cost: ``verify`` vs plain nbclient execution vs ``pytest --nbval``, same notebooks, same run.

Also counts, on the corpus, how many notebooks each tool passes under default settings
with no sanitizer file (nbval's figure, not ours, is the peer figure for the issue).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from .common import CORPUS, ratio, timed

QUICK = ["wwt_05_scalar_types", "wwt_09_errors", "pdsh_02.02", "pdsh_03.03", "wwt_15_ds_preview"]
SLOW = {"pdsh_02.03", "pdsh_02.09"}  # %timeit-heavy: 15-30 s each


def _plain(path: Path) -> None:
    nb = nbformat.read(path, 4)
    NotebookClient(
        copy.deepcopy(nb),
        kernel_name="python3",
        timeout=300,
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()


def _verify(path: Path) -> dict[str, Any]:
    from repro_jupyter.verify import VerifyOptions, verify_notebook

    return verify_notebook(path, VerifyOptions(timeout=300))


def _nbval(path: Path) -> int:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:repro",
            "--nbval",
            "--nbval-current-env",
            str(path),
        ],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.returncode


def run(quick: bool, repeats: int) -> dict[str, Any]:
    if not CORPUS.is_dir():
        return {"skipped": f"corpus not found at {CORPUS}"}
    scratch = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    try:
        shutil.copytree(CORPUS / "real_world", scratch / "real_world")
        config = json.loads((scratch / "real_world" / "config.json").read_text())
        rows = []
        for entry in config:
            if quick and entry["id"] not in QUICK:
                continue
            path = scratch / "real_world" / entry["notebook"]
            reps = 1 if entry["id"] in SLOW else repeats
            plain = timed(lambda p=path: _plain(p), reps)
            report: dict[str, Any] = {}
            verify = timed(lambda p=path, r=report: r.update(_verify(p)), reps)
            codes: list[int] = []
            nbval = timed(lambda p=path, c=codes: c.append(_nbval(p)), reps)
            rows.append(
                {
                    "id": entry["id"],
                    "plain_nbclient_s": plain,
                    "verify_s": verify,
                    "nbval_s": nbval,
                    "verify_over_plain": ratio(verify, plain),
                    "nbval_over_plain": ratio(nbval, plain),
                    "verify_status": report.get("status"),
                    "nbval_passed": codes[-1] == 0,
                }
            )
        total_plain = sum(r["plain_nbclient_s"]["median"] for r in rows)
        total_verify = sum(r["verify_s"]["median"] for r in rows)
        total_nbval = sum(r["nbval_s"]["median"] for r in rows)
        return {
            "notebooks": rows,
            "summary": {
                "notebooks": len(rows),
                "verify_reproduced": sum(r["verify_status"] == "reproduced" for r in rows),
                "nbval_passed": sum(r["nbval_passed"] for r in rows),
                "verify_over_plain_total": round(total_verify / total_plain, 3) if total_plain else None,
                "nbval_over_plain_total": round(total_nbval / total_plain, 3) if total_plain else None,
                "target_verify_over_plain": 1.10,
            },
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
