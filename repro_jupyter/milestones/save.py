"""``repro_jupyter.checkpoint(name, ...)``: save a training milestone, durably, before returning.

Each part (weights, optimizer, scheduler, scaler, loader, RNGs, probe) becomes one immutable store object
named by its sha256; the manifest (JSON, ``kind: "milestone"``) names them under ``"object"`` keys (so
``fsck`` checks and ``gc`` keeps them) and links the run (``context.py``).  The manifest holds no time, host
or run id, so the same training state in the same run configuration is the same manifest: those facts go to
the catalog's ``milestones`` row.  Every part is also a ``checkpoints`` row (format ``milestone-*``): a root
for ``gc`` and an object a team store's ``push`` uploads.

The RNG states are taken *first*, before the probe runs the model: a forward pass that draws (dropout left
in training mode by a user) must not move the saved position, and it is put back afterwards so the training
loop continues exactly as without the checkpoint call.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..canonical import canonical_bytes, digest_bytes
from ..checkpoint.formats_base import _slices, one_line, qualified_name
from ..errors import ReproError, ReproWarning
from ..redaction import redact_data
from . import context, packing, states
from .errors import MilestoneError

MANIFEST_VERSION = 1
CHUNK = 16 << 20
MAX_NAME = 200


def check_name(name: Any) -> str:
    """``name`` if it is a usable milestone name (one non-empty line
    of at most ``MAX_NAME`` characters), else MilestoneError."""
    if not isinstance(name, str) or not name.strip():
        raise MilestoneError(f"a milestone name is a non-empty string, not {type(name).__name__}")
    if len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise MilestoneError(f"a milestone name is one line of at most {MAX_NAME} characters")
    return name


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}:{type(obj).__qualname__}"


def _model_entry(model: Any, factory: Any, factory_kwargs: Any) -> dict[str, Any]:
    """How a fresh process could rebuild the model: a factory ``module:callable`` the user names, else the
    class when it is importable; a class defined in the notebook (``__main__``) cannot be, and says so."""
    entry: dict[str, Any] = {"class": _class_path(model)}
    if factory is not None:
        if not isinstance(factory, str) or ":" not in factory:
            raise MilestoneError("factory= is a 'module:callable' string (e.g. 'mymodels:build')")
        entry["factory"] = factory
        entry["factory_kwargs"] = factory_kwargs or {}
        entry["rebuild"] = "factory"
    elif type(model).__module__ == "__main__":
        entry["rebuild"] = None
        entry["why"] = (
            f"{type(model).__qualname__} is defined in the notebook (__main__), so no other process can "
            "import it; pass factory='module:callable' to checkpoint() for load checks"
        )
    else:
        entry["rebuild"] = "class"
    return entry


def _probe_outputs(model: Any, probe: Any) -> Any:
    """The model's outputs on ``probe`` in eval mode without gradients; training flags put back after."""
    import torch

    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            if isinstance(probe, dict):
                return model(**probe)
            if isinstance(probe, (tuple, list)):
                return model(*probe)
            return model(probe)
    except Exception as exc:
        raise MilestoneError(f"probe: the model failed on the probe batch: {one_line(exc)}") from None
    finally:
        for module, mode in modes:
            module.training = mode


def _part(store: Any, parts: dict[str, Any], role: str, fmt: str, buffers: list[Any], **meta: Any) -> None:
    """Stream one part into the store (hashed while written: no joined copy of a big model)."""
    chunks = (piece for buf in buffers for piece in _slices(buf, CHUNK))
    digest, size, _ = store.objects.put_stream(chunks)
    parts[role] = {"object": digest, "format": fmt, "size": size, **meta}


def checkpoint(
    name: str,
    *,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    scaler: Any = None,
    loader: Any = None,
    probe: Any = None,
    **extra: Any,
) -> str:
    """Save a milestone; return its manifest digest.  See ``docs/TRAINING.md``."""
    check_name(name)
    rng = states.capture_rng()  # before anything below can draw
    factory = extra.pop("factory", None)
    factory_kwargs = extra.pop("factory_kwargs", None)
    if probe is not None and model is None:
        raise MilestoneError("probe= needs model=: the probe stores the model's outputs on that batch")
    try:
        canonical_bytes(extra)
    except (TypeError, ValueError):
        raise MilestoneError(
            "extra keyword values must be JSON data (numbers, strings, lists, dicts)"
        ) from None
    ctx = context.locate()
    context.collect(ctx)
    store = context.open_for(ctx, create=True)
    parts: dict[str, Any] = {}
    manifest: dict[str, Any] = {
        "kind": "milestone",
        "schema_version": MANIFEST_VERSION,
        "name": name,
        **ctx.link,
    }
    try:
        if model is not None:
            state = model.state_dict()
            _part(store, parts, "weights", packing.WEIGHTS, packing.pack_weights(state), tensors=len(state))
            manifest["model"] = _model_entry(model, factory, factory_kwargs)
        for role, obj, capture in (
            ("optimizer", optimizer, lambda o: o.state_dict()),
            ("scheduler", scheduler, lambda o: o.state_dict()),
            ("scaler", scaler, lambda o: o.state_dict()),
            ("loader", loader, states.capture_loader),
        ):
            if obj is None:
                continue
            fmt, data = packing.pack_tree(capture(obj))
            _part(store, parts, role, fmt, data, **{"class": qualified_name(type(obj))})
        fmt, data = packing.pack_tree(rng)
        _part(store, parts, "rng", fmt, data, libraries=sorted(rng))
        if probe is not None:
            outputs = _probe_outputs(model, probe)
            states.apply_rng(rng)  # the probe must not move the training run's RNGs
            fmt, data = packing.pack_tree({"inputs": probe, "outputs": outputs})
            _part(store, parts, "probe", fmt, data)
        if loader is not None:
            loader_state = states.capture_loader(loader)
            manifest["exact_resume"] = loader_state["exact"]
            if not loader_state["exact"]:
                manifest["not_exact_because"] = loader_state["why"]
        manifest["parts"] = parts
        manifest["extra"] = extra
        manifest = redact_data(manifest)
        manifest_bytes = canonical_bytes(manifest)
        digest, _ = store.objects.put_bytes(manifest_bytes)
        catalog = store.catalog
        for role, part in parts.items():
            catalog.add_checkpoint(
                part["object"], f"milestone-{role}", part["object"], {"milestone": name}, part["size"]
            )
        catalog.add_checkpoint(digest, "milestone", digest, {"milestone": name}, len(manifest_bytes))
        catalog.add_milestone(ctx.notebook, name, digest, ctx.run_id, ctx.cell_key)
        if store.remote is not None:  # a team store: upload now (the outbox keeps it if that fails)
            try:
                store.push()
            except ReproError as exc:
                warnings.warn(
                    f"milestone {name!r} saved locally, not uploaded: {exc}", ReproWarning, stacklevel=2
                )
    except MilestoneError:
        raise
    except ReproError as exc:
        raise MilestoneError(f"milestone {name!r} not saved: {exc}") from None
    except Exception as exc:
        raise MilestoneError(f"milestone {name!r} not saved: {one_line(exc)}") from None
    finally:
        store.close()
    assert digest == digest_bytes(manifest_bytes)
    return digest


__all__ = ["checkpoint", "check_name"]
