"""Detecting randomness drawn from sources the master seed does not control.

A cell that builds ``np.random.default_rng()`` or calls ``random.seed()`` without
a seed gets OS entropy: its results can never be reproduced.  While a recorded
cell runs, those module-level functions are wrapped so such calls are noted (the
call still behaves exactly as before).  Classes are deliberately not wrapped
(``isinstance`` checks in libraries such as scikit-learn would break), and a
name bound before the cell started (``from numpy.random import default_rng``)
bypasses the wrapper; the RNG state digests still show such draws as
consumption.  This limit is documented in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .seeding import SEED_ON_IMPORT


@contextmanager
def detect_unseeded() -> Iterator[list[str]]:
    """Yield a list that fills with a description of each unseeded RNG the cell creates."""
    found: list[str] = []

    def report(what: str) -> None:
        if what not in found:
            found.append(what)

    patches: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return
        patches.append((owner, name, original))
        setattr(owner, name, make(original))

    def patch_numpy(np_random: Any) -> None:

        def wrap_default_rng(original: Any) -> Any:
            def default_rng(seed: Any = None, *args: Any, **kwargs: Any) -> Any:
                if seed is None:
                    report("numpy.random.default_rng() without a seed")
                return original(seed, *args, **kwargs)

            return default_rng

        def wrap_np_seed(original: Any) -> Any:
            def seed(seed: Any = None) -> Any:
                if seed is None:
                    report("numpy.random.seed() without a seed (OS entropy)")
                return original(seed)

            return seed

        patch(np_random, "default_rng", wrap_default_rng)
        patch(np_random, "seed", wrap_np_seed)

    if "numpy.random" in sys.modules:
        patch_numpy(sys.modules["numpy.random"])

    def patch_torch(torch: Any) -> None:

        def wrap_seed(original: Any) -> Any:
            def seed() -> Any:
                report("torch.seed() reseeded torch from OS entropy")
                return original()

            return seed

        patch(torch, "seed", wrap_seed)

    if "torch" in sys.modules and hasattr(sys.modules["torch"], "seed"):
        patch_torch(sys.modules["torch"])

    def on_import(fullname: str, module: Any) -> None:  # imported inside the cell
        if fullname == "numpy.random":
            patch_numpy(module)
        elif fullname == "torch":
            patch_torch(module)

    SEED_ON_IMPORT.on_import.append(on_import)

    def wrap_random_seed(original: Any) -> Any:
        def seed(a: Any = None, version: int = 2) -> Any:
            if a is None:
                report("random.seed() without a seed (OS entropy)")
            return original(a, version)

        return seed

    patch(random, "seed", wrap_random_seed)
    try:
        yield found
    finally:
        if on_import in SEED_ON_IMPORT.on_import:
            SEED_ON_IMPORT.on_import.remove(on_import)
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)
