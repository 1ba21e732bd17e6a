"""Git state of the repository that holds the notebook.

The notebook file itself and its ``.repro/`` store are left out of the dirty
check and the diff digest: saving the notebook must not make its own
environment look changed (that would break byte-identical re-runs).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from ..redaction import redact_text

_TIMEOUT = 10


def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", errors="replace")


def git_info(directory: str | os.PathLike[str], exclude: list[str] | None = None) -> dict[str, Any]:
    """Commit, branch, dirty flag and a diff digest, or ``{"available": false}`` with why."""
    cwd = Path(directory)
    if not cwd.is_dir():
        return {"available": False, "reason": "directory does not exist"}
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top is None:
        reason = "not a git repository" if _git(cwd, "--version") else "git not installed"
        return {"available": False, "reason": reason}
    commit = (_git(cwd, "rev-parse", "HEAD") or "").strip() or None
    branch = (_git(cwd, "rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None
    pathspec = ["--", ":/"] + [f":(exclude){p}" for p in (exclude or [])]
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no", *pathspec) or ""
    diff = _git(cwd, "diff", "HEAD", "--no-color", *pathspec) if commit else ""
    info: dict[str, Any] = {
        "available": True,
        "commit": commit,
        "branch": branch,
        "dirty": bool(status.strip()),
        "diff_digest": "sha256:" + hashlib.sha256((diff or "").encode()).hexdigest()
        if status.strip()
        else None,
    }
    remote = _git(cwd, "config", "--get", "remote.origin.url")
    if remote:
        info["remote"] = credential_free_remote(remote.strip())
    return info


def credential_free_remote(url: str) -> str:
    """The remote without any user info (``https://<token>@github.com/o/r`` -> ``https://github.com/o/r``),
    then through the redaction service: a remote names the code, never who fetched it or with what.
    ``git@github.com:o/r`` (scp syntax, no credential) is kept."""
    return redact_text(_USERINFO.sub(r"\g<scheme>", url))


_USERINFO = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@")
