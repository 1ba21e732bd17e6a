"""What a training loop's objects hold, taken out (``capture_*``) and put back (``apply_*``).

Resuming is exact only if *every* source of randomness and every counter is restored, so this module is the
list of them: the global RNGs (Python ``random``, NumPy's legacy global, torch CPU, every CUDA device when
CUDA is initialised), and the data loader's generators.  A ``DataLoader`` draws from two streams when an
epoch starts (``iter(loader)``): the sampler's order (``RandomSampler`` uses its ``generator``, else one
seeded from the global torch RNG) and the workers' base seed (``loader.generator``, else the global torch
RNG).  Workers seed ``random``, torch and NumPy from that base seed, so restoring those generators between
epochs restores the augmentations drawn inside the workers too.  What cannot be restored is said, never
hidden: a live persistent-worker iterator keeps its RNGs in the worker processes (``persistent_workers``),
and is reported as ``exact: false`` with the reason.

``check_*`` functions compare a stored part with a live object *before* anything is loaded, so a refused
restore leaves every object as it was.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from ..checkpoint.formats_base import qualified_name
from .errors import MilestoneError

# -- RNGs ----------------------------------------------------------------------------------------------------


def capture_rng() -> dict[str, Any]:
    """Every global RNG this process has loaded (a library never imported holds no state to restore)."""
    state: dict[str, Any] = {"python": random.getstate()}
    np = sys.modules.get("numpy")
    if np is not None:
        st = np.random.get_state(legacy=False)
        state["numpy"] = {
            "bit_generator": st["bit_generator"],
            "key": [int(x) for x in st["state"]["key"]],
            "pos": int(st["state"]["pos"]),
            "has_gauss": int(st["has_gauss"]),
            "gauss": float(st["gauss"]),
        }
    torch = sys.modules.get("torch")
    if torch is not None:
        state["torch"] = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def check_rng(state: Any) -> None:
    """MilestoneError unless ``state`` looks like ``capture_rng``'s
    output, checked before anything is restored."""
    if not isinstance(state, dict) or not isinstance(state.get("python"), tuple):
        raise MilestoneError("its RNG state is malformed")


def cuda_mismatch(state: dict[str, Any]) -> str | None:
    """Why the saved CUDA RNG states cannot be put back here (the rest still can), or None."""
    if "cuda" not in state:
        return None
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return "the checkpoint holds CUDA RNG states and this process has no CUDA device"
    if len(state["cuda"]) != torch.cuda.device_count():
        count = torch.cuda.device_count()
        return f"the checkpoint holds {len(state['cuda'])} CUDA RNG states, this process sees {count} devices"
    return None


def apply_rng(state: dict[str, Any]) -> None:
    """Put every saved global RNG back (Python, NumPy, torch; imports NumPy or torch
    if the state has theirs); CUDA states only when ``cuda_mismatch`` finds none."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "numpy" in state:
        import numpy as np

        st = state["numpy"]
        np.random.set_state(
            {
                "bit_generator": st["bit_generator"],
                "state": {"key": np.asarray(st["key"], dtype=np.uint32), "pos": st["pos"]},
                "has_gauss": st["has_gauss"],
                "gauss": st["gauss"],
            }
        )
    if "torch" in state:
        import torch

        torch.set_rng_state(state["torch"])
        if "cuda" in state and cuda_mismatch(state) is None:
            torch.cuda.set_rng_state_all(state["cuda"])


# -- data loaders --------------------------------------------------------------------------------------------


def _generators(loader: Any) -> dict[str, Any]:
    """The loader's generators by role; one object in two roles is kept once (restored once)."""
    found: dict[str, Any] = {}
    sampler = getattr(loader, "sampler", None)
    batch_sampler = getattr(loader, "batch_sampler", None)
    inner = getattr(batch_sampler, "sampler", None)
    for role, owner in (("loader", loader), ("sampler", sampler), ("batch_sampler.sampler", inner)):
        gen = getattr(owner, "generator", None) if owner is not None else None
        if gen is not None and all(gen is not g for g in found.values()):
            found[role] = gen
    return found


def capture_loader(loader: Any) -> dict[str, Any]:
    """The generators' positions, and whether a resume from here can be exact."""
    if not hasattr(loader, "batch_sampler") and not hasattr(loader, "sampler"):
        raise MilestoneError(f"loader= must be a torch DataLoader, not {qualified_name(type(loader))}")
    gens = _generators(loader)
    state: dict[str, Any] = {
        "class": qualified_name(type(loader)),
        "sampler": qualified_name(type(getattr(loader, "sampler", None))),
        "generators": {role: g.get_state() for role, g in gens.items()},
        "num_workers": int(getattr(loader, "num_workers", 0) or 0),
        "exact": True,
    }
    if state["num_workers"] and getattr(loader, "persistent_workers", False):
        if getattr(loader, "_iterator", None) is not None:
            state["exact"] = False
            state["why"] = (
                "persistent_workers=True: the workers' RNG states live in the worker processes, "
                "so a resumed run's workers draw other augmentations"
            )
    return state


