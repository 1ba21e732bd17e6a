"""Per-user HMAC signatures for the pickles this store writes.

Pickle runs code while it loads, so a checkpoint store that unpickled whatever it found would let anyone who
can drop a file into a shared ``.repro/`` folder run code in the next kernel that restores from it.  Like
Jupyter's notebook trust, every pickle we write carries an HMAC-SHA256 made with a key that lives *outside*
any store (in the user's data directory), and nothing is unpickled unless that signature checks out.

The key is 32 random bytes, created on first use with mode 0600.  It is never printed, logged or put into an
exception message.  Location, first match wins:

1. ``$REPRO_JUPYTER_SIGNING_KEY`` (a file path),
2. ``$XDG_DATA_HOME/repro-jupyter/signing_key``,
3. ``~/.local/share/repro-jupyter/signing_key``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
import stat
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import StoreError

KEY_ENV = "REPRO_JUPYTER_SIGNING_KEY"
KEY_BYTES = 32
SIGNATURE_PREFIX = "hmac-sha256:"
# Domain separation: a MAC made for a checkpoint can never be confused with one made by any other use of a
# key that a person might (wrongly) share with another tool.
_DOMAIN = b"repro-jupyter/checkpoint/v1\x00"

_REFUSAL = "refusing to unpickle: the object has no valid signature from this user's key"


class UnsignedObject(StoreError):
    """A pickle without any signature: it was not written by this store, so it is never loaded."""

    def __init__(self, detail: str = "it carries no signature, so it was not written by this store") -> None:
        super().__init__(f"{_REFUSAL} ({detail})")


class BadSignature(StoreError):
    """A pickle whose signature does not match: forged, modified, or written with another user's key."""

    def __init__(
        self, detail: str = "it was not written by this store with this user's key, or it was modified"
    ) -> None:
        super().__init__(f"{_REFUSAL} ({detail})")


def key_path() -> Path:
    """Where this user's signing key lives (never inside a store, so copying a store never copies it)."""
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home) / "repro-jupyter" / "signing_key"


_cache: dict[Path, bytes] = {}
_cache_lock = threading.Lock()


def _key() -> bytes:
    path = key_path()
    with _cache_lock:
        key = _cache.get(path)
        if key is None:
            key = _load_or_create(path)
            _cache[path] = key
        return key


def _load_or_create(path: Path) -> bytes:
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _create_key(path)
    except FileExistsError:
        pass  # another process won the race: use its key
    except OSError as exc:
        raise StoreError(f"cannot create the signing key {path}: {exc.strerror or exc}") from None
    return _read_key(path)


def _create_key(path: Path) -> None:
    """Publish a complete key file atomically: readers see either no file or all 32 bytes."""
    fd, tmp = tempfile.mkstemp(prefix=".signing_key-", dir=path.parent)  # mode 0600
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
        os.close(fd)
        fd = -1
        try:
            os.link(tmp, path)  # fails with FileExistsError if someone else got there first
        except FileExistsError:
            raise
        except OSError:
            # No hard links on this file system: exclusive create; readers retry until the key is complete.
            excl = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(excl, Path(tmp).read_bytes())
                os.fsync(excl)
            finally:
                os.close(excl)
    finally:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _read_key(path: Path) -> bytes:
    for attempt in range(50):
        fd = os.open(path, os.O_RDONLY)  # FileNotFoundError propagates to the caller
        try:
            info = os.fstat(fd)
            data = os.read(fd, KEY_BYTES + 1)
        finally:
            os.close(fd)
        _check_private(path, info)
        if len(data) == KEY_BYTES:
            return data
        if len(data) < KEY_BYTES and attempt < 49:
            time.sleep(0.01)  # a concurrent exclusive-create writer has not finished yet
            continue
        break
    raise StoreError(
        f"the signing key {path} is malformed (expected {KEY_BYTES} bytes); move it away to make a new one"
    )


def _check_private(path: Path, info: os.stat_result) -> None:
    """Refuse a key others could read or replace: with it they could sign pickles that run code here."""
    if not hasattr(os, "getuid"):
        return
    if info.st_uid != os.getuid():
        raise StoreError(f"the signing key {path} belongs to another user; refusing to use it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise StoreError(
            f"the signing key {path} is accessible by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
        )


def new_mac() -> hmac.HMAC:
    """An incremental signer, for data that is streamed (the checkpoint writer signs while it writes)."""
    return hmac.new(_key(), _DOMAIN, hashlib.sha256)


def signature_of(mac: hmac.HMAC) -> str:
    """``"hmac-sha256:<hex>"`` of a finished incremental MAC (``new_mac``), the form ``check`` accepts."""
    return SIGNATURE_PREFIX + mac.hexdigest()


def sign(data: bytes | memoryview) -> str:
    """``"hmac-sha256:<hex>"`` over exactly ``data``, with this user's key."""
    mac = new_mac()
    mac.update(data)
    return signature_of(mac)


def check_mac(mac: hmac.HMAC, signature: str | None) -> None:
    """Compare a finished incremental MAC with ``signature`` in constant time; raise if they differ."""
    if not signature or not isinstance(signature, str):
        raise UnsignedObject()
    if not signature.startswith(SIGNATURE_PREFIX):
        raise UnsignedObject("its signature is not an hmac-sha256 signature")
    expected = signature_of(mac)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        raise BadSignature()


def check(data: bytes | memoryview, signature: str | None) -> None:
    """Raise ``UnsignedObject`` / ``BadSignature`` unless ``signature`` is our key's HMAC over ``data``."""
    mac = new_mac()
    mac.update(data)
    check_mac(mac, signature)


def check_parts(parts: Iterable[bytes | memoryview], signature: str | None) -> None:
    """``check`` for data held in several pieces (a framed checkpoint), without joining them."""
    mac = new_mac()
    for part in parts:
        mac.update(part)
    check_mac(mac, signature)


def dumps_signed(value: Any) -> tuple[bytes, str]:
    """Pickle ``value`` (protocol 5) and sign the exact bytes."""
    data = pickle.dumps(value, protocol=5)
    return data, sign(data)


def loads_signed(
    data: bytes | memoryview, signature: str | None, *, buffers: Iterable[Any] | None = None
) -> Any:
    """Unpickle ``data`` only if ``signature`` is this user's HMAC over it.

    The signature is checked before a single byte reaches ``pickle``: a missing or wrong one raises
    ``UnsignedObject`` / ``BadSignature`` (one-line ``StoreError`` messages), never runs anything.
    """
    check(data, signature)
    return pickle.loads(data, buffers=buffers)
