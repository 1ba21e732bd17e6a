"""Randomness a recorded cell draws from sources the master seed does not control.

A cell that builds ``np.random.default_rng()`` or calls ``random.seed()`` without
a seed gets OS entropy: its results could never be reproduced.  While a recorded
cell runs, those entry points are wrapped.  With auto-seeding on (the default)
such a call gets a seed derived from the cell seed and the order of the call
within the cell (``derive_auto_seed``), so the run reproduces and another master
seed changes it; the call is listed in the record's ``auto_seeded``.  With
auto-seeding off (``%repro on --no-auto-seed``) the call behaves exactly as
before and is only noted as ``unseeded``.

Wrapped: ``numpy.random.default_rng``/``seed``, ``random.seed``, ``random.Random``
(through its ``seed`` method: the class itself is never replaced), ``torch.seed``
and ``torch.Generator`` (see ``seeding_torch``).  A name bound before the cell
started (``from numpy.random import default_rng``) bypasses the wrapper, as do
entropy-seeded bit generators built directly (``np.random.PCG64()``); the RNG
state digests still show draws from the global RNGs as consumption.  Every patch
is undone when the cell ends; objects created during the cell consult
``current_auto_seeder()`` and behave as plain ones once no cell is recorded.
"""

from __future__ import annotations

import hashlib
import random
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from .seeding import SEED_ON_IMPORT

# modules whose private generators are not the notebook's randomness: tempfile's name sequence
# (``random.Random()`` at its first temp file) must stay entropy-seeded, or two processes with one
# cell seed would try the same names
NOT_THE_CELLS = frozenset({"tempfile"})

# records list at most this many auto-seeded calls (a loop building a generator per step would
# otherwise grow the record without bound); the count of the rest is kept
MAX_LISTED = 32


def derive_auto_seed(cell_seed: int, order: int, worker_seed: int | None = None) -> int:
    """A 32-bit seed for the ``order``-th unseeded generator of a cell: stable across runs.

    Inside a DataLoader worker the worker's own seed (torch's ``base_seed + id``, itself drawn
    from the cell-seeded torch RNG) is mixed in, so workers do not share one stream.
    """
    where = "" if worker_seed is None else f"/worker/{int(worker_seed)}"
    material = f"repro-jupyter/auto-seed/v1/{int(cell_seed)}/{int(order)}{where}".encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:4], "big")


def _worker_seed() -> int | None:
    data = sys.modules.get("torch.utils.data")
    get_info = getattr(data, "get_worker_info", None)
    if get_info is None:
        return None
    try:
        info = get_info()
    except Exception:
        return None
    return None if info is None else int(info.seed)


@dataclass
class RandomnessLog:
    """What one recorded cell did with randomness outside the global, per-cell seeded RNGs."""

    cell_seed: int
    auto_seed: bool = True
    unseeded: list[str] = field(default_factory=list)
    auto_seeded: list[dict[str, Any]] = field(default_factory=list)
    not_listed: int = 0
    components: list[str] = field(default_factory=list)  # seeded by the RNGs we seed (DataLoader workers)
    # the cell's thread: a generator another thread creates meanwhile (the store writer's temp files,
    # a comm) is not the cell's, and counting it would make the order, hence the seeds, timing-dependent
    thread: int = field(default_factory=threading.get_ident)
    _order: int = 0

    def from_cell(self) -> bool:
        """True when the current call comes from the cell's thread (forked workers keep its id)."""
        return threading.get_ident() == self.thread

    def report(self, what: str) -> None:
        """An unseeded source that was left alone (auto-seeding off, or not seedable by us)."""
        if what not in self.unseeded:
            self.unseeded.append(what)

    def seed_for(self, call: str) -> int:
        """The next derived seed for an unseeded ``call``; noted in the record."""
        self._order += 1
        worker = _worker_seed()
        seed = derive_auto_seed(self.cell_seed, self._order, worker)
        if worker is None:  # a worker process's notes never reach the record: only the parent's count
            if len(self.auto_seeded) < MAX_LISTED:
                self.auto_seeded.append({"call": call, "order": self._order, "seed": seed})
            else:
                self.not_listed += 1
        return seed

    def component(self, what: str) -> None:
        """Note a component that draws from RNGs we seed (DataLoader
        workers), listed as seeded in the record, once each."""
        if what not in self.components:
            self.components.append(what)

    def unseeded_or_seed(self, call: str, entropy_note: str) -> int | None:
        """A derived seed when auto-seeding is on; else note the entropy source and return None.

        Calls from another thread are left alone (None, nothing noted)."""
        if not self.from_cell():
            return None
        if self.auto_seed:
            return self.seed_for(call)
        self.report(entropy_note)
        return None


