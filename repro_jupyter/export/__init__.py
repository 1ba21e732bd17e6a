"""Exports of a recorded run to other systems (``jupyter repro export TARGET``).

Each target has a plan builder that turns the notebook and its store into plain
data (testable without the target's library) and a small module that sends the
plan, importing the optional library lazily.  Everything leaving through here
passes ``scrub.Scrubber`` (pattern and known-value redaction).
"""

from __future__ import annotations

from .mlflow_run import RunPlan, build_plan
from .scrub import Scrubber

__all__ = ["RunPlan", "Scrubber", "build_plan"]
