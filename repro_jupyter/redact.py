"""Secret redaction: the import path every module has used; the service lives in ``redaction/``."""

from __future__ import annotations

from .redaction import (
    MIN_LITERAL_SECRET,
    REDACTED,
    WITHHELD,
    bytes_hold_secret,
    chunks_hold_secret,
    holds_secret,
    is_secret_name,
    known_secret_values,
    looks_secret,
    redact_bytes_text,
    redact_data,
    redact_text,
    redact_value,
    register_secret,
)

__all__ = [
    "MIN_LITERAL_SECRET",
    "REDACTED",
    "WITHHELD",
    "bytes_hold_secret",
    "chunks_hold_secret",
    "holds_secret",
    "is_secret_name",
    "known_secret_values",
    "looks_secret",
    "redact_bytes_text",
    "redact_data",
    "redact_text",
    "redact_value",
    "register_secret",
]
