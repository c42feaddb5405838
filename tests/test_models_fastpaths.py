"""Model and codec fast paths decide exactly as the full checks do.

``identifiers._FAST_DOC_ID`` accepts only DocumentIds that ``_checked`` accepts (it may
leave some to ``_checked``, never the other way round); ``jsoncodec.from_canonical_json``
returns what ``from_json`` returns, or raises what it raises, for any input.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from strategies import documents

from pakn_sign.codec.jsoncodec import from_canonical_json, from_json, to_json
from pakn_sign.errors import InvalidInput, SchemaError
from pakn_sign.models import Answer, DocumentRef, Official
from pakn_sign.models._base import CleanText, nfc_line, nfc_text
from pakn_sign.models.identifiers import _FAST_DOC_ID, _checked
from pakn_sign.models.settings import OrganIdMode

_organ = st.sampled_from(
    ["000.00.00.G22", "000.00.00.K99", "000.00.00.L22", "28.22.H17", "1.2.3.A01", "000.00.00.g22"]
)
_year = st.sampled_from(["0000", "0001", "2024", "2026", "9999", "2100"])
_month = st.sampled_from(["00", "01", "02", "09", "12", "13"])
_day = st.sampled_from(["00", "01", "09", "19", "28", "29", "30", "31", "32"])
_notation = st.text(alphabet="AĐ-/x<>&\"'\\ ,\x00\x1f\x85\u2028é", min_size=0, max_size=6)


@settings(max_examples=600, deadline=None)
@given(organ=_organ, y=_year, m=_month, d=_day, number=st.sampled_from(["1", "0123", ""]),
       notation=_notation, mode=st.sampled_from(list(OrganIdMode)))  # fmt: skip
def test_fast_document_id_accepts_only_what_checked_accepts(
    organ: str, y: str, m: str, d: str, number: str, notation: str, mode: OrganIdMode
) -> None:
    value = f"{organ},{y}/{m}/{d},{number}/{notation}"
    if _FAST_DOC_ID[mode].fullmatch(value) is not None:
        _checked(value, mode)  # must not raise


@pytest.mark.parametrize(
    "value",
    [
        "000.00.00.G22,0000/01/01,1/X",  # year 0 is not a date
        "000.00.00.G22,2025/02/29,1/X",  # not a leap year: left to _checked, which refuses
        "000.00.00.G22,2026/11/20,1//X",
        "000.00.00.G22,2026/11/20,1/X/",
        "000.00.00.G22,2026/11/20,1/X<",
    ],
)
def test_fast_document_id_leaves_hard_cases_to_the_full_check(value: str) -> None:
    assert _FAST_DOC_ID[OrganIdMode.STRICT].fullmatch(value) is None
    with pytest.raises(ValueError):
        _checked(value, OrganIdMode.STRICT)


def _answer() -> Answer:
    return Answer(
        document_id="000.00.00.G10,2026/11/20,123/BNN-PAKN",
        case_id="000.00.00.G22,2026/11/01,45/PAKN",
        forwarding=DocumentRef(
            document_id="000.00.00.G22,2026/11/05,46/VPCP-PAKN", sha256="ab" * 32
        ),
        issuer="000.00.00.G10",
        issued_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
        official=Official(full_name="Trần Thị Bình", position="Vụ trưởng"),
        text="Bộ đã xem xét kiến nghị.",
    )


def _outcome(fn: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", fn(data)
    except (InvalidInput, SchemaError) as exc:
        return type(exc).__name__, (exc.message, exc.location)


def _variants(doc: Any) -> list[bytes]:
    data = to_json(doc)
    obj = json.loads(data)
    key = sorted(obj)[-1]
    return [
        data,
        data[:-1] + b',"' + key.encode() + b'":' + json.dumps(obj[key]).encode() + b"}",  # dup
        data[:-1] + b',"kind":"answer"}',
        json.dumps(obj, indent=1, ensure_ascii=False).encode(),
        json.dumps(obj, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode(),
        json.dumps(dict(reversed(list(obj.items()))), separators=(",", ":")).encode(),
        data.replace(b'"kind"', b'"kind":NaN,"kind"', 1),
        data.replace("Bộ".encode(), "Bộ".encode()[:1] + b"\xff", 1),
        b"\xef\xbb\xbf" + data,
        data[:-1] + b',"extra":1}',
        data[:-1] + b',"extra":' + b"[" * 70 + b"]" * 70 + b"}",
        data.replace(b"2026-11-20T09:00:00+00:00", b"2026-11-20T09:00:00Z"),
        data.decode().replace("ộ", "o\u0323\u0302", 1).encode(),  # NFD: normalised, not equal
    ]


def test_from_canonical_json_agrees_with_from_json() -> None:
    variants = _variants(_answer())
    results = [(_outcome(from_canonical_json, v), _outcome(from_json, v)) for v in variants]
    for fast, strict in results:
        assert fast == strict
    assert results[0][0][0] == "ok"
    assert results[1][0][0] == "InvalidInput"  # the duplicate key is refused, as before


def test_attack_duplicate_key_in_signed_payload_refused() -> None:
    data = to_json(_answer())
    forged = data[:-1] + ',"text":"Bộ đã đồng ý."}'.encode()
    with pytest.raises(InvalidInput, match="duplicate object key 'text'"):
        from_canonical_json(forged)


def test_canonical_payload_skips_the_strict_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    from pakn_sign.codec import jsoncodec

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the strict path ran for canonical bytes")

    monkeypatch.setattr(jsoncodec, "from_json", refuse)
    assert from_canonical_json(to_json(_answer())) == _answer()


@settings(max_examples=60, deadline=None)
@given(doc=documents())
def test_from_canonical_json_round_trips_every_kind(doc: Any) -> None:
    data = to_json(doc)
    assert from_canonical_json(data) == from_json(data) == doc
    for v in _variants(doc)[1:6]:
        assert _outcome(from_canonical_json, v) == _outcome(from_json, v)


# The text types as they were declared before ``CleanText`` (pydantic's length checks).
class _Old(BaseModel):
    model_config = ConfigDict(strict=True)
    name: Annotated[str, AfterValidator(nfc_line), Field(min_length=1, max_length=5)]
    text: Annotated[str, AfterValidator(nfc_text), Field(min_length=1, max_length=6)]
    file: Annotated[
        str,
        Field(pattern=r"^[^/\\]+$"),
        AfterValidator(nfc_line),
        Field(min_length=1, max_length=5),
    ]


class _New(BaseModel):
    model_config = ConfigDict(strict=True)
    name: Annotated[str, CleanText(single_line=True, max_length=5)]
    text: Annotated[str, CleanText(single_line=False, max_length=6)]
    file: Annotated[str, Field(pattern=r"^[^/\\]+$"), CleanText(single_line=True, max_length=5)]


def _errors(model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate({"name": value, "text": value, "file": value}).model_dump()
    except ValidationError as exc:  # exceptions in ctx compare by identity: compare their text
        return [
            {**e, "ctx": {k: repr(v) for k, v in (e.get("ctx") or {}).items()}}
            for e in exc.errors(include_url=False)
        ]


_TEXT_ALPHABET = "ae\u0301\u1ec7 \t\n\r\x00\x1f\x7f\x85\xa0\u2028\ufeff\ufffe\ud800/"


@settings(max_examples=800, deadline=None)
@given(value=st.text(alphabet=_TEXT_ALPHABET, max_size=9) | st.integers(0, 1))
def test_clean_text_decides_and_words_errors_as_pydantic_constraints(value: Any) -> None:
    """Same values, same errors (type, location, message, input, context) as the
    ``AfterValidator`` + ``Field(min_length, max_length)`` declaration it replaces."""
    assert _errors(_New, value) == _errors(_Old, value)


def test_clean_text_keeps_the_json_schema_lengths() -> None:
    assert _New.model_json_schema()["properties"] == _Old.model_json_schema()["properties"]


def test_printable_screen_covers_every_refused_code_point() -> None:
    # _clean_text accepts short single lines on str.isprintable alone: it must be False for
    # every code point the regex refuses and for the line breaks (exhaustive).
    from pakn_sign.models._base import _FORBIDDEN

    printable = [
        cp for cp in range(0x110000) if _FORBIDDEN.match(chr(cp)) and chr(cp).isprintable()
    ]
    assert printable == []
    assert not any(c.isprintable() for c in "\t\n\r")
