"""Secrets recognised by their *shape*: known token formats and credential contexts.

Each pattern replaces only the secret part (``AccountKey=<redacted>``, ``https://user:<redacted>@host``), so a
redacted string stays readable.  A format without a recognisable shape (an AWS secret access key is 40 random
characters) is caught only in context (``aws_secret_access_key = ...``) here; anywhere else it is caught by
value (``known.py``: the literal values of secret-looking environment variables).

Patterns never match a bare hex digest (a sha256, a git commit): records are full of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

REDACTED = "<redacted>"

# Secret-looking *names* (environment variables, hyperparameters, dict keys).  Strong words match anywhere in
# the name; short words only as a whole part of it (``sort_key``, ``apiKey``), so ``tokenizer``, ``monkey``,
# ``author`` and ``max_tokens`` are not secrets.
_STRONG_NAME = re.compile(
    r"SECRET|PASSW(OR)?D|PASSPHRASE|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|AUTH_?TOKEN|ACCESS_?TOKEN|"
    r"CONN(ECTION)?_?STR(ING)?",
    re.IGNORECASE,
)
_NAME_PARTS = frozenset(
    {
        "token",
        "key",
        "keys",
        "pass",
        "pw",
        "pwd",
        "auth",
        "session",
        "cookie",
        "cookies",
        "signature",
        "sig",
        "sas",
        "cert",
        "private",
        "apikey",
        "creds",
        "bearer",
        "jwt",
        "pat",
        "dsn",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_secret_name(name: str) -> bool:
    """Names such as ``*SECRET*``, ``*PASSWORD*``, ``HF_TOKEN``, ``db_pass``, ``apiKey`` hold secrets."""
    if _STRONG_NAME.search(name):
        return True
    parts = re.split(r"[^A-Za-z0-9]+", _CAMEL.sub("_", name))
    return any(part.lower() in _NAME_PARTS for part in parts)


# --- value patterns -----------------------------------------------------------------------------------------
# Each rule: a compiled pattern, how to rebuild a match (None: the whole match becomes <redacted>), and its
# triggers: substrings one of which every match contains (lower-case ones are looked for in the lower-cased
# text).  A rule runs only when the text holds a trigger, so a long text costs substring searches, not 25
# regex scans.
Build = Callable[[re.Match[str]], str] | None


@dataclass(frozen=True)
class Rule:
    """One token format: its pattern, how a match is rewritten (None: wholly
    ``<redacted>``), and the substrings that must occur for it to run at all."""

    pattern: re.Pattern[str]
    build: Build
    triggers: tuple[str, ...]
    anchored: bool = False  # every match starts with a (lower-case) trigger: match only there

    def sub(self, text: str) -> str:
        """``text`` with every match redacted (only the secret group where ``build``
        keeps context); anchored rules try only where a trigger starts."""
        if self.anchored:
            lowered = text.lower()
            if len(lowered) == len(text):
                return "".join(self._anchored_pieces(text, lowered))
        return self.pattern.sub(REDACTED if self.build is None else self.build, text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The rule's matches in ``text``, left to right and not overlapping, found as ``sub`` finds them."""
        if self.anchored:
            lowered = text.lower()
            if len(lowered) == len(text):
                yield from self._anchored_matches(text, lowered)
                return
        yield from self.pattern.finditer(text)

    def _anchored_matches(self, text: str, lowered: str) -> Iterator[re.Match[str]]:
        """An IGNORECASE alternation scans slowly (~400 ns a character); trying it only where a trigger
        starts is the same search at the cost of a few substring searches."""
        starts: set[int] = set()
        for trigger in self.triggers:
            at = lowered.find(trigger)
            while at >= 0:
                starts.add(at)
                at = lowered.find(trigger, at + 1)
        end = 0
        for at in sorted(starts):
            if at < end:
                continue
            m = self.pattern.match(text, at)
            if m:
                end = max(m.end(), at + 1)
                yield m

    def _anchored_pieces(self, text: str, lowered: str) -> Iterator[str]:
        last = 0
        for m in self._anchored_matches(text, lowered):
            yield text[last : m.start()]
            yield REDACTED if self.build is None else self.build(m)
            last = m.end()
        yield text[last:]


