"""Canonical JSON and content digests.

Every id in repro-jupyter is a digest of canonical bytes, so the same content
always gets the same id on any machine: that is what lets a re-run leave the
notebook byte-identical and lets one store deduplicate across runs.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

DIGEST_PREFIX = "sha256:"


def _clean(value: Any) -> Any:
    """Make ``value`` JSON-able deterministically (floats that JSON cannot hold become strings)."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def canonical_bytes(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string per logical value."""
    try:  # the common case needs no cleaning; NaN/inf and non-str keys take the slow path
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError):
        text = json.dumps(
            _clean(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    return text.encode("utf-8")


def digest_bytes(data: bytes) -> str:
    """The content address used for store objects and pointers (``sha256:<hex>``)."""
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def digest_json(value: Any) -> str:
    """The ``sha256:`` content address of a JSON value's canonical
    bytes: equal values (whatever their key order) get one id."""
    return digest_bytes(canonical_bytes(value))


def short(digest: str | None, length: int = 12) -> str:
    """A human-sized prefix of a digest for summaries (never used as an id)."""
    if not digest:
        return "-"
    return digest.split(":", 1)[-1][:length]
