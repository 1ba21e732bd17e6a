"""One redaction pass for everything an export sends to another system.

Recorded data was redacted when it was captured, but an export also reads things
that never went through capture (the notebook's sources and outputs, the git
remote, the tracking URI we print), and a value pattern cannot recognise every
secret: an AWS secret access key is 40 random characters.  So an export redacts
by pattern (``redact.redact_text``) *and* by the literal values of this process's
secret-looking environment variables, which is where such keys usually come from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..redact import REDACTED, is_secret_name, looks_secret, redact_text

# shorter values are too likely to occur by chance (TOKENIZERS_PARALLELISM=false, XDG_SESSION_ID=2)
MIN_LITERAL_SECRET = 8


def secret_environment_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of variables whose name or value looks secret, longest first (so none is cut in half).

    A value that names an existing file is where a secret is kept, not the secret (``SSL_CERT_FILE``,
    ``GOOGLE_APPLICATION_CREDENTIALS``): scrubbing such paths would only garble honest records.
    """
    items = _snapshot(os.environ if environ is None else environ)
    values = {
        value
        for name, value in items
        if len(value) >= MIN_LITERAL_SECRET
        and (is_secret_name(name) or looks_secret(value))
        and (looks_secret(value) or not _is_existing_path(value))
    }
    return sorted(values, key=len, reverse=True)


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
        return os.path.exists(value)
    except (OSError, ValueError):
        return False


class Scrubber:
    """Redacts text by pattern and by the known secret values it was given."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.literals = secret_environment_values(environ)

    def text(self, text: str) -> str:
        """``text`` with credentials (patterns and known values) replaced by ``<redacted>``."""
        for literal in self.literals:
            if literal in text:
                text = text.replace(literal, REDACTED)
        return redact_text(text)

    def leaks(self, text: str) -> bool:
        """Whether ``text`` still holds something :meth:`text` would remove."""
        return self.text(text) != text

    def value(self, value: Any, skip: frozenset[str] = frozenset()) -> Any:
        """Every string leaf of a JSON-like value scrubbed; keys too; values under ``skip`` keys kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): v if k in skip else self.value(v, skip) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, skip) for v in value]
        return value
