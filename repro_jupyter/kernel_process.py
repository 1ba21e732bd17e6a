"""The kernel process of a headless run: which kernelspec runs the notebook, and where its stderr goes.

ipykernel's own log lines (shutdown chatter, interrupt tracebacks) are not a run's output: they go to a
temporary file that a failed run names in its one-line error, and that a clean run deletes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def kernel_log() -> Any:
    """A file for the kernel's stderr: ipykernel's log lines (shutdown chatter, interrupt tracebacks) are
    not ours to print; ``REPRO_JUPYTER_KERNEL_LOG=inherit`` shows them on the terminal again."""
    import tempfile

    if os.environ.get("REPRO_JUPYTER_KERNEL_LOG") == "inherit":
        return None
    return tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by close_kernel_log
        "w+b", prefix="repro-jupyter-kernel-", suffix=".log", delete=False
    )


def close_kernel_log(log: Any, keep: bool) -> str | None:
    """Close the log; when the run failed and the kernel said something, keep the file and name it."""
    if log is None:
        return None
    log.close()
    path = Path(log.name)
    try:
        if keep and path.stat().st_size > 0:
            return str(path)
        path.unlink()
    except OSError:
        pass
    return None


def kernel_for(nb: Any, source: Path) -> str:
    """The notebook's kernel; a Python kernelspec that is not installed here (``python2``, a conda env's
    name) runs on ``python3``, said in one line, as Jupyter does when it offers the default kernel."""
    import sys

    spec = nb.metadata.get("kernelspec") or {}
    name = spec.get("name") or "python3"
    language = str(spec.get("language") or (nb.metadata.get("language_info") or {}).get("name") or "")
    if name == "python3" or language.lower() != "python":
        return name
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        installed = set(KernelSpecManager().find_kernel_specs())
    except Exception:
        return name
    if name in installed or "python3" not in installed:
        return name
    print(
        f"{source.name}: kernel '{name}' is not installed; running on 'python3' (the notebook is Python)",
        file=sys.stderr,
    )
    return "python3"
