"""Training milestones: ``checkpoint(name, model=..., optimizer=..., ...)`` inside a training loop and
``restore_checkpoint(name, ...)`` in a fresh kernel, so a run resumed from epoch k is bit-identical (on CPU)
to the run that never stopped.  Safe formats only (safetensors + JSON; the signed pickle only for state JSON
cannot hold), immutable and content-addressed in the notebook's store.  See ``docs/TRAINING.md``.

Modules: ``save`` (checkpoint), ``restore`` (validate everything, then load), ``states`` (what each object
holds: RNGs, loader generators, checks), ``packing`` (bytes), ``context`` (the run a milestone links to),
``listing`` (``jupyter repro checkpoints``), ``loadcheck`` (``jupyter repro check --checkpoint``).
"""

from __future__ import annotations

from .errors import MilestoneError
from .restore import restore_checkpoint
from .save import checkpoint

__all__ = ["checkpoint", "restore_checkpoint", "MilestoneError"]
