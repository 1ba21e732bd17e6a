"""Where a notebook's store lives: a local folder or a team store on any fsspec URL.

The location is configured, most specific first, by the ``store_url`` traitlet of
the magics (``%config ReproMagics.store_url = "s3://bucket/prefix"``), the
``REPRO_JUPYTER_STORE`` environment variable, ``store = "..."`` under
``[tool.repro-jupyter]`` in the nearest ``pyproject.toml`` above the notebook, and
finally ``.repro`` beside the notebook.  A plain path (or ``~/...``) is a local store
used as is, SQLite catalog included.  A URL with a scheme (``s3://``, ``gs://``,
``file:///shared/folder``) is a *remote* store: objects and a catalog journal live
there, and a per-user local cache holds a normal local store beside it.  Use
``file://`` for a shared folder on NFS or SMB, where SQLite locking is unreliable.

Credentials are never part of what is stored: ``s3://KEY:SECRET@bucket`` is split
into connection options and the credential-free URL, and only the latter is ever
written (notebook metadata, catalog, messages).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import StoreError
from ..project_config import nearest_tool_config
from ..redact import redact_text

STORE_DIRNAME = ".repro"
ENV_URL = "REPRO_JUPYTER_STORE"
ENV_OPTIONS = "REPRO_JUPYTER_STORE_OPTIONS"
ENV_SCRATCH = "REPRO_JUPYTER_SCRATCH_STORE"  # set only by our own scratch runs; wins over everything
S3_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 3, "mode": "standard"}}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class StoreLocation:
    """A resolved store location: a local ``path``, or a remote ``url`` with its cache ``path``."""

    path: Path  # the local store (for a remote store: its cache)
    url: str | None = None  # credential-free remote URL; None for a local store
    source: str = "default"  # traitlet | env | pyproject | default
    options: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    connect_url: str | None = field(default=None, repr=False, compare=False)  # what fsspec opens

    @property
    def remote(self) -> bool:
        """True for a team store (an fsspec URL), whose ``path`` is only the local cache."""
        return self.url is not None

    def describe(self) -> str:
        """The credential-free URL of a team store, else the local folder: the form messages name."""
        return self.url if self.url is not None else str(self.path)


def is_url(value: str) -> bool:
    """Whether ``value`` starts with ``scheme://`` (a team store
    URL, ``file://`` included) rather than being a local path."""
    return bool(_SCHEME.match(value))


def split_userinfo(url: str) -> tuple[str, str | None]:
    """(URL without ``user:password@``, that user info or None), split by hand.

    ``urlsplit`` ends the authority at the first ``/``, ``?`` or ``#``, and secret keys contain those
    (AWS's own example key has two "/"), so it would leave most of such a password in the "clean"
    URL.  The user info is everything before the first ``@`` that follows a ``user:`` without "/".
    """
    scheme, sep, rest = url.partition("://")
    colon = rest.find(":")
    if not sep or colon < 0 or "/" in rest[:colon]:
        return url, None
    at = rest.find("@", colon)
    if at < 0:
        return url, None
    return f"{scheme}://{rest[at + 1 :]}", rest[:at]


def redact_url(url: str) -> str:
    """The URL without user, password or token parameters: safe to store and to show."""
    parts = urlsplit(split_userinfo(url)[0])
    netloc = parts.netloc.rpartition("@")[2]
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, "")))


def _split_credentials(url: str) -> tuple[str, dict[str, Any]]:
    """(URL without credentials, fsspec options carrying them) for ``scheme://user:pass@host/...``
    (percent-encoded user and password are decoded)."""
    clean, userinfo = split_userinfo(url)
    if userinfo is None:
        return url, {}
    user, _, password = (unquote(part) for part in userinfo.partition(":"))
    if clean.split("://", 1)[0] in ("s3", "s3a"):
        return clean, {k: v for k, v in (("key", user), ("secret", password)) if v}
    return clean, {k: v for k, v in (("username", user), ("password", password)) if v}


def _env_options() -> dict[str, Any]:
    raw = os.environ.get(ENV_OPTIONS)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise StoreError(f"{ENV_OPTIONS} is not valid JSON") from None
    if not isinstance(value, dict):
        raise StoreError(f"{ENV_OPTIONS} must be a JSON object of fsspec options")
    return value


def pyproject_store(notebook_dir: Path) -> tuple[str, Path] | None:
    """``[tool.repro-jupyter] store`` of the nearest ``pyproject.toml`` and that file's folder."""
    found = nearest_tool_config(notebook_dir)
    if found is None:
        return None
    value = found[0].get("store")
    if value is not None and not isinstance(value, str):
        raise StoreError(
            f"{found[1] / 'pyproject.toml'}: [tool.repro-jupyter] store must be a path or URL string, "
            f"not {type(value).__name__}"
        )
    return (value, found[1]) if value and value.strip() else None


def cache_root(url: str) -> Path:
    """The per-user local cache of a remote store, shared by every notebook using that URL."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return base / "repro-jupyter" / "remote" / key


@contextmanager
def scratch_store() -> Iterator[Path]:
    """A throw-away store for runs that must not add to any real run log (``check``, ``sensitivity``).

    It wins over everything, the ``store_url`` traitlet of a user's IPython config included, and is
    removed afterwards; the environment is restored whatever happens.
    """
    with tempfile.TemporaryDirectory(prefix="repro-scratch-") as scratch:
        root = Path(scratch) / STORE_DIRNAME
        previous = os.environ.get(ENV_SCRATCH)
        os.environ[ENV_SCRATCH] = str(root)
        try:
            yield root
        finally:
            if previous is None:
                os.environ.pop(ENV_SCRATCH, None)
            else:
                os.environ[ENV_SCRATCH] = previous


def resolve_location(notebook_dir: str | os.PathLike[str], explicit: str | None = None) -> StoreLocation:
    """The store location for notebooks in ``notebook_dir``: traitlet > env > pyproject > default
    (a scratch run's store above all)."""
    notebook_dir = Path(notebook_dir)
    scratch = os.environ.get(ENV_SCRATCH, "").strip()
    if scratch:
        return StoreLocation(Path(scratch), source="scratch")
    value, base, source = None, Path.cwd(), "default"
    if explicit and explicit.strip():
        value, source = explicit.strip(), "traitlet"
    elif os.environ.get(ENV_URL, "").strip():
        value, source = os.environ[ENV_URL].strip(), "env"
    else:
        found = pyproject_store(notebook_dir.resolve())
        if found is not None:
            value, base, source = found[0].strip(), found[1], "pyproject"
    if value is None:
        return StoreLocation(notebook_dir / STORE_DIRNAME)
    if "\x00" in value:
        raise StoreError(f"store setting ({source}) holds a NUL character: not a path or URL")
    if not is_url(value):
        try:
            path = Path(value).expanduser()
        except RuntimeError:  # ~someone who is no user here
            raise StoreError(f"store setting ({source}) {value[:80]!r}: cannot expand '~' here") from None
        return StoreLocation(path if path.is_absolute() else base / path, source=source)
    connect, options = _split_credentials(value)
    options = {**_env_options(), **options}
    if connect.split("://", 1)[0] in ("s3", "s3a"):
        # bounded waits: an unreachable store must cost seconds at kernel exit, not botocore's minutes
        options.setdefault("config_kwargs", S3_TIMEOUTS)
    url = redact_url(connect)
    return StoreLocation(cache_root(url), url=url, source=source, options=options, connect_url=connect)


__all__ = [
    "StoreLocation",
    "resolve_location",
    "scratch_store",
    "redact_url",
    "cache_root",
    "STORE_DIRNAME",
    "is_url",
]
