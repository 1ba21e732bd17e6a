"""The contract: the versioned record schema (``record.v1.json``), its version and our metadata key, and
the wire schema beside it (``messages.v1.json``: the comm messages both ways, the runner comm's requests
and replies, the JSON bodies of the server's routes).

A leaf module (it imports nothing of the package), so every other module takes ``METADATA_KEY`` and
``SCHEMA_VERSION`` from here without an import cycle through the package root.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

SCHEMA_FILE = "record.v1.json"
MESSAGES_FILE = "messages.v1.json"
DEFINITIONS = ("notebookMetadata", "cellMetadata", "cellRecord", "environment")
# The key of our metadata in a notebook and its cells, and the name of the kernel's comm.
METADATA_KEY = "repro_jupyter"


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """``record.v1.json``, parsed once per process."""
    return json.loads(files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _schema_version() -> int:
    """The data-model version lives in one place, the schema file (``schema_version: {const: N}`` of the
    notebook metadata); Python reads it here and the frontend's generated ``schema.ts`` exports it."""
    version = load_schema()["$defs"]["notebookMetadata"]["properties"]["schema_version"]["const"]
    assert isinstance(version, int)
    return version


SCHEMA_VERSION = _schema_version()


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Any:
    """``pattern`` with ECMA-262's meaning, the one the schema (and the frontend) is written in.

    Python's ``$`` also matches before a final newline, so ``"3.11\\n"`` would pass
    ``^[0-9.]+$``: a trailing newline in a crafted version is exactly what an export must
    never emit.  Here ``$`` at the end of a pattern matches only at the end of the string.
    """
    from jsonschema import ValidationError

    if not isinstance(instance, str):
        return
    strict = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
    if not re.search(strict, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _strict_class() -> Any:
    import jsonschema

    return jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def _validator(definition: str) -> Any:
    schema = load_schema()
    if definition not in schema["$defs"]:
        raise KeyError(f"unknown schema definition {definition!r}")
    sub = {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    return _strict_class()(sub)


def validate(definition: str, value: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``value`` breaks the contract."""
    _validator(definition).validate(value)


def errors(definition: str, value: Any) -> list[str]:
    """All violations as readable one-liners (empty when valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _validator(definition).iter_errors(value)
    ]


def _safe_key(part: Any) -> str:
    text = str(part)
    return text if text.isprintable() and len(text) <= 60 else ascii(text)[:60] + "…"


def violations(definition: str, value: Any) -> list[str]:
    """Violations that quote only the schema, never the value: for objects read back from a store,
    whose fields may be crafted (a Dockerfile line in a version) or hold a secret."""
    out = []
    for e in _validator(definition).iter_errors(value):
        where = "/".join(_safe_key(p) for p in e.absolute_path) or "<root>"
        if e.validator == "required":
            out.append(f"{where}: {e.message}")  # names the missing property, from the schema
        else:
            rule = e.validator_value if e.validator in ("type", "pattern", "const", "enum") else ""
            out.append(f"{where}: breaks {e.validator} {rule}".rstrip()[:200])
    return out


# --- messages.v1.json: what travels between the kernel, the runners, the server and the frontend ----


@lru_cache(maxsize=1)
def load_messages_schema() -> dict[str, Any]:
    """``messages.v1.json`` (the wire contract), parsed once per process."""
    return json.loads(files(__name__).joinpath(MESSAGES_FILE).read_text(encoding="utf-8"))


@cache
def _message_validator(definition: str) -> Any:
    """A validator of one ``$defs`` entry of messages.v1.json; its relative ``$ref``s into
    record.v1.json (``record.v1.json#/$defs/cellMetadata``) resolve against the two files' ``$id``s."""
    from referencing import Registry, Resource

    messages, record = load_messages_schema(), load_schema()
    if definition not in messages["$defs"]:
        raise KeyError(f"unknown message definition {definition!r}")
    registry = Registry().with_resource(record["$id"], Resource.from_contents(record))
    sub = {"$id": messages["$id"], "$ref": f"#/$defs/{definition}", "$defs": messages["$defs"]}
    return _strict_class()(sub, registry=registry)


def validate_message(definition: str, value: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when a message or reply body breaks the wire contract
    (``definition``: a ``$defs`` name of messages.v1.json, e.g. ``cellRecordedMessage``)."""
    _message_validator(definition).validate(value)


def message_errors(definition: str, value: Any) -> list[str]:
    """All violations of the wire contract as readable one-liners (empty when valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _message_validator(definition).iter_errors(value)
    ]
