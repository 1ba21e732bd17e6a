"""Milestone parts as bytes, in safe formats only.

A milestone is several store objects, one per part, so a part that did not change (the RNG state of a run
that does not draw, a frozen backbone) is stored once.  Two layouts:

- **weights**: a plain safetensors file of ``model.state_dict()`` (the same keys), readable by the official
  ``safetensors`` package and by anyone without repro-jupyter.
- **tree**: any other state (optimizer, scheduler, scaler, data loader, RNGs, probe) as a safetensors file
  whose tensors are the tree's tensors and whose ``__metadata__["repro_jupyter.state"]`` holds the rest of
  the tree as tagged JSON with ``{"$tensor": name}`` leaves: the layout of the ``torch-optimizer`` checkpoint
  format, reused.  Only a tree JSON cannot say (a scheduler holding a user object) falls back to the signed
  pickle (``pickle-hmac``), and the manifest says so.

Reading never unpickles unsigned bytes and never trusts a header: ``parse_*`` check everything before a
caller touches a live object.
"""

from __future__ import annotations

import json
from typing import Any

from ..canonical import canonical_bytes
from ..checkpoint.formats_base import CheckpointError
from ..checkpoint.formats_data import NotPlain, from_tagged, to_tagged
from ..checkpoint.formats_safetensors import read_safetensors, safetensors_parts
from ..checkpoint.formats_torch import STATE_KEY, snapshot_tensor, tensor_ok

TREE = "tree"
WEIGHTS = "safetensors"
PICKLE = "pickle-hmac"


def pack_weights(state: dict[str, Any]) -> list[Any]:
    """``state_dict()`` tensors as one plain safetensors file (tied entries stored under each name), as
    buffers to stream into the store (no joined copy of a big model)."""
    import torch

    tensors = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor) or not tensor_ok(torch, value):
            raise NotPlain(f"state_dict entry {key!r} is not a dense tensor")
        tensors[key] = snapshot_tensor(value)
    return safetensors_parts(tensors, {"format": "pt"})


def unpack_weights(data: bytes) -> dict[str, Any]:
    """The ``state_dict`` tensors of a weights part (``pack_weights``'
    safetensors bytes), copied into writable memory."""
    tensors, _ = read_safetensors(memoryview(bytearray(data)))
    return tensors


def pack_tree(tree: Any) -> tuple[str, list[Any]]:
    """(format, bytes): the tree layout, or the signed pickle when the tree is not plain data + tensors."""
    tensors: dict[str, Any] = {}

    def tensor_leaf(value: Any) -> dict[str, str] | None:
        import sys

        torch = sys.modules.get("torch")
        if torch is None or not isinstance(value, torch.Tensor):
            return None
        if not tensor_ok(torch, value):
            raise NotPlain(f"a {value.layout} {value.dtype} tensor")
        name = str(len(tensors))
        tensors[name] = snapshot_tensor(value)
        return {"$tensor": name}

    try:
        skeleton = to_tagged(tree, leaf=tensor_leaf, max_nodes=None)
    except NotPlain:
        from ..checkpoint.formats_container import encode_pickle

        encoded = encode_pickle(tree, None)
        return PICKLE, list(encoded.chunks())
    if not tensors:  # no torch needed to read it back
        return TREE, [b"J" + canonical_bytes(skeleton)]
    metadata = {"format": "pt", STATE_KEY: canonical_bytes(skeleton).decode("utf-8")}
    return TREE, [b"S", *safetensors_parts(tensors, metadata)]


def unpack_tree(fmt: str, data: bytes) -> Any:
    """Inverse of ``pack_tree``; a pickle only with this user's valid signature (else one-line error)."""
    if fmt == PICKLE:
        from ..checkpoint.formats_container import decode_pickle

        return decode_pickle({}, data)
    if fmt != TREE or not data:
        raise CheckpointError(f"malformed milestone part (format {fmt!r})")
    try:
        if data[:1] == b"J":
            return from_tagged(json.loads(data[1:]))
        if data[:1] != b"S":
            raise CheckpointError("malformed milestone part (unknown layout)")
        tensors, metadata = read_safetensors(memoryview(bytearray(data[1:])))
        skeleton = json.loads(metadata[STATE_KEY])
    except (KeyError, ValueError, TypeError, AttributeError):
        raise CheckpointError("malformed milestone part (no readable state skeleton)") from None

    def tensor_of(name: Any) -> Any:
        if name not in tensors:
            raise CheckpointError(f"malformed milestone part (no tensor {name!r})")
        return tensors[name]

    return from_tagged(skeleton, leaf=tensor_of)
