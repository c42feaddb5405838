"""The committed JSON Schemas are exactly what the models generate now."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pakn_sign.codec.jsonschema_export import json_schema_files, write_json_schemas
from pakn_sign.models import DOCUMENT_TYPES

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "json"
GENERATED = json_schema_files()


def test_one_schema_per_kind_plus_the_union() -> None:
    expected = {f"{kind}.schema.json" for kind in DOCUMENT_TYPES} | {"document.schema.json"}
    assert set(GENERATED) == expected
    committed = {p.name for p in SCHEMA_DIR.glob("*.schema.json")}
    assert committed == expected, "run scripts/gen_json_schema.py"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_committed_schema_matches_models(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_bytes()
    assert committed == GENERATED[name], f"{name} drifted: run scripts/gen_json_schema.py"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = json.loads(GENERATED[name])
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")


def test_generation_is_deterministic() -> None:
    assert json_schema_files() == GENERATED


def test_write_json_schemas_writes_the_generated_bytes(tmp_path: Path) -> None:
    paths = write_json_schemas(tmp_path / "out")
    assert {p.name for p in paths} == set(GENERATED)
    for path in paths:
        assert path.read_bytes() == GENERATED[path.name]
        assert path.read_bytes().endswith(b"}\n")


def test_wire_keys_are_required_in_every_kind() -> None:
    for kind in DOCUMENT_TYPES:
        schema = json.loads(GENERATED[f"{kind}.schema.json"])
        assert {"kind", "schema_version", "document_id", "case_id"} <= set(schema["required"])
        assert schema["additionalProperties"] is False
