"""torch's own sources of randomness inside a recorded cell: generators and DataLoader workers.

What torch 2.x already does (read in ``torch/utils/data/_utils/worker.py``): every
DataLoader iterator draws a ``base_seed`` from the loader's generator, else from
torch's global RNG, and each worker seeds ``random`` and ``torch`` with
``base_seed + worker_id`` and NumPy's global RNG with a SeedSequence-like mix of
both.  The recorder seeds torch's global RNG before every cell, so the workers of a
loader iterated in a recorded cell are already governed by the master seed; the
only gaps are generators seeded from OS entropy (``torch.seed()``,
``torch.Generator().seed()``) and generators created without a seed (torch's fixed
default seed, the same for every master seed).  Those are closed here; the
DataLoader is only observed, so the record says that its workers were seeded.

``torch._C.Generator`` is an immutable C type, so for the duration of the cell
``torch.Generator`` names a subclass whose metaclass makes ``isinstance`` and
``issubclass`` answer as for the real class (generators made before the cell,
``torch.default_generator`` included, still pass type checks).
"""

from __future__ import annotations

import sys
from typing import Any

_SUBCLASS: dict[int, Any] = {}  # id(torch._C.Generator) -> the subclass (built once per process)


def _caller_is_torch(depth: int = 2) -> bool:
    """torch's own code (RandomSampler builds a Generator each epoch and seeds it at once) is left
    alone: only generators the notebook creates are seeded from the cell seed."""
    try:
        name = sys._getframe(depth).f_globals.get("__name__", "")
    except ValueError:
        return False
    return name == "torch" or name.startswith("torch.")


def seeded_generator_class(torch: Any) -> Any:
    """The ``torch.Generator`` stand-in used inside recorded cells (one class per process)."""
    base = torch._C.Generator
    cls = _SUBCLASS.get(id(base))
    if cls is not None:
        return cls
    from .unseeded import _CURRENT, current_auto_seeder

    class _GeneratorMeta(type(base)):  # type: ignore[misc]
        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, base)

        def __subclasscheck__(cls, sub: Any) -> bool:
            return issubclass(sub, base)

    class Generator(base, metaclass=_GeneratorMeta):  # type: ignore[misc, valid-type]
        """A torch.Generator whose unseeded start and ``seed()`` follow the cell seed."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            log = current_auto_seeder()
            if log is not None and not _caller_is_torch():
                self.manual_seed(log.seed_for("torch.Generator()"))

        def seed(self) -> int:  # noqa: D401 - torch's name
            log = current_auto_seeder()
            if log is None:
                if _CURRENT and _CURRENT[-1].from_cell():
                    _CURRENT[-1].report("torch.Generator.seed() reseeded from OS entropy")
                return int(base.seed(self))
            value = log.seed_for("torch.Generator.seed()")
            self.manual_seed(value)
            return value

        def __reduce__(self) -> Any:  # pickles (and checkpoints) as a plain torch.Generator
            return base.__reduce__(self)

    Generator.__module__ = "torch"
    Generator.__qualname__ = "Generator"
    _SUBCLASS[id(base)] = Generator
    return Generator


def patch_torch(p: Any, torch: Any, log: Any) -> None:
    """Patch ``torch.seed``, ``torch.Generator`` and observe DataLoader workers for one cell."""

    def wrap_seed(original: Any) -> Any:
        def seed() -> int:
            value = log.unseeded_or_seed("torch.seed()", "torch.seed() reseeded torch from OS entropy")
            if value is None:
                return int(original())
            torch.manual_seed(value)
            return value

        return seed

    p.patch(torch, "seed", wrap_seed)
    if hasattr(torch, "_C") and hasattr(torch, "Generator"):
        try:
            cls = seeded_generator_class(torch)
            p.patch(torch, "Generator", lambda _original: cls)
        except TypeError:  # a torch whose Generator cannot be subclassed: detection only
            pass
    _observe_dataloader(p, log)


def _observe_dataloader(p: Any, log: Any) -> None:
    module = sys.modules.get("torch.utils.data.dataloader")
    it = getattr(module, "_MultiProcessingDataLoaderIter", None)
    if it is None or "__init__" not in it.__dict__:
        return

    def wrap_init(original: Any) -> Any:
        def __init__(self: Any, loader: Any, *args: Any, **kwargs: Any) -> None:
            original(self, loader, *args, **kwargs)
            source = "its generator" if getattr(loader, "generator", None) is not None else "torch's RNG"
            log.component(
                f"torch DataLoader workers ({int(loader.num_workers)}): random, numpy, torch seeded by "
                f"torch from a base seed drawn from {source}"
            )

        return __init__

    p.patch(it, "__init__", wrap_init)
