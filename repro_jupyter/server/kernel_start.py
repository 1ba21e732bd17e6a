"""Kernels this Jupyter server starts get the hash seed headless runs get.

``jupyter repro run``/``verify`` start kernels with ``PYTHONHASHSEED=0`` (``seeding.kernel_env``), so
the iteration order of a set of strings is the same in every run.  A kernel JupyterLab starts would
otherwise draw a random hash seed: its records would differ from a headless run's of the same cell
(the environment names the hash seed), and set order could differ between the recording and a replay.
Only kernels are touched (not the server's own environment, not terminals); a ``PYTHONHASHSEED`` the
user exported (an integer) is kept, as headless runs keep it.
"""

from __future__ import annotations

import functools
import os
from typing import Any


def fix_hash_seed(kernel_manager: Any) -> None:
    """Wrap ``kernel_manager.start_kernel`` so every new kernel's environment has the fixed hash seed."""
    start = getattr(kernel_manager, "start_kernel", None)
    if start is None or getattr(start, "_repro_hash_seed", False):
        return

    @functools.wraps(start)
    async def start_kernel(*args: Any, **kwargs: Any) -> Any:
        from ..seeding import HASH_SEED

        env = dict(kwargs.get("env") or os.environ)
        if not env.get("PYTHONHASHSEED", "").strip().isdigit():
            env["PYTHONHASHSEED"] = HASH_SEED
        kwargs["env"] = env
        return await start(*args, **kwargs)

    start_kernel._repro_hash_seed = True  # type: ignore[attr-defined]
    kernel_manager.start_kernel = start_kernel
