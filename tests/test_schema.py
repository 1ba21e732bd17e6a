"""The record schema: well-formed, and it rejects what breaks the contract."""

from __future__ import annotations

import jsonschema
import pytest

from repro_jupyter import schema
from repro_jupyter.environment import capture


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema.load_schema())
    assert set(schema.DEFINITIONS) <= set(schema.load_schema()["$defs"])


def test_environment_snapshot_validates(tmp_path):
    schema.validate("environment", capture(tmp_path))


def test_cell_metadata_rejects_absolute_or_extra_fields():
    good = {
        "schema_version": 1,
        "cell_key": "c",
        "seed": 1,
        "record": "sha256:" + "0" * 64,
        "environment": "sha256:" + "1" * 64,
        "source": "sha256:" + "2" * 64,
        "outputs": "sha256:" + "3" * 64,
        "status": "ok",
    }
    schema.validate("cellMetadata", good)
    with pytest.raises(jsonschema.ValidationError):
        schema.validate("cellMetadata", {**good, "timestamp": "2026-01-01"})
    with pytest.raises(jsonschema.ValidationError):
        schema.validate("cellMetadata", {**good, "seed": 2**40})
    assert schema.errors("cellMetadata", {**good, "record": "nope"})
