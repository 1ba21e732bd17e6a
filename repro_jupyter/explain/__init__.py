"""``jupyter repro explain``: turn a likely cause of drift into a proven one by controlled re-execution.

core.py runs the trials; trialenv.py builds the trial environments (uv, layered over the
kernel's environment); bisect.py narrows the changed distributions; factors.py says what
differs and what can be put back; trials.py runs and judges one trial in a scratch store.
"""

from .core import ExplainOptions, exit_code, explain_notebook
from .trialenv import ExplainError, Sources, cache_root, clean

__all__ = [
    "ExplainOptions",
    "ExplainError",
    "Sources",
    "cache_root",
    "clean",
    "exit_code",
    "explain_notebook",
]
