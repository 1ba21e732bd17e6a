"""``repro_jupyter.restore_checkpoint(name, ...)``: put a milestone back into live objects, all or nothing.

Order matters for the promise "a refused restore changes nothing": (1) resolve the name to this notebook's
latest manifest (a name only another notebook saved is *foreign* and refused, naming that notebook);
(2) read every part the call needs, each verified against its sha256 (a flipped byte is one line naming
the object); (3) compare each part with its live object (keys, shapes and dtypes of the weights, the
optimizer's class, groups and state shapes, the classes of scheduler and scaler, the loader's generators);
only then (4) load them, RNGs last, so the next draw is the one the uninterrupted run made.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..checkpoint.formats_base import one_line
from ..errors import ReproError, ReproWarning
from ..store import Store
from . import context, packing, states
from .errors import MilestoneError
from .save import check_name

ROLES = ("optimizer", "scheduler", "scaler", "loader")


def _ambiguous(rows: list[dict[str, Any]], name: str) -> MilestoneError:
    books = sorted({str(r["notebook"]) for r in rows})
    return MilestoneError(
        f"milestone {name!r} was saved by several notebooks ({', '.join(books[:3])}): pass notebook=NAME"
    )


def resolve(store: Store, notebook: str | None, name: str) -> tuple[str, dict[str, Any]]:
    """(manifest digest, manifest) of the latest milestone ``name`` of ``notebook``; one-line errors."""
    check_name(name)
    rows = store.catalog.milestones(name=name)
    if notebook is not None:
        mine = [r for r in rows if r["notebook"] == notebook]
        if not mine:  # rows a rebuilt catalog could not attribute to a notebook: usable by name
            mine = [r for r in rows if r["notebook"] is None]
        if not mine and rows:
            others = sorted({str(r["notebook"]) for r in rows})
            raise MilestoneError(
                f"milestone {name!r} belongs to {', '.join(others[:3])}, not {notebook} "
                f"(restore_checkpoint(..., notebook={others[0]!r}) to take it anyway)"
            )
        rows = mine
    elif len({r["notebook"] for r in rows}) > 1:
        raise _ambiguous(rows, name)
    if not rows:
        known = sorted({r["name"] for r in store.catalog.milestones(notebook=notebook)})
        hint = f" (this notebook has: {', '.join(known[:5])})" if known else " (none saved yet)"
        raise MilestoneError(f"no milestone named {name!r}{hint}")
    digest = rows[-1]["manifest"]
    manifest = read_manifest(store, digest)
    if manifest.get("name") != name:
        raise MilestoneError(f"store object {digest} is not milestone {name!r}")
    return digest, manifest


def read_manifest(store: Store, digest: str) -> dict[str, Any]:
    """A milestone manifest read and shape-checked (it has parts, each naming an
    object); MilestoneError, one line, when it is missing, corrupt or not a manifest."""
    try:
        manifest = store.objects.get_json(digest)
    except ReproError as exc:
        raise MilestoneError(str(exc)) from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "milestone":
        raise MilestoneError(f"store object {digest} is not a milestone manifest")
    parts = manifest.get("parts")
    if not isinstance(parts, dict) or not all(
        isinstance(p, dict) and isinstance(p.get("object"), str) for p in parts.values()
    ):
        raise MilestoneError(f"milestone manifest {digest} is malformed (parts)")
    return manifest


def read_part(store: Store, manifest: dict[str, Any], role: str) -> Any:
    """One part, verified and decoded (nothing live touched); one-line errors name the object."""
    part = manifest["parts"].get(role)
    if part is None:
        raise MilestoneError(f"milestone {manifest.get('name')!r} holds no {role} state")
    try:
        data = store.objects.get_bytes(part["object"])
        if role == "weights":
            return packing.unpack_weights(data)
        return packing.unpack_tree(str(part.get("format")), data)
    except ReproError as exc:
        raise MilestoneError(f"milestone {manifest.get('name')!r}, {role}: {exc}") from None


def restore_checkpoint(
    name: str,
    *,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    scaler: Any = None,
    loader: Any = None,
    notebook: str | None = None,
    rng: bool = True,
) -> dict[str, Any]:
    """Restore milestone ``name`` into the objects passed (and the global RNGs); return its manifest."""
    ctx = context.locate(notebook)
    store = context.open_for(ctx, create=False)
    try:
        digest, manifest = resolve(store, notebook or ctx.notebook, name)
        live = {"optimizer": optimizer, "scheduler": scheduler, "scaler": scaler, "loader": loader}
        saved: dict[str, Any] = {}
        if model is not None:
            saved["weights"] = read_part(store, manifest, "weights")
        for role in ROLES:
            if live[role] is not None:
                saved[role] = read_part(store, manifest, role)
        if rng:
            saved["rng"] = read_part(store, manifest, "rng")
    finally:
        store.close()
    # (3) every check before any load (an object of the wrong kind is a refusal too, not a traceback)
    try:
        if model is not None:
            states.check_weights(saved["weights"], model)
        if optimizer is not None:
            states.check_optimizer(manifest["parts"]["optimizer"], saved["optimizer"], optimizer)
        if scheduler is not None:
            states.check_class("LR scheduler", manifest["parts"]["scheduler"], scheduler)
        if scaler is not None:
            states.check_class("GradScaler", manifest["parts"]["scaler"], scaler)
            states.check_scaler(saved["scaler"], scaler)
        if loader is not None:
            states.check_loader(saved["loader"], loader)
        if rng:
            states.check_rng(saved["rng"])
    except MilestoneError:
        raise
    except Exception as exc:
        raise MilestoneError(
            f"milestone {name!r} cannot be restored into these objects: {one_line(exc)}"
        ) from None
    # (4) load
    try:
        if model is not None:
            states.apply_weights(saved["weights"], model)
        if optimizer is not None:
            optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        if scaler is not None:
            scaler.load_state_dict(saved["scaler"])
        if loader is not None:
            states.apply_loader(saved["loader"], loader)
        if rng:
            problem = states.cuda_mismatch(saved["rng"])
            if problem:
                warnings.warn(f"milestone {name!r}: {problem}; CPU RNGs restored", ReproWarning, stacklevel=2)
            states.apply_rng(saved["rng"])
    except Exception as exc:  # checked above; reaching here is a bug worth one honest line
        raise MilestoneError(f"milestone {name!r} was only partly restored: {one_line(exc)}") from None
    if manifest.get("exact_resume") is False:
        warnings.warn(f"milestone {name!r}: {manifest.get('not_exact_because')}", ReproWarning, stacklevel=2)
    return {"digest": digest, **manifest}