def check_loader(state: Any, loader: Any) -> None:
    """MilestoneError unless the live loader has generators in the same roles
    and of the same kinds as the saved ones; run before anything is restored."""
    if not isinstance(state, dict) or not isinstance(state.get("generators"), dict):
        raise MilestoneError("its data loader state is malformed")
    live = _generators(loader)
    if set(live) != set(state["generators"]):
        raise MilestoneError(
            f"the data loader's generators differ (checkpoint: {sorted(state['generators']) or 'none'}, "
            f"this loader: {sorted(live) or 'none'})"
        )
    for role, saved in state["generators"].items():
        if tuple(saved.shape) != tuple(live[role].get_state().shape):
            raise MilestoneError(f"the data loader's {role} generator is of another kind")


def apply_loader(state: dict[str, Any], loader: Any) -> None:
    """Set the live loader's generators to the saved positions
    (``check_loader`` first), so the next epoch draws the same order."""
    for role, gen in _generators(loader).items():
        gen.set_state(state["generators"][role])


# -- model, optimizer, scheduler, scaler ---------------------------------------------------------------------


def check_weights(saved: dict[str, Any], model: Any) -> None:
    """Same keys, shapes and dtypes as the live model's ``state_dict`` (what ``load_state_dict`` needs)."""
    live = model.state_dict()
    missing = sorted(set(live) - set(saved))
    unexpected = sorted(set(saved) - set(live))
    if missing or unexpected:
        what = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise MilestoneError(f"the model does not match its weights ({what})")
    for key, tensor in live.items():
        if not hasattr(tensor, "shape"):
            continue
        got = saved[key]
        if tuple(got.shape) != tuple(tensor.shape):
            raise MilestoneError(
                f"the model does not match its weights ({key}: checkpoint {list(got.shape)}, "
                f"model {list(tensor.shape)})"
            )
        if got.dtype != tensor.dtype:
            raise MilestoneError(
                f"the model does not match its weights ({key}: checkpoint {got.dtype}, model {tensor.dtype})"
            )


def apply_weights(saved: dict[str, Any], model: Any) -> None:
    """Load saved weights into the live model (strict: keys must
    match; ``check_weights`` first so it cannot fail half-way)."""
    model.load_state_dict(saved, strict=True)


def check_optimizer(meta: dict[str, Any], state: Any, optimizer: Any) -> None:
    """Class, groups and per-parameter state shapes, so ``load_state_dict`` cannot fail half-way."""
    cls = qualified_name(type(optimizer))
    if meta.get("class") != cls:
        raise MilestoneError(f"its optimizer is a {meta.get('class')}, not a {cls}")
    if not isinstance(state, dict) or not isinstance(state.get("param_groups"), list):
        raise MilestoneError("its optimizer state is malformed")
    live_groups = optimizer.param_groups
    groups = state["param_groups"]
    if len(groups) != len(live_groups):
        raise MilestoneError(f"its optimizer has {len(groups)} parameter groups, this one {len(live_groups)}")
    shapes: dict[Any, tuple[int, ...]] = {}
    for saved, live in zip(groups, live_groups, strict=True):
        ids = saved.get("params") if isinstance(saved, dict) else None
        if not isinstance(ids, list) or len(ids) != len(live["params"]):
            raise MilestoneError("its optimizer's parameter groups hold other parameters than this one's")
        shapes.update({i: tuple(p.shape) for i, p in zip(ids, live["params"], strict=True)})
    per_param = state.get("state")
    if not isinstance(per_param, dict):
        raise MilestoneError("its optimizer state is malformed")
    for pid, entry in per_param.items():
        if pid not in shapes or not isinstance(entry, dict):
            raise MilestoneError("its optimizer state names a parameter this optimizer does not have")
        for key, value in entry.items():
            shape = getattr(value, "shape", None)
            if shape is not None and len(shape) > 0 and tuple(shape) != shapes[pid]:
                raise MilestoneError(
                    f"its optimizer state {key!r} has shape {list(shape)}, the parameter {list(shapes[pid])}"
                )


def check_class(what: str, meta: dict[str, Any], live: Any) -> None:
    """MilestoneError when the live ``what`` (scheduler, scaler) is of another class than the saved one."""
    cls = qualified_name(type(live))
    if meta.get("class") != cls:
        raise MilestoneError(f"its {what} is a {meta.get('class')}, not a {cls}")


def check_scaler(state: Any, scaler: Any) -> None:
    """MilestoneError when the saved GradScaler state is malformed,
    or was saved disabled while the live scaler is enabled."""
    if not isinstance(state, dict):
        raise MilestoneError("its GradScaler state is malformed")
    if not state and scaler.is_enabled():
        raise MilestoneError("its GradScaler was disabled, this one is enabled")
