"""torch tensors, modules, optimizers, LR schedulers and other ``state_dict`` owners, by value.

A tensor is its dtype, shape, device type, ``requires_grad`` and values (copied to host and made contiguous
when needed; the device's own state is untouched).  A module is its class, its ``state_dict()`` by value,
the train/eval mode of every submodule and which parameters are trainable; optimizers, schedulers and
gradient scalers are their ``state_dict()``.  Gradients are not part of the value: a checkpoint does not
keep them, and a restored tensor must match its recorded fingerprint.
"""

from __future__ import annotations

from typing import Any

from .walk import Digest, Fingerprint, Kind, Walk, loaded, type_name, xxh

KINDS: list[Kind] = []  # (predicate on the type, handler), in priority order


def _torch() -> Any:
    return loaded("torch")


def _is_tensor(t: type) -> bool:
    torch = _torch()
    return torch is not None and issubclass(t, torch.Tensor)


def _tensor(value: Any, walk: Walk) -> Fingerprint:
    torch = _torch()
    t = value.detach()
    if t.layout != torch.strided or t.is_quantized or t.is_nested or t.device.type == "meta":
        from .kinds_builtin import reduced

        return reduced(value, walk)
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    t = t.to("cpu").contiguous()  # CUDA: a copy to host, device state untouched
    header = f"{t.dtype}|{tuple(t.shape)}|{value.device.type}|grad={bool(value.requires_grad)}".encode()
    data = t.reshape(-1).view(torch.uint8).numpy() if t.numel() else b""
    return {
        "type": type_name(value),
        "digest": xxh(header, data),
        "shape": list(t.shape),
        "dtype": str(t.dtype),
        "size": int(t.numel() * t.element_size()),
    }


def _is_module(t: type) -> bool:
    torch = _torch()
    return torch is not None and issubclass(t, torch.nn.Module)


def _module(value: Any, walk: Walk) -> Fingerprint:
    d = Digest("torch-module:" + type_name(value))
    d.raw("modes", "".join("1" if m.training else "0" for m in value.modules()))
    d.raw("trainable", "".join("1" if p.requires_grad else "0" for p in value.parameters()))
    d.add(walk.child(_plain_state(value.state_dict())))
    return d.result(value)


def _plain_state(state: Any) -> Any:
    """A state dict as plain dicts (an ``OrderedDict``'s order is the module's; keys are unique anyway)."""
    if isinstance(state, dict):
        return {k: _plain_state(v) for k, v in state.items()}
    return state


def _is_state_owner(t: type) -> bool:
    """Optimizers, LR schedulers, gradient scalers: torch objects whose value is their ``state_dict()``."""
    torch = _torch()
    if torch is None or (t.__module__ or "").split(".")[0] != "torch":
        return False
    return issubclass(t, torch.optim.Optimizer) or callable(getattr(t, "state_dict", None))


def _state_owner(value: Any, walk: Walk) -> Fingerprint:
    d = Digest("torch-state:" + type_name(value))
    d.add(walk.child(_plain_state(value.state_dict())))
    return d.result(value)


def _is_generator(t: type) -> bool:
    torch = _torch()
    return torch is not None and issubclass(t, torch.Generator)


def _generator(value: Any, walk: Walk) -> Fingerprint:
    d = Digest(f"torch-generator|{value.device}").add(walk.child(value.get_state()))
    return d.result(value)


def _is_torch_leaf(t: type) -> bool:
    torch = _torch()
    return torch is not None and t in (torch.device, torch.dtype, torch.layout, torch.memory_format)


def _torch_leaf(value: Any, walk: Walk) -> Fingerprint:
    return {"type": type_name(value), "digest": xxh(b"torch\0", repr(value).encode()), "size": 0}


KINDS.append((_is_tensor, _tensor))
KINDS.append((_is_module, _module))
KINDS.append((_is_generator, _generator))
KINDS.append((_is_torch_leaf, _torch_leaf))
KINDS.append((_is_state_owner, _state_owner))
