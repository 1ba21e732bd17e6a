"""The export's view of the redaction service (``repro_jupyter.redaction``).

Recorded data was redacted when it was written, but an export also reads things that never went through
capture (the notebook's sources and outputs, the git remote, the tracking URI we print), and data recorded by
an older version may hold what today's rules catch.  So everything an export sends passes the service once
more, here with the known secret values of *this* process (or of a given environment, for tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..redaction import known_secret_values, notebook_secrets, redact_text
from ..redaction.known import redact_known


def secret_environment_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of variables whose name or value looks secret, longest first (so none is cut in half)."""
    return list(known_secret_values(environ))


class Scrubber:
    """Redacts text by pattern and by known secret values (this process's, or those of ``environ``)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.literals = None if environ is None else tuple(secret_environment_values(environ))
        self.extra: tuple[str, ...] = ()

    def learn(self, nb: Any) -> None:
        """Also redact the secret literals of ``nb``'s sources (``db_pass = "..."``), which its outputs
        may print where no name says what they are."""
        self.extra = tuple({*self.extra, *notebook_secrets(nb)})

    def text(self, text: str) -> str:
        """``text`` with credentials (patterns and known values) replaced by ``<redacted>``."""
        if self.literals is not None:
            text = redact_known(text, self.literals)
        return redact_text(text, self.extra)

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


__all__ = ["Scrubber", "secret_environment_values"]
