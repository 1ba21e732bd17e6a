"""Secret redaction.

Anything that leaves the kernel (environment variables, hyperparameters, git
remotes, error messages) passes through here first.  We redact by name *and* by
value, because secrets are often stored under innocent names (``DATABASE_URL``)
or pasted into parameters.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"

_SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSW(OR)?D|PASSPHRASE|(^|_)PWD$|KEY|CREDENTIAL|AUTH|PRIVATE|SESSION|COOKIE|"
    r"SIGNATURE|CERT)",
    re.IGNORECASE,
)
# scheme://user:password@host -> scheme://user:<redacted>@host (and bare tokens in URLs)
# The password runs to the first "@" and may hold "/", "?" or "#" (AWS secret keys often contain "/").
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]*):(?P<pw>[^\s@]+)@")
_URL_TOKEN_PARAM = re.compile(
    r"(?P<k>[?&](?:access_)?(?:token|key|secret|password|sig|signature|apikey|api_key)=)[^&\s]+",
    re.IGNORECASE,
)
_VALUE_PATTERNS = [
    re.compile(r"\bA(KIA|SIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}\b"),  # OpenAI-style keys
    re.compile(r"\bhf_[A-Za-z0-9]{20,}\b"),  # Hugging Face
    re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),  # Slack
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),  # GitLab
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWT
    re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key)\s*[:=]\s*\S+"),
    re.compile(r"(?i)\bmachine\s+\S+\s+login\s+\S+\s+password\s+\S+"),  # .netrc line
]


def is_secret_name(name: str) -> bool:
    """Names like ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*KEY*`` hold secrets."""
    return bool(_SECRET_NAME.search(name))


def redact_text(text: str) -> str:
    """Remove credentials embedded in a string, keeping the rest readable."""
    out = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    out = _URL_TOKEN_PARAM.sub(lambda m: f"{m['k']}{REDACTED}", out)
    for pattern in _VALUE_PATTERNS:
        out = pattern.sub(REDACTED, out)
    return out


def looks_secret(text: str) -> bool:
    return redact_text(text) != text


def redact_value(name: str, value: Any) -> Any:
    """Redact a named value recursively: by name first, then by content."""
    if is_secret_name(name) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(name, v) for v in value]
    return value
