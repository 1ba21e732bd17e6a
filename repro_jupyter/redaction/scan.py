"""Does a value, or its serialized bytes, hold a secret?  (Used to withhold checkpoints.)

A variable is checkpointed as bytes, and bytes cannot be redacted without corrupting them, so a variable whose
content holds a secret is not checkpointed at all.  ``holds_secret`` walks plain data (strings, bytes, dicts,
lists, tuples, sets, dataclass fields); ``bytes_hold_secret`` scans serialized bytes of any format (a pickle
keeps a str as UTF-8, NumPy keeps ``<U`` strings as UTF-32, some formats use UTF-16), for the shapes of
``patterns`` and the literal values of ``known``.  Both err on the side of "secret": a withheld checkpoint
costs a restore, a stored secret cannot be taken back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from .known import _current
from .patterns import has_pattern_secret, is_secret_name

MAX_DEPTH = 50
MAX_ITEMS = 200_000  # plain data bigger than this is judged by its serialized bytes instead
_OVERLAP = 4096  # bytes kept between chunks, so a secret cut by a chunk boundary is still found


def text_holds_secret(text: str) -> bool:
    """A secret shape or a known secret value in ``text``."""
    if any(value in text for value in _current()):
        return True
    return has_pattern_secret(text)


def holds_secret(value: Any) -> bool:
    """Whether plain data holds a secret anywhere inside (keys included; a non-empty string under a
    secret-looking key such as ``"password"`` counts as one)."""
    budget = [MAX_ITEMS]
    return _walk(value, 0, budget, set())


def _walk(value: Any, depth: int, budget: list[int], seen: set[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return False
    if isinstance(value, str):
        return text_holds_secret(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes_hold_secret(bytes(value))
    if isinstance(value, (int, float, complex, bool)) or value is None:
        return False
    if id(value) in seen:
        return False
    seen.add(id(value))
    if isinstance(value, Mapping):
        for key, item in list(value.items()):
            if (
                isinstance(key, str)
                and is_secret_name(key)
                and isinstance(item, (str, bytes))
                and len(item) >= 4
            ):
                return True
            if _walk(key, depth + 1, budget, seen) or _walk(item, depth + 1, budget, seen):
                return True
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_walk(item, depth + 1, budget, seen) for item in list(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(
            _walk(getattr(value, f.name, None), depth + 1, budget, seen) for f in dataclasses.fields(value)
        )
    return False


def _encodings(text: str) -> list[bytes]:
    out = []
    for codec in ("utf-8", "utf-16-le", "utf-32-le"):
        try:
            out.append(text.encode(codec))
        except UnicodeEncodeError:
            continue
    return out


def bytes_hold_secret(data: bytes | bytearray | memoryview) -> bool:
    """Whether serialized bytes hold a secret: a known secret value (as UTF-8, UTF-16 or UTF-32) or a
    secret shape in their ASCII text."""
    return chunks_hold_secret([data])


def chunks_hold_secret(chunks: Iterable[bytes | bytearray | memoryview]) -> bool:
    """``bytes_hold_secret`` over a stream of chunks (``Encoded.chunks()``), without joining them."""
    literals = [enc for value in _current() for enc in _encodings(value)]
    tail = b""
    for chunk in chunks:
        window = tail + bytes(chunk)
        if any(lit in window for lit in literals):
            return True
        if has_pattern_secret(window.decode("latin-1")):
            return True
        if _utf_wide_text_holds_secret(window):
            return True
        tail = window[-_OVERLAP:]
    return False


def _utf_wide_text_holds_secret(window: bytes) -> bool:
    """Secret shapes in UTF-16/UTF-32 text (NumPy ``<U`` arrays): drop the zero bytes of ASCII and look."""
    if window.count(b"\x00") < len(window) // 3:  # ASCII as UTF-16 is half zeros, as UTF-32 three quarters
        return False
    for width in (2, 4):
        for offset in range(width):
            narrow = window[offset::width]
            if len(narrow) < 16:
                continue
            if has_pattern_secret(narrow.decode("latin-1")):
                return True
    return False
