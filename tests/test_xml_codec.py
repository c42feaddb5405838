"""XML codec: deterministic UTF-8 output, round trips, the Signed container, located errors."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import example_documents
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from strategies import DOCUMENT_STRATEGIES

from pakn_sign.codec.detect import detect_format, load_document
from pakn_sign.codec.jsoncodec import from_json, to_json
from pakn_sign.codec.xmlcodec import (
    NS,
    SIGNED_TAG,
    document_from_element,
    from_xml,
    split_signed,
    to_xml,
    to_xml_element,
)
from pakn_sign.errors import ConfigurationError, InvalidInput, SchemaError
from pakn_sign.models import (
    Answer,
    OrganIdMode,
    Petition,
    StatusNotice,
    ValidationSettings,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
EXAMPLES = {doc.kind: doc for doc in example_documents()}
KINDS = sorted(EXAMPLES)


def _signed(doc_xml: bytes, signatures: int = 1, extra: bytes = b"") -> bytes:
    body = doc_xml.split(b"?>", 1)[1]
    sigs = b"".join(
        f'<ds:Signature xmlns:ds="{DS}" Id="sig-{i}"><ds:SignedInfo/></ds:Signature>'.encode()
        for i in range(signatures)
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<pakn:Signed xmlns:pakn="urn:pakn-sign:pakn:1">' + body + sigs + extra + b"</pakn:Signed>"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_every_kind(kind: str) -> None:
    doc = EXAMPLES[kind]
    data = to_xml(doc)
    back = from_xml(data)
    assert back == doc
    assert to_xml(back) == data


@pytest.mark.parametrize("kind", KINDS)
def test_xml_and_json_say_the_same(kind: str) -> None:
    doc = EXAMPLES[kind]
    assert from_xml(to_xml(doc)) == from_json(to_json(doc))


def test_output_is_deterministic() -> None:
    doc = EXAMPLES["petition"]
    rebuilt = Petition.model_validate_json(doc.model_dump_json())
    assert rebuilt is not doc
    assert to_xml(doc) == to_xml(rebuilt) == to_xml(doc)


def test_vietnamese_is_utf8_never_character_references() -> None:
    data = to_xml(EXAMPLES["petition"])
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    assert b"&#" not in data
    assert "Nghệ An".encode() in data
    data.decode("utf-8")


def test_element_names_are_pascal_case_in_field_order() -> None:
    root = to_xml_element(EXAMPLES["forwarding"])
    assert root.tag == f"{{{NS}}}Forwarding"
    names = [etree.QName(child).localname for child in root]
    assert names == [
        "SchemaVersion",
        "DocumentId",
        "CaseId",
        "Petition",
        "Classification",
        "Issuer",
        "IssuedAt",
        "ToAgency",
        "AnswerDue",
        "Note",
    ]
    assert root.nsmap == {"pakn": NS}


def test_optional_none_is_omitted_and_read_back_as_none() -> None:
    doc = EXAMPLES["answer"].model_copy(update={"letter": None})
    root = to_xml_element(doc)
    assert root.find(f"{{{NS}}}Letter") is None
    back = from_xml(to_xml(doc), expect=Answer)
    assert back.letter is None
    assert back == doc


def test_discriminated_union_is_named_after_the_member_class() -> None:
    root = to_xml_element(EXAMPLES["petition"])
    sender = root.find(f"{{{NS}}}Sender")
    assert sender is not None
    assert [etree.QName(c).localname for c in sender] == ["PersonSender"]
    # The discriminator is carried by the element name, not repeated as a child.
    assert sender[0].find(f"{{{NS}}}Type") is None


def test_datetimes_keep_their_offset() -> None:
    doc = EXAMPLES["status_notice"]
    when = doc.issued_at.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    moved = StatusNotice.model_validate({**doc.model_dump(), "issued_at": when})
    data = to_xml(moved)
    assert b"-05:00</pakn:IssuedAt>" in data
    assert from_xml(data).issued_at.utcoffset() == dt.timedelta(hours=-5)


def test_to_xml_element_matches_to_xml_and_sets_id() -> None:
    doc = EXAMPLES["answer"]
    el = to_xml_element(doc, element_id="pakn-doc")
    assert el.get("Id") == "pakn-doc"
    data = to_xml(doc, element_id="pakn-doc")
    assert etree.tostring(el, encoding="UTF-8", xml_declaration=True, pretty_print=True) == data
    assert from_xml(data) == doc


def test_document_from_element_in_memory_tree() -> None:
    doc = EXAMPLES["classification"]
    assert document_from_element(to_xml_element(doc)) == doc


def test_expect_mismatch_is_located() -> None:
    with pytest.raises(SchemaError) as info:
        from_xml(to_xml(EXAMPLES["answer"]), expect=Petition)
    assert "expected a Petition" in info.value.message
    assert info.value.location == "line 2, /pakn:Answer"


def test_expect_must_be_a_document_class() -> None:
    with pytest.raises(ConfigurationError):
        from_xml(to_xml(EXAMPLES["answer"]), expect=str)


def test_signed_container_returns_the_inner_document() -> None:
    doc = EXAMPLES["answer"]
    data = _signed(to_xml(doc, element_id="pakn-doc"), signatures=2)
    assert from_xml(data) == doc
    assert from_xml(data, expect=Answer) == doc
    tree = etree.fromstring(data).getroottree()
    document, signatures = split_signed(tree)
    assert document.tag == f"{{{NS}}}Answer"
    assert [s.get("Id") for s in signatures] == ["sig-0", "sig-1"]
    assert tree.getroot().tag == SIGNED_TAG


def test_split_signed_unsigned_document() -> None:
    el = to_xml_element(EXAMPLES["petition"])
    assert split_signed(el) == (el, ())


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(lambda x: _signed(x, signatures=0), "Signed", id="no-signature"),
        pytest.param(
            lambda x: _signed(x, extra=f'<ds:Object xmlns:ds="{DS}"/>'.encode()),
            "Signature",
            id="ds-object-after-signature",
        ),
        pytest.param(lambda x: _signed(x + x.split(b"?>", 1)[1]), "Signature", id="two-documents"),
    ],
)
def test_signed_container_shape_is_enforced(data, needle: str) -> None:
    with pytest.raises(SchemaError) as info:
        from_xml(data(to_xml(EXAMPLES["answer"])))
    assert info.value.location is not None
    assert info.value.location.startswith("line ")


def test_model_error_is_located_by_line_and_path() -> None:
    data = to_xml(EXAMPLES["petition"]).replace(
        b"<pakn:CaseId>000.00.00.G22,2026/02/09,1502/PAKN",
        b"<pakn:CaseId>000.00.00.G22,2026/02/09,1503/PAKN",
    )
    with pytest.raises(SchemaError) as info:
        from_xml(data)
    assert "case_id must equal" in info.value.message
    assert info.value.location == "line 2, /pakn:Petition"


def test_xsd_error_names_line_path_and_expectation() -> None:
    data = to_xml(EXAMPLES["petition"]).replace(b"<pakn:Channel>portal", b"<pakn:Channel>fax")
    with pytest.raises(SchemaError) as info:
        from_xml(data)
    line = data[: data.index(b"<pakn:Channel>")].count(b"\n") + 1
    assert info.value.location == f"line {line}, /pakn:Petition/pakn:Channel"
    assert "portal" in info.value.message  # the enumeration that was expected


def test_lenient_agency_codes_need_the_setting() -> None:
    doc = EXAMPLES["status_notice"]
    data = to_xml(doc).replace(b"<pakn:Issuer>000.00.00.G10", b"<pakn:Issuer>28.22.H17")
    with pytest.raises(SchemaError) as info:
        from_xml(data)
    assert info.value.location is not None
    assert info.value.location.endswith("/pakn:StatusNotice/pakn:Issuer")
    lenient = ValidationSettings(organ_ids=OrganIdMode.LENIENT)
    assert from_xml(data, settings=lenient).issuer == "28.22.H17"


def test_text_xml_cannot_carry_is_refused_on_output() -> None:
    # The models already refuse control characters; model_construct bypasses them.
    doc = EXAMPLES["answer"]
    bad = Answer.model_construct(**{**dict(doc), "text": "a\x01b"})
    with pytest.raises(InvalidInput) as info:
        to_xml(bad)
    assert info.value.location == "/Answer/Text"


def test_load_document_detects_the_format() -> None:
    doc = EXAMPLES["publication"]
    assert detect_format(b"  \n<x/>") == "xml"
    assert detect_format(b"\xef\xbb\xbf{}") == "json"
    assert load_document(b"\n " + to_xml(doc).split(b"?>", 1)[1]) == doc
    assert load_document(to_json(doc)) == doc
    with pytest.raises(SchemaError):
        load_document(to_json(doc), expect=Petition)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("kind", KINDS)
def test_every_valid_model_round_trips(kind: str, data: st.DataObject) -> None:
    doc = data.draw(DOCUMENT_STRATEGIES[kind])
    xml = to_xml(doc)
    back = from_xml(xml)  # XSD and model validation both pass
    assert back == doc
    assert to_xml(back) == xml
    assert b"&#" not in xml.replace(b"&#13;", b"")


@pytest.mark.parametrize("element_id", ["1abc", "a b", "a:b", ""])
def test_element_id_must_be_an_ncname(element_id: str) -> None:
    with pytest.raises(ConfigurationError):
        to_xml(EXAMPLES["answer"], element_id=element_id)


def test_only_document_models_are_written() -> None:
    with pytest.raises(ConfigurationError):
        to_xml(EXAMPLES["answer"].official)  # type: ignore[arg-type]


def test_utc_z_is_read_and_a_missing_offset_refused() -> None:
    data = to_xml(EXAMPLES["status_notice"])
    stamp = data.split(b"<pakn:IssuedAt>")[1].split(b"</pakn:IssuedAt>")[0]
    utc = EXAMPLES["status_notice"].issued_at.astimezone(dt.UTC)
    z = utc.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    assert from_xml(data.replace(stamp, z)).issued_at == utc
    with pytest.raises(SchemaError) as info:
        from_xml(data.replace(stamp, stamp[:-6]))
    assert info.value.location is not None
    assert info.value.location.endswith("/pakn:StatusNotice/pakn:IssuedAt")


def test_document_from_element_inside_a_signed_tree() -> None:
    doc = EXAMPLES["answer"]
    data = _signed(to_xml(doc, element_id="pakn-doc"))
    tree = etree.fromstring(data).getroottree()
    document, _ = split_signed(tree)
    assert document_from_element(document, expect=Answer) == doc
    line = data[: data.index(b"<pakn:Issuer>")].count(b"\n") + 1
    document.find(f"{{{NS}}}Issuer").text = "bad"  # type: ignore[union-attr]
    with pytest.raises(SchemaError) as info:
        document_from_element(document)
    assert info.value.location == f"line {line}, /pakn:Signed/pakn:Answer/pakn:Issuer"
