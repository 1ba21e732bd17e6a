"""torch tensors, modules and optimizers without ``torch.save`` (which is pickle).

- ``safetensors``: one tensor named ``"tensor"``; meta records dtype, shape, original device,
  ``requires_grad`` and whether it was an ``nn.Parameter``.  Restores on CPU (no GPU needed).
- ``torch-module``: a signed container (see ``formats_container``) with parts ``structure`` (a signed pickle
  of ``{"module": <deep copy on the meta device: classes, hyper-parameters, submodules, ties, no bytes>,
  "extra": <non-tensor state_dict entries>}``), ``state`` (the ``state_dict()`` tensors, safetensors) and
  ``buffers`` (non-persistent buffers, safetensors).
- ``torch-optimizer``: a safetensors file of the ``state_dict()`` tensors whose ``__metadata__`` entry
  ``repro_jupyter.state`` holds the rest of the state dict as tagged JSON with ``{"$tensor": name}`` leaves.

This module only touches torch when the value is already a torch object, so it never imports torch itself.
"""

from __future__ import annotations

import copy
import json
import pickle
import sys
from typing import Any

from ..canonical import canonical_bytes
from . import formats_container as container
from .formats_base import (
    Buffer,
    CheckpointError,
    Encoded,
    PathLike,
    byte_view,
    check_size,
    is_path,
    one_line,
    qualified_name,
    read_writable,
)
from .formats_data import NotPlain, from_tagged, to_tagged
from .formats_safetensors import dtype_table, map_safetensors, read_safetensors, safetensors_parts
from .snapshot_pool import MIN_POOLED, POOL

STATE_KEY = "repro_jupyter.state"


def _torch() -> Any:
    return sys.modules.get("torch")


def _need_torch(what: str) -> Any:
    try:
        import torch
    except ImportError:
        raise CheckpointError(f"restoring {what} needs torch, which is not installed") from None
    return torch


def tensor_ok(torch: Any, t: Any) -> bool:
    """Dense, strided, real data in a dtype safetensors can hold (everything else: signed pickle)."""
    return (
        type(t) in (torch.Tensor, torch.nn.Parameter)
        and t.layout == torch.strided
        and not t.is_quantized
        and not t.is_nested
        and t.device.type != "meta"
        and t.dtype in dtype_table()[0]
    )


def snapshot_tensor(t: Any) -> Any:
    """A CPU, contiguous copy that shares nothing with ``t`` (CUDA: copied to host synchronously)."""
    import torch

    src = t.detach()
    if src.is_conj():
        src = src.resolve_conj()
    if src.is_neg():
        src = src.resolve_neg()
    nbytes = _nbytes(src)
    if nbytes >= MIN_POOLED:  # into a reused buffer (see snapshot_pool); CUDA: copy_ is synchronous
        try:
            dst = torch.from_numpy(POOL.buffer(nbytes)).view(src.dtype).view(src.shape)
            dst.copy_(src)
            return dst
        except (RuntimeError, TypeError):  # a dtype torch cannot view bytes as: a plain copy below
            pass
    if src.device.type != "cpu":
        return src.to("cpu").contiguous()
    return src.clone(memory_format=torch.contiguous_format)


def _nbytes(t: Any) -> int:
    return int(t.numel() * t.element_size())


def encode_tensor(value: Any, max_bytes: int | None) -> Encoded | None:
    """A dense torch tensor as safetensors, with dtype, device and requires_grad in meta; None
    when torch is not imported or the tensor is not plain (the signed pickle takes it)."""
    torch = _torch()
    if torch is None or not isinstance(value, torch.Tensor) or not tensor_ok(torch, value):
        return None
    check_size(_nbytes(value) + 1024, max_bytes)
    parts = safetensors_parts({"tensor": snapshot_tensor(value)}, {"format": "pt"})
    meta = {
        "dtype": str(value.dtype).removeprefix("torch."),
        "shape": list(value.shape),
        "device": str(value.device),
        "requires_grad": bool(value.requires_grad),
        "parameter": type(value) is torch.nn.Parameter,
    }
    return Encoded("safetensors", meta, parts)


