"""Every example document validates against its JSON Schema and the model, and the files
are exactly what examples/documents/make_examples.py builds."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pakn_sign.codec.jsoncodec import from_json
from pakn_sign.codec.jsonschema_export import json_schema_files
from pakn_sign.models import DOCUMENT_TYPES, Case, DocumentRef, document_digest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "documents"
KINDS = sorted(DOCUMENT_TYPES)
SCHEMAS = {name: json.loads(data) for name, data in json_schema_files().items()}


def _builder() -> Any:
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILDER = _builder()
BUILT = {doc.kind: doc for doc in BUILDER.build_examples()}


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    # jsonschema checks date-time only with an optional extra; RFC 3339 §5.6 needs an offset.
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    return parsed.tzinfo is not None and "T" in value.upper()


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCHEMAS[name], format_checker=FORMATS)


def test_one_example_per_kind() -> None:
    assert sorted(BUILT) == KINDS
    assert sorted(p.stem for p in EXAMPLES.glob("*.json")) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_example_validates_against_its_schema_and_the_union(kind: str) -> None:
    data = json.loads((EXAMPLES / f"{kind}.json").read_bytes())
    _validator(f"{kind}.schema.json").validate(data)
    _validator("document.schema.json").validate(data)


@pytest.mark.parametrize("kind", KINDS)
def test_example_validates_against_the_model(kind: str) -> None:
    doc = from_json((EXAMPLES / f"{kind}.json").read_bytes(), expect=DOCUMENT_TYPES[kind])
    assert doc == BUILT[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_example_file_is_what_the_builder_writes(kind: str) -> None:
    expected = BUILDER.example_json(BUILT[kind])
    assert (EXAMPLES / f"{kind}.json").read_bytes() == expected, "run make_examples.py"


@pytest.mark.parametrize("kind", KINDS)
def test_example_text_is_nfc(kind: str) -> None:
    text = (EXAMPLES / f"{kind}.json").read_text("utf-8")
    assert unicodedata.is_normalized("NFC", text)


def test_schema_refuses_what_the_model_refuses() -> None:
    data = json.loads((EXAMPLES / "petition.json").read_bytes())
    validator = _validator("document.schema.json")
    for bad in (
        {**data, "extra": 1},
        {**data, "channel": "fax"},
        {**data, "received_at": "yesterday"},
        {**data, "received_at": "2026-02-09T09:15:00"},
        {**data, "recipient": "G22"},
        {key: value for key, value in data.items() if key != "schema_version"},
    ):
        assert not validator.is_valid(bad)


def test_examples_form_one_coherent_case() -> None:
    docs = BUILDER.build_examples()
    case = Case.from_documents(docs, calendar=BUILDER.EXAMPLE_CALENDAR)
    assert len(case.history) == 10
    assert {doc.case_id for doc in docs} == {docs[0].document_id}


def test_every_reference_digest_is_correct() -> None:
    by_id = {doc.document_id: doc for doc in BUILDER.build_examples()}
    refs = 0
    for doc in by_id.values():
        for name in type(doc).model_fields:
            value = getattr(doc, name)
            if isinstance(value, DocumentRef):
                assert document_digest(by_id[value.document_id]) == value.sha256
                refs += 1
    assert refs >= 10