_CURRENT: list[RandomnessLog] = []


def current_auto_seeder() -> RandomnessLog | None:
    """The log of the cell being recorded when it auto-seeds, else None (objects made earlier
    use this to behave as plain ones outside a recorded cell)."""
    if _CURRENT and _CURRENT[-1].auto_seed and _CURRENT[-1].from_cell():
        return _CURRENT[-1]
    return None


class _Patches:
    def __init__(self) -> None:
        self.undo: list[tuple[Any, str, Any]] = []

    def patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if original is None:
            return
        self.undo.append((owner, name, original))
        setattr(owner, name, make(original))

    def restore(self) -> None:
        for owner, name, original in reversed(self.undo):
            setattr(owner, name, original)
        self.undo.clear()


def _patch_numpy(p: _Patches, np_random: Any, log: RandomnessLog) -> None:
    def wrap_default_rng(original: Any) -> Any:
        def default_rng(seed: Any = None, *args: Any, **kwargs: Any) -> Any:
            if seed is None:
                seed = log.unseeded_or_seed(
                    "numpy.random.default_rng()", "numpy.random.default_rng() without a seed"
                )
            return original(seed, *args, **kwargs)

        return default_rng

    def wrap_np_seed(original: Any) -> Any:
        def seed(seed: Any = None) -> Any:
            if seed is None:
                seed = log.unseeded_or_seed(
                    "numpy.random.seed()", "numpy.random.seed() without a seed (OS entropy)"
                )
            return original(seed)

        return seed

    p.patch(np_random, "default_rng", wrap_default_rng)
    p.patch(np_random, "seed", wrap_np_seed)


def _caller_module() -> str:
    """The module that called into ``random`` (skipping random.py's own frames)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == "random":
        frame = frame.f_back
    return "" if frame is None else str(frame.f_globals.get("__name__", ""))


def _patch_random(p: _Patches, log: RandomnessLog) -> None:
    def wrap_random_seed(original: Any) -> Any:
        def seed(a: Any = None, version: int = 2) -> Any:
            if a is None:
                a = log.unseeded_or_seed("random.seed()", "random.seed() without a seed (OS entropy)")
            return original(a, version)

        return seed

    def wrap_class_seed(original: Any) -> Any:
        # Random.__init__ calls self.seed(x): a new random.Random() lands here with a=None
        def seed(self: Any, a: Any = None, version: int = 2) -> Any:
            # SystemRandom and overrides are left alone, and so is a stdlib module's private generator
            if a is None and type(self).seed is seed and _caller_module() not in NOT_THE_CELLS:
                a = log.unseeded_or_seed("random.Random()", "random.Random() without a seed (OS entropy)")
            return original(self, a, version)

        return seed

    p.patch(random, "seed", wrap_random_seed)
    p.patch(random.Random, "seed", wrap_class_seed)


@contextmanager
def detect_unseeded(cell_seed: int = 0, auto_seed: bool = False) -> Iterator[RandomnessLog]:
    """Yield the cell's ``RandomnessLog``; with ``auto_seed`` unseeded generators get derived seeds."""
    from . import seeding_torch

    log = RandomnessLog(int(cell_seed), bool(auto_seed))
    p = _Patches()
    if "numpy.random" in sys.modules:
        _patch_numpy(p, sys.modules["numpy.random"], log)
    if "torch" in sys.modules and hasattr(sys.modules["torch"], "seed"):
        seeding_torch.patch_torch(p, sys.modules["torch"], log)

    def on_import(fullname: str, module: Any) -> None:  # imported inside the cell
        if fullname == "numpy.random":
            _patch_numpy(p, module, log)
        elif fullname == "torch":
            seeding_torch.patch_torch(p, module, log)

    SEED_ON_IMPORT.on_import.append(on_import)
    _patch_random(p, log)
    _CURRENT.append(log)
    try:
        yield log
    finally:
        if log in _CURRENT:
            _CURRENT.remove(log)
        if on_import in SEED_ON_IMPORT.on_import:
            SEED_ON_IMPORT.on_import.remove(on_import)
        p.restore()