def decode_tensor(meta: dict[str, Any], data: Buffer | PathLike, *, lazy: bool = False) -> Any:
    """A tensor on CPU; ``lazy`` with a (verified) path maps it copy-on-write instead of reading it."""
    torch = _need_torch("a tensor")
    if is_path(data) and lazy:
        tensors, _ = map_safetensors(data)
    else:
        tensors, _ = read_safetensors(memoryview(read_writable(data)))
    if set(tensors) != {"tensor"}:
        raise CheckpointError("malformed safetensors checkpoint (expected one tensor named 'tensor')")
    tensor = tensors["tensor"]
    if "dtype" in meta and str(tensor.dtype) != "torch." + meta["dtype"]:
        raise CheckpointError(f"tensor checkpoint has dtype {tensor.dtype}, its record says {meta['dtype']}")
    if "shape" in meta and list(tensor.shape) != list(meta["shape"]):
        raise CheckpointError(
            f"tensor checkpoint has shape {list(tensor.shape)}, its record says {meta['shape']}"
        )
    if meta.get("parameter"):
        return torch.nn.Parameter(tensor, requires_grad=bool(meta.get("requires_grad")))
    return tensor.requires_grad_(True) if meta.get("requires_grad") else tensor


# -- modules -----------------------------------------------------------------------------------------------


def _meta_copy(torch: Any, module: Any) -> Any:
    """A deep copy whose parameters and buffers live on the meta device, made without copying their bytes.

    Seeding ``deepcopy``'s memo with meta twins (one per tensor object) keeps weight ties and avoids the full
    copy ``copy.deepcopy(m).to("meta")`` would make first.  Gradients are not kept.
    """
    memo: dict[int, Any] = {}
    for mod in module.modules():
        for p in mod._parameters.values():
            if p is not None and id(p) not in memo:
                twin = torch.empty_like(p, device="meta")
                memo[id(p)] = torch.nn.Parameter(twin, requires_grad=p.requires_grad)
        for b in mod._buffers.values():
            if b is not None and id(b) not in memo:
                memo[id(b)] = torch.empty_like(b, device="meta")
    return copy.deepcopy(module, memo)


def encode_module(value: Any, max_bytes: int | None) -> Encoded | None:
    """An ``nn.Module``: its structure as a signed pickle without tensor data, the
    weights as safetensors; None when torch is not imported or a tensor is not plain."""
    torch = _torch()
    if torch is None or not isinstance(value, torch.nn.Module):
        return None
    named = [*value.named_parameters(remove_duplicate=False), *value.named_buffers(remove_duplicate=False)]
    if not all(tensor_ok(torch, t) for _, t in named):
        return None  # sparse/quantized/subclass tensors: the signed pickle keeps them whole
    unique = {id(t): t for _, t in named}
    check_size(sum(_nbytes(t) for t in unique.values()) + (1 << 16), max_bytes)
    state = value.state_dict()
    tensors, extra = _snapshot_state(torch, state)
    if tensors is None:
        return None
    buffers = {
        name: snapshot_tensor(b)
        for name, b in value.named_buffers(remove_duplicate=False)
        if name not in state
    }
    stream, oob = container.pickle_snapshot({"module": _meta_copy(torch, value), "extra": extra}, max_bytes)
    parts: list[container.PartSpec] = [("structure", "pickle", [stream])]
    parts += [(f"buffer-{i}", "pickle-buffer", [byte_view(b)]) for i, b in enumerate(oob)]
    parts += [
        ("state", "safetensors", safetensors_parts(tensors)),
        ("buffers", "safetensors", safetensors_parts(buffers)),
    ]
    devices = sorted({str(t.device) for _, t in named})
    meta = {
        "class": qualified_name(type(value)),
        "devices": devices,
        "tensors": len(tensors),
        "pickle_buffers": len(oob),
    }
    return container.build_container("torch-module", meta, parts, signed=True)


