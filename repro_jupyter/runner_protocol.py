"""The names both ends of the runner API agree on (kernel: ``kernel_runner``; runners: ``headless`` and
the Lab's ``runnercomm.ts``).  Kept apart so that a runner process does not import the kernel side.

The messages themselves are the contract in ``schema/messages.v1.json``.
"""

from __future__ import annotations

RUNNER_TARGET = "repro_jupyter.runner"
# What a runner sends before its first request: fixed, no data in it (IPython loads any module that has
# ``load_ipython_extension``; this one registers the comm target).
LOAD_LINE = "%load_ext repro_jupyter.kernel_runner"


def reply_type(kind: str) -> str:
    """``configure_replay`` is answered by ``configure_replay_reply``."""
    return f"{kind}_reply"