def _keep(*groups: str) -> Callable[[re.Match[str]], str]:
    """Keep the named groups (the context), replace the group ``s`` (the secret)."""

    def build(m: re.Match[str]) -> str:
        return "".join(REDACTED if g == "s" else (m.group(g) or "") for g in groups)

    return build


def _rule(pattern: str, build: Build, *triggers: str, flags: int = 0, anchored: bool = False) -> Rule:
    return Rule(re.compile(pattern, flags), build, triggers, anchored)


_WORDS = (
    "password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "api_key", "api-key",
    "access_key", "access-key", "accesskey", "private_key", "private-key", "privatekey", "auth_key",
    "auth-key", "authkey", "credential", "pw", "pass",
)  # fmt: skip
# the name's prefix (``db_`` of ``db_password``) is left in place, so it need not be matched
_SECRET_WORDS = (
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|auth[_-]?key|credentials?|(?<![a-z0-9])(?:pw|pass)(?![a-z0-9]))"
)
_AWS_ID_PREFIXES = ("A3T", "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA")
_SCHEME = r"(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*://"
RULES: list[Rule] = [
    # PEM private keys: the whole block (or to the end of the text when it was cut off)
    _rule(
        r"-----BEGIN (?P<k>[A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?"
        r"(?:-----END (?P=k)PRIVATE KEY( BLOCK)?-----|\Z)",
        None,
        "PRIVATE KEY",
        flags=re.DOTALL,
    ),
    # GCP service-account JSON (also a Python repr of it): the whole private_key / private_key_id value
    _rule(
        r"""(?P<a>["']private_key(?:_id)?["']\s*:\s*)(?P<q>["'])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)""",
        lambda m: f"{m['a']}{m['q']}{REDACTED}{m['q']}",
        "private_key",
    ),
    # credentials in URLs: scheme://user:password@host (the password may hold "/", "?", "#")
    _rule(rf"(?P<a>{_SCHEME}[^/\s:@'\"]*:)(?P<s>[^\s@'\"]+)(?P<b>@)", _keep("a", "s", "b"), "://"),
    # a bare token as the URL's user (https://TOKEN@host); short plain user names (git@, alice@) stay
    _rule(
        rf"(?P<a>{_SCHEME})(?P<s>(?=[^/\s:@'\"]*\d)[^/\s:@'\"]{{8,}}|[^/\s:@'\"]{{20,}})(?P<b>@)",
        _keep("a", "s", "b"),
        "://",
    ),
    # token parameters in URLs and query strings
    _rule(
        r"(?P<a>[?&;](?:access_)?(?:token|key|secret|password|sig|signature|apikey|api_key|code|"
        r"client_secret|x-amz-signature|x-amz-credential|x-amz-security-token)=)(?P<s>[^&\s'\"]+)",
        _keep("a", "s"),
        "token=",
        "key=",
        "secret=",
        "password=",
        "sig=",
        "signature=",
        "code=",
        "credential=",
        flags=re.IGNORECASE,
    ),  # fmt: skip
    # Azure connection strings and SAS tokens
    _rule(
        r"(?P<a>\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecretValue|Password|Pwd)=)"
        r"(?P<s>[^;'\"\s]+)",
        _keep("a", "s"),
        "accountkey=",
        "sharedaccesskey=",
        "sharedaccesssignature=",
        "sharedsecretvalue=",
        "password=",
        "pwd=",
        flags=re.IGNORECASE,
    ),  # fmt: skip
    # AWS secret access key in context (bare, it is 40 random characters: found by value instead)
    _rule(
        r"(?P<a>(?i:aws)?_?(?i:secret)_?(?i:access)?_?(?i:key)[\"']?\s*[:=]\s*[\"']?)(?P<s>[A-Za-z0-9/+=]{40})"
        r"(?![A-Za-z0-9/+=])",
        _keep("a", "s"),
        "secret",
    ),
    # password=..., "token": "...", api_key: ... (value up to a quote, space, comma, brace or semicolon)
    _rule(
        rf"(?P<a>{_SECRET_WORDS}[\"']?\s*[:=]\s*[\"']?)(?P<s>[^\s\"',;&}}\]\)]{{3,}})",
        _keep("a", "s"),
        *_WORDS,
        flags=re.IGNORECASE,
        anchored=True,
    ),
    _rule(r"(?P<a>\b[Bb]earer\s+)(?P<s>[A-Za-z0-9._~+/=-]{16,})", _keep("a", "s"), "Bearer", "bearer"),
    _rule(r"(?i)\bmachine\s+\S+\s+login\s+\S+\s+password\s+\S+", None, "machine"),  # .netrc line
    _rule(rf"\b(?:{'|'.join(_AWS_ID_PREFIXES)})[A-Z0-9]{{16}}\b", None, *_AWS_ID_PREFIXES),
    _rule(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b", None, "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),  # GitHub
    _rule(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b", None, "github_pat_"),
    _rule(r"\bglpat-[A-Za-z0-9_-]{20,}\b", None, "glpat-"),  # GitLab
    _rule(r"\bhf_[A-Za-z0-9]{20,}\b", None, "hf_"),  # Hugging Face
    _rule(r"\bsk-[A-Za-z0-9_-]{16,}", None, "sk-"),  # OpenAI / Anthropic style
    _rule(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b", None, "k_live_", "k_test_"),  # Stripe
    _rule(r"\bxox[abposr]-[A-Za-z0-9-]{10,}", None, "xox"),  # Slack
    _rule(r"\bxapp-[0-9]-[A-Za-z0-9-]{10,}", None, "xapp-"),
    _rule(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+", None, "hooks.slack.com"),
    _rule(r"\bAIza[0-9A-Za-z_-]{35}\b", None, "AIza"),  # Google API key
    _rule(r"\bya29\.[0-9A-Za-z_-]{20,}", None, "ya29."),  # Google OAuth access token
    _rule(r"\bnpm_[A-Za-z0-9]{36}\b", None, "npm_"),
    _rule(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}", None, "pypi-AgEIcHlwaS5vcmc"),
    _rule(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", None, "eyJ"),  # JWT
]


def _trie_pattern(words: set[str]) -> str:
    """One regex for "any of ``words``", shaped as a trie: Python's ``re`` tries a flat alternation of 70
    literals one by one at each position (40 us for a digest), a trie once (3 us)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        if "" in node:  # a trigger ends here: whatever follows, one was found
            return ""
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return build(trie)


# one search (in the lower-cased text) says whether any rule can match at all: most strings (digests, type
# names, numbers) hold no trigger and cost one short scan
_ANY_TRIGGER = re.compile(_trie_pattern({t.lower() for r in RULES for t in r.triggers}))


def _active(text: str) -> list[Rule]:
    lowered = text.lower()
    return [
        rule for rule in RULES if any((t in lowered) if t.islower() else (t in text) for t in rule.triggers)
    ]


def redact_patterns(text: str) -> str:
    """``text`` with every recognised secret shape replaced by ``<redacted>``."""
    if not _ANY_TRIGGER.search(text.lower()):
        return text
    for rule in _active(text):
        text = rule.sub(text)
    return text


def _secret_part(rule: Rule, m: re.Match[str]) -> str:
    part = m.group("s") if rule.build is not None and "s" in rule.pattern.groupindex else m.group(0)
    return "" if part == REDACTED else (part or "")  # ``password=<redacted>`` holds no secret any more


def has_pattern_secret(text: str) -> bool:
    """Whether ``text`` holds a recognised secret shape (cheaper than comparing a redacted copy)."""
    if not _ANY_TRIGGER.search(text.lower()):
        return False
    return any(_secret_part(rule, m) for rule in _active(text) for m in rule.finditer(text))


def pattern_secrets(text: str) -> Iterator[str]:
    """The secret parts the patterns find in ``text`` (to learn them as literal values too)."""
    for rule in _active(text):
        for m in rule.finditer(text):
            part = _secret_part(rule, m)
            if part:
                yield part
