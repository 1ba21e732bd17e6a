"""Load and validate against the versioned record schema (``record.v1.json``)."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

SCHEMA_FILE = "record.v1.json"
DEFINITIONS = ("notebookMetadata", "cellMetadata", "cellRecord", "environment")


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


@cache
def _validator(definition: str) -> Any:
    import jsonschema

    schema = load_schema()
    if definition not in schema["$defs"]:
        raise KeyError(f"unknown schema definition {definition!r}")
    sub = {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    return jsonschema.Draft202012Validator(sub)


def validate(definition: str, value: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``value`` breaks the contract."""
    _validator(definition).validate(value)


def errors(definition: str, value: Any) -> list[str]:
    """All violations as readable one-liners (empty when valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _validator(definition).iter_errors(value)
    ]
