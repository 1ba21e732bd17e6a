"""Secrets recognised by *value*: the literal values of this process's secret-looking environment variables.

A pattern cannot recognise every secret (an AWS secret access key or a CI deploy token is just random
characters), but such secrets nearly always come from the environment: the kernel's when a cell reads
``os.environ``, the verifying process's when a report quotes what the cell printed.  So every exit also
removes the literal value of each environment variable whose *name* looks secret (``*_TOKEN``,
``*PASSWORD*``) or whose *value* has a secret's shape (a URL with a password, an Azure connection string),
and the secret parts the patterns find inside such values (the password of ``DATABASE_URL``, the
``AccountKey`` of a connection string) on their own.

Values shorter than ``MIN_LITERAL_SECRET`` are ignored (``TOKENIZERS_PARALLELISM=false`` would otherwise
redact every "false"), and so is a value naming an existing file: that is where a secret is kept
(``GOOGLE_APPLICATION_CREDENTIALS``), not the secret.

The environment is read at each call (a cell may set ``os.environ["X"]``); the result is cached per content of
the environment, so the common case costs one dict copy.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping

from .patterns import REDACTED, has_pattern_secret, is_secret_name, pattern_secrets

# shorter values are too likely to occur by chance (XDG_SESSION_ID=2, TOKENIZERS_PARALLELISM=false)
MIN_LITERAL_SECRET = 8
# variables that name a place or a mode, never a secret, although their names match
_NOT_SECRETS = frozenset({"SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_ID", "XDG_SESSION_TYPE"})

_lock = threading.Lock()
_cache: tuple[frozenset[tuple[str, str]], tuple[str, ...]] | None = None
_extra: set[str] = set()


def register_secret(value: str) -> None:
    """Treat ``value`` as a secret in this process from now on (a credential split off a store URL)."""
    global _cache
    if isinstance(value, str) and len(value) >= MIN_LITERAL_SECRET:
        with _lock:
            _extra.add(value)
            _cache = None


def _snapshot(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """A copy of ``environ``, retried if another thread changes it meanwhile (MLflow's telemetry does)."""
    for _ in range(5):
        try:
            return list(dict(environ).items())
        except (KeyError, RuntimeError):
            continue
    return list(dict(environ).items())


def _is_existing_path(value: str) -> bool:
    try:
        return os.path.isabs(value) and os.path.exists(value)
    except (OSError, ValueError):
        return False


def _longest_first(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=lambda v: (-len(v), v)))


def secret_values_of(items: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The secret literals among ``(name, value)`` pairs, longest first (so none is cut in half)."""
    found: set[str] = set()
    for name, value in items:
        if not isinstance(value, str) or len(value) < MIN_LITERAL_SECRET or name in _NOT_SECRETS:
            continue
        if has_pattern_secret(value):
            found.add(value)
            found.update(p for p in pattern_secrets(value) if len(p) >= MIN_LITERAL_SECRET)
        elif is_secret_name(name) and not _is_existing_path(value):
            found.add(value)
    return _longest_first(found)


def known_secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The literal secret values of ``environ`` (default: this process's, plus registered ones)."""
    if environ is not None:
        return secret_values_of(_snapshot(environ))
    return _current()


def _current() -> tuple[str, ...]:
    global _cache
    items = frozenset(_snapshot(os.environ))
    with _lock:
        cached = _cache
        extra = tuple(_extra)
    if cached is not None and cached[0] == items:
        return cached[1]
    values = _longest_first([*secret_values_of(items), *extra])
    with _lock:
        _cache = (items, values)
    return values


def redact_known(text: str, literals: Iterable[str] | None = None) -> str:
    """``text`` without any known secret value (this process's, or the given ``literals``)."""
    for value in _current() if literals is None else _longest_first(literals):
        if value in text:
            text = text.replace(value, REDACTED)
    return text