def _snapshot_state(torch: Any, state: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Copies of the state tensors (aliases copied once), and the non-tensor entries (extra state)."""
    tensors: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    seen: dict[tuple[Any, ...], Any] = {}
    for key, t in state.items():
        if not isinstance(t, torch.Tensor):
            extra[key] = t
            continue
        if not tensor_ok(torch, t):
            return None, extra
        alias = (t.data_ptr(), t.dtype, tuple(t.shape), tuple(t.stride()), str(t.device))
        if alias not in seen:
            seen[alias] = snapshot_tensor(t)
        tensors[key] = seen[alias]
    return tensors, extra


def decode_module(meta: dict[str, Any], data: Buffer | PathLike) -> Any:
    """Verify the signature, unpickle the meta-device structure, allocate it on CPU, load the tensors."""
    torch = _need_torch("a torch module")
    buf = memoryview(read_writable(data))
    header, views = container.read_container(buf, "torch-module", require_signature=True)
    stream = container.signed_part(header, views, "structure", "pickle")
    count = sum(1 for kind in header["_kinds"].values() if kind == "pickle-buffer")
    oob = [container.signed_part(header, views, f"buffer-{i}", "pickle-buffer") for i in range(count)]
    structure = pickle.loads(stream, buffers=oob)
    module, extra = structure["module"], structure["extra"]
    state, _ = read_safetensors(container.signed_part(header, views, "state", "safetensors"))
    buffers, _ = read_safetensors(container.signed_part(header, views, "buffers", "safetensors"))
    _materialize(torch, module)
    try:
        module.load_state_dict({**state, **extra}, strict=True)
        with torch.no_grad():
            for name, value in buffers.items():
                module.get_buffer(name).copy_(value)
    except (RuntimeError, AttributeError, KeyError) as exc:
        raise CheckpointError(f"cannot restore the module: {one_line(exc)}") from None
    return module


def _materialize(torch: Any, module: Any) -> None:
    """Give every meta parameter/buffer CPU storage, keeping ties (``to_empty`` would break them)."""
    # id -> (original, replacement); the originals are kept alive so that no id is reused while we walk
    made: dict[int, tuple[Any, Any]] = {}
    for mod in module.modules():
        for table, is_param in ((mod._parameters, True), (mod._buffers, False)):
            for name, t in list(table.items()):
                if t is None or not t.is_meta:
                    continue
                if id(t) not in made:
                    fresh = torch.empty_like(t, device="cpu")
                    made[id(t)] = (
                        t,
                        torch.nn.Parameter(fresh, requires_grad=t.requires_grad) if is_param else fresh,
                    )
                table[name] = made[id(t)][1]


# -- optimizers --------------------------------------------------------------------------------------------


def encode_optimizer(value: Any, max_bytes: int | None) -> Encoded | None:
    """An optimizer's ``state_dict`` (tensors as safetensors, the rest as JSON); None when not an optimizer,
    NotPlain when its state holds other objects; decoding gives back the state_dict, not the optimizer."""
    torch = _torch()
    if torch is None or not isinstance(value, torch.optim.Optimizer):
        return None
    state = value.state_dict()
    tensors: dict[str, Any] = {}
    total = [0]

    def tensor_leaf(t: Any) -> dict[str, str] | None:
        if not isinstance(t, torch.Tensor):
            return None
        if not tensor_ok(torch, t):
            raise NotPlain(f"a {t.layout} {t.dtype} tensor")
        total[0] += _nbytes(t)
        check_size(total[0], max_bytes)
        name = str(len(tensors))
        tensors[name] = snapshot_tensor(t)
        return {"$tensor": name}

    try:
        skeleton = to_tagged(state, leaf=tensor_leaf, max_nodes=None)
    except NotPlain as exc:
        raise NotPlain(f"optimizer state holds {exc} (not plain data and tensors)") from None
    metadata = {"format": "pt", STATE_KEY: canonical_bytes(skeleton).decode("utf-8")}
    meta = {"class": qualified_name(type(value)), "tensors": len(tensors)}
    return Encoded("torch-optimizer", meta, safetensors_parts(tensors, metadata))


def decode_optimizer(meta: dict[str, Any], data: Buffer | PathLike) -> Any:
    """The optimizer's ``state_dict`` (tensors on CPU): load it into a live optimizer over the restored
    parameters with ``optimizer.load_state_dict(...)``, which also moves the state to the parameters' device.
    An optimizer object cannot be rebuilt on its own: it refers to parameters of some model by identity."""
    _need_torch("optimizer state")
    tensors, metadata = read_safetensors(memoryview(read_writable(data)))
    try:
        skeleton = json.loads(metadata[STATE_KEY])
    except (KeyError, ValueError):
        raise CheckpointError("malformed optimizer checkpoint (no state skeleton)") from None

    def tensor_of(name: Any) -> Any:
        if name not in tensors:
            raise CheckpointError(f"malformed optimizer checkpoint (no tensor {name!r})")
        return tensors[name]

    return from_tagged(skeleton, leaf=tensor_of)
