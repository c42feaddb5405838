"""JSON codec: canonical output, round trips, and the hardened parser's refusals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import documents

from pakn_sign.codec.jsoncodec import JsonLimits, from_json, loads_strict, to_json
from pakn_sign.errors import InvalidInput, SchemaError
from pakn_sign.models import Answer, Petition, document_digest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "documents"


@pytest.fixture(scope="module")
def petition() -> Petition:
    return from_json((EXAMPLES / "petition.json").read_bytes(), expect=Petition)


def test_to_json_is_canonical(petition: Petition) -> None:
    data = to_json(petition)
    obj = json.loads(data)
    assert data == json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert "Trần Thị Mai".encode() in data  # UTF-8, not \u escapes


def test_to_json_is_deterministic_across_equal_models(petition: Petition) -> None:
    rebuilt = Petition.model_validate_json(petition.model_dump_json())
    assert rebuilt is not petition
    assert to_json(rebuilt) == to_json(petition)


def test_datetimes_keep_their_offset_in_a_fixed_form(petition: Petition) -> None:
    utc = petition.model_copy(update={"received_at": dt.datetime(2026, 2, 9, 2, 15, tzinfo=dt.UTC)})
    assert b'"received_at":"2026-02-09T02:15:00+00:00"' in to_json(utc)
    assert b'"received_at":"2026-02-09T09:15:00+07:00"' in to_json(petition)
    # Same instant, other offset: equal models, different bytes (the offset is kept).
    assert utc.received_at == petition.received_at
    assert to_json(utc) != to_json(petition)


def test_digest_is_sha256_of_to_json(petition: Petition) -> None:
    import hashlib

    assert document_digest(petition) == hashlib.sha256(to_json(petition)).hexdigest()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_valid_model_round_trips(doc: Any) -> None:
    data = to_json(doc)
    back = from_json(data)
    assert back == doc
    assert type(back) is type(doc)
    assert to_json(back) == data


def _reference_canonical(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_canonical_bytes_equal_the_json_dumps_definition(doc: Any) -> None:
    # to_json writes through pydantic-core for speed; the definition (and every digest ever
    # made) is json.dumps with sorted keys: the bytes must not differ for any document.
    assert to_json(doc) == _reference_canonical(doc.model_dump(mode="json"))


def test_canonical_bytes_fall_back_to_json_dumps_outside_plain_values() -> None:
    from pydantic import BaseModel

    from pakn_sign.models._base import canonical_json

    class Odd(BaseModel):
        ratio: float
        control: str

    odd = Odd(ratio=1e16, control="\x01\x7f\u2028é")
    assert canonical_json(odd) == _reference_canonical(odd.model_dump(mode="json"))
    assert b'"ratio":1e+16' in canonical_json(odd)  # Python's float form, not serde's
    with pytest.raises(UnicodeEncodeError):
        canonical_json(Odd(ratio=0.0, control="\ud800"))


def test_expect_refuses_another_kind(petition: Petition) -> None:
    with pytest.raises(SchemaError) as info:
        from_json(to_json(petition), expect=Answer)
    assert info.value.location == "/kind"


def test_schema_error_has_json_pointer(petition: Petition) -> None:
    obj = json.loads(to_json(petition))
    obj["sender"]["email"] = "not an e-mail"
    with pytest.raises(SchemaError) as info:
        from_json(json.dumps(obj).encode())
    assert info.value.location == "/sender/email"


def test_missing_schema_version_is_refused(petition: Petition) -> None:
    obj = json.loads(to_json(petition))
    del obj["schema_version"]
    with pytest.raises(SchemaError) as info:
        from_json(json.dumps(obj).encode())
    assert info.value.location == "/schema_version"


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(SchemaError):
        from_json(b"[1, 2]")


def test_attack_duplicate_keys() -> None:
    # Two parsers disagreeing on which duplicate wins is a signature-bypass primitive.
    with pytest.raises(InvalidInput) as info:
        loads_strict(b'{"a": {"b": [1, {"kind": "petition", "kind": "answer"}]}}')
    assert "duplicate" in info.value.message
    assert info.value.location == "/a/b/1/kind"


def test_attack_duplicate_keys_in_a_document(petition: Petition) -> None:
    data = to_json(petition)
    forged = data[:-1] + ',"title":"Tiêu đề khác"}'.encode()
    with pytest.raises(InvalidInput):
        from_json(forged)


@pytest.mark.parametrize(
    ("data", "message", "location"),
    [
        # The fast parse stops at the first duplicate; the located error is still the first
        # in document order, and a later syntax error still reads as malformed JSON.
        (b'{"a": {"x": 1, "x": 2}, "b": {"y": 1, "y": 2}}', "duplicate", "/a/x"),
        (b'{"a": 1, "a": 2, ', "malformed", None),
        (b'{"a": NaN, "b": {"c": 1, "c": 2}}', "NaN", "/a"),
    ],
)
def test_attack_refusals_after_the_fast_parse(
    data: bytes, message: str, location: str | None
) -> None:
    with pytest.raises(InvalidInput) as info:
        loads_strict(data)
    assert message in info.value.message
    if location is not None:
        assert info.value.location == location


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_attack_nan_and_infinity(token: str) -> None:
    with pytest.raises(InvalidInput) as info:
        loads_strict(f'{{"x": [1, {token}]}}'.encode())
    assert info.value.location == "/x/1"


def test_attack_deep_nesting_100000() -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InvalidInput) as info:
        loads_strict(data)
    assert "100000 levels" in info.value.message


def test_attack_deep_nesting_inside_strings_is_not_counted() -> None:
    assert loads_strict(b'{"a": "' + b"[" * 1000 + b'"}') == {"a": "[" * 1000}


def test_depth_limit_is_exact() -> None:
    limits = JsonLimits(max_depth=3)
    assert loads_strict(b"[[[1]]]", limits) == [[[1]]]
    with pytest.raises(InvalidInput):
        loads_strict(b"[[[[1]]]]", limits)


def test_attack_oversized_input() -> None:
    limits = JsonLimits(max_bytes=100)
    with pytest.raises(InvalidInput) as info:
        loads_strict(b'{"a": "' + b"x" * 200 + b'"}', limits)
    assert "limit is 100" in info.value.message


def test_attack_invalid_utf8() -> None:
    with pytest.raises(InvalidInput) as info:
        loads_strict(b'{"a": "\xc3\x28"}')
    assert info.value.location == "byte 7"


def test_attack_overlong_utf8() -> None:
    with pytest.raises(InvalidInput):
        loads_strict(b'{"a": "\xc0\xaf"}')


def test_byte_order_mark_is_refused() -> None:
    with pytest.raises(InvalidInput):
        loads_strict(b'\xef\xbb\xbf{"a": 1}')


def test_attack_huge_integer() -> None:
    with pytest.raises(InvalidInput):
        loads_strict(b'{"size": ' + b"9" * 5000 + b"}")


def test_attack_unterminated_escaped_quotes_are_linear() -> None:
    # A naive string regex backtracks quadratically on this.
    with pytest.raises(InvalidInput):
        loads_strict(b'"' + b'\\"' * 2_000_000)


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(InvalidInput) as info:
        loads_strict(b'{\n  "a": }')
    assert info.value.location == "line 2, column 8"


def test_nfd_input_is_normalised_to_nfc(petition: Petition) -> None:
    import unicodedata

    obj = json.loads(to_json(petition))
    obj["title"] = unicodedata.normalize("NFD", obj["title"])
    doc = from_json(json.dumps(obj, ensure_ascii=False).encode())
    assert doc == petition
    assert to_json(doc) == to_json(petition)


def test_attack_lone_surrogate_escape(petition: Petition) -> None:
    data = to_json(petition).replace(b'"title":"', b'"title":"\\ud800', 1)
    assert b"\\ud800" in data
    with pytest.raises(InvalidInput) as info:
        from_json(data)
    assert not isinstance(info.value, SchemaError)


def test_nul_escape_in_text_is_a_located_schema_error(petition: Petition) -> None:
    data = to_json(petition).replace(b'"title":"', b'"title":"\\u0000', 1)
    with pytest.raises(SchemaError) as info:
        from_json(data)
    assert info.value.location == "/title"
