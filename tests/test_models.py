"""Wire models: every kind, NFC, aware datetimes, identifiers, settings, located errors."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path
from typing import Any

import pydantic
import pytest

from pakn_sign.codec.jsoncodec import to_json
from pakn_sign.errors import ConfigurationError, SchemaError
from pakn_sign.models import (
    DEFAULT_SECTORS,
    DOCUMENT_TYPES,
    Classification,
    ClassificationCode,
    DocumentRef,
    EdxmlStatus,
    OrganIdMode,
    PersonalId,
    PersonalIdType,
    Petition,
    Publication,
    SectorRegistry,
    StatusNotice,
    ValidationSettings,
    check_organ_id,
    document_digest,
    make_document_id,
    parse_document,
    parse_document_id,
    use_settings,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "documents"
KINDS = sorted(DOCUMENT_TYPES)
LENIENT = ValidationSettings(organ_ids=OrganIdMode.LENIENT)


def example(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text("utf-8"))
    return data


def refused(obj: dict[str, Any], **kw: Any) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        parse_document(obj, **kw)
    return info.value


def test_the_ten_kinds() -> None:
    expected = [
        "petition",
        "classification",
        "information_request",
        "information_supplement",
        "forwarding",
        "status_notice",
        "answer",
        "answer_return",
        "citizen_feedback",
        "publication",
    ]
    assert sorted(expected) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_parses_with_version_and_case(kind: str) -> None:
    doc = parse_document(example(kind))
    assert type(doc) is DOCUMENT_TYPES[kind]
    assert doc.kind == kind
    assert doc.schema_version == "1"
    assert doc.case_id == example("petition")["document_id"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_refuses_unknown_fields_and_versions(kind: str) -> None:
    assert refused({**example(kind), "extra": 1}).location == "/extra"
    assert refused({**example(kind), "schema_version": "2"}).location == "/schema_version"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_frozen(kind: str) -> None:
    doc = parse_document(example(kind))
    with pytest.raises(pydantic.ValidationError):
        doc.document_id = "x"  # type: ignore[misc]


def test_unknown_kind_is_located() -> None:
    assert refused({**example("petition"), "kind": "memo"}).location == "/kind"


def test_nfd_text_is_normalised_to_nfc() -> None:
    obj = example("petition")
    nfd = unicodedata.normalize("NFD", obj["content"])
    assert nfd != obj["content"]
    obj["content"] = nfd
    obj["sender"]["full_name"] = unicodedata.normalize("NFD", "Trần Thị Mai")
    doc = parse_document(obj)
    assert doc.content == unicodedata.normalize("NFC", nfd)
    assert doc.sender.full_name == "Trần Thị Mai"
    assert doc == parse_document(example("petition"))


def test_nfd_in_document_id_notation_is_normalised() -> None:
    obj = example("forwarding")
    obj["document_id"] = unicodedata.normalize("NFD", obj["document_id"])
    assert parse_document(obj).document_id == example("forwarding")["document_id"]


def test_line_breaks_become_lf_and_lines_are_stripped() -> None:
    obj = example("petition")
    obj["content"] = "dòng một\r\ndòng hai\rdòng ba"
    obj["title"] = "  Tiêu đề  "
    doc = parse_document(obj)
    assert doc.content == "dòng một\ndòng hai\ndòng ba"
    assert doc.title == "Tiêu đề"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "hai\ndòng"),
        ("title", "   "),
        ("content", "có ký tự \x00"),
        ("content", "có ký tự \x1b"),
        ("content", "có ký tự \x85"),
        ("content", "\ufffe"),
        ("title", "x" * 501),
    ],
)
def test_bad_text_is_refused(field: str, value: str) -> None:
    assert refused({**example("petition"), field: value}).location == f"/{field}"


def test_max_length_counts_nfc_characters() -> None:
    # 500 NFC characters are allowed even when the NFD input is longer.
    nfd = unicodedata.normalize("NFD", "ệ" * 500)
    assert len(nfd) > 500
    assert parse_document({**example("petition"), "title": nfd}).title == "ệ" * 500


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-09T09:15:00",
        "2026-02-09",
        "2026-02-09T09:15:00+07:00:30",
        "2026-02-09T09:15:00+15:00",
    ],
)
def test_datetimes_must_be_aware_with_a_sane_offset(value: str) -> None:
    assert refused({**example("petition"), "received_at": value}).location == "/received_at"


def test_naive_datetime_refused_in_python() -> None:
    doc = parse_document(example("petition"))
    data = doc.model_dump()
    data["received_at"] = dt.datetime(2026, 2, 9, 9, 15)
    with pytest.raises(pydantic.ValidationError):
        Petition(**data)


@pytest.mark.parametrize(
    "value", ["000.00.00.G22", "000.00.00.H41", "002.00.20.H13", "000.00.04.G14"]
)
def test_strict_organ_ids(value: str) -> None:
    assert check_organ_id(value) == value


@pytest.mark.parametrize(
    "value", ["28.22.H17", "000.00.00.L01", "000.00.00.g22", "000.00.00.G2", "G22"]
)
def test_strict_mode_refuses_irregular_organ_ids(value: str) -> None:
    with pytest.raises(ValueError, match="agency code"):
        check_organ_id(value)
    assert refused({**example("petition"), "recipient": value}).location == "/recipient"


def test_lenient_mode_by_argument_and_by_context_manager() -> None:
    obj = {**example("petition"), "recipient": "28.22.H17"}
    assert parse_document(obj, settings=LENIENT).recipient == "28.22.H17"
    with use_settings(LENIENT):
        assert parse_document(obj).recipient == "28.22.H17"
    refused(obj)  # strict again outside the block


@pytest.mark.parametrize("value", ["G22", "abc.de.fg.H17", "28.22.H1", "1.2.3.4.H17", "28.22.H17 "])
def test_lenient_mode_still_refuses_garbage(value: str) -> None:
    with pytest.raises(ValueError):
        check_organ_id(value, OrganIdMode.LENIENT)


def test_document_id_parts() -> None:
    parts = parse_document_id("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
    assert (parts.organ_id, parts.date, parts.number, parts.notation) == (
        "000.00.00.G22",
        dt.date(2015, 9, 30),
        "7816",
        "VPCP-TTĐT",
    )
    assert str(parts) == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert make_document_id("000.00.00.G10", dt.date(2026, 3, 1), 5, "QĐ-BNNMT") == (
        "000.00.00.G10,2026/03/01,5/QĐ-BNNMT"
    )


@pytest.mark.parametrize(
    "value",
    [
        "000.00.00.G22,2026/02/30,1/PAKN",  # no such date
        "000.00.00.G22,2026-02-09,1/PAKN",  # wrong date format
        "000.00.00.G22,2026/02/09,1/",  # no notation
        "000.00.00.G22,2026/02/09,/PAKN",  # no number
        "000.00.00.G22,2026/02/09,1/PA KN",  # blank in notation
        "000.00.00.G22,2026/02/09,1/PA<KN",  # markup in notation
        "28.22.H17,2026/02/09,1/PAKN",  # irregular organ in strict mode
        "000.00.00.G22,2026/02/09,1/PAKN,x",
    ],
)
def test_bad_document_ids(value: str) -> None:
    with pytest.raises(ValueError):
        parse_document_id(value)


def test_document_id_with_lenient_organ() -> None:
    value = "28.22.H17,2026/02/09,1/PAKN"
    assert parse_document_id(value, OrganIdMode.LENIENT).organ_id == "28.22.H17"


def test_petition_case_id_is_its_own_id() -> None:
    obj = example("petition")
    obj["case_id"] = "000.00.00.G22,2026/02/09,1503/PAKN"
    assert "case_id must equal" in refused(obj).message


def test_unknown_sector_refused_and_custom_registry_accepted() -> None:
    obj = {**example("petition"), "sector": "NGANHANG"}
    assert "unknown sector" in refused(obj).message
    custom = ValidationSettings(sectors=DEFAULT_SECTORS.extended({"NGANHANG": "Ngân hàng"}))
    assert parse_document(obj, settings=custom).sector == "NGANHANG"


def test_sector_registry_checks_codes() -> None:
    with pytest.raises(ConfigurationError):
        SectorRegistry({"tn&mt": "Tài nguyên"})
    assert DEFAULT_SECTORS.label("LDTBXH") == "Lao động - Thương binh và Xã hội"
    assert {"TNMT", "LDTBXH", "XD"} <= set(DEFAULT_SECTORS)


def test_classification_rules() -> None:
    obj = example("classification")
    assert "sector is required" in refused({**obj, "sector": None}).message
    assert "competent_agency" in refused({**obj, "competent_agency": None}).message
    in_scope = {**obj, "classification": "REGULATION_IN_SCOPE"}
    assert "takes no competent_agency" in refused(in_scope).message
    invalid = {**obj, "classification": "INVALID", "sector": None, "competent_agency": None}
    assert parse_document(invalid).classification is ClassificationCode.INVALID


def test_classification_must_refer_to_the_case_petition() -> None:
    obj = example("classification")
    obj["petition"]["document_id"] = "000.00.00.G22,2026/02/09,9999/PAKN"
    assert "case's petition" in refused(obj).message


def test_forwarding_target_differs_from_issuer() -> None:
    obj = example("forwarding")
    assert "to_agency" in refused({**obj, "to_agency": obj["issuer"]}).message


def test_status_codes_and_labels() -> None:
    assert [s.value for s in EdxmlStatus] == ["01", "02", "03", "04", "05", "06", "13", "15", "16"]
    assert EdxmlStatus.PROCESSING.label_vi == "Đang xử lý"
    assert all(s.label_vi for s in EdxmlStatus)
    assert refused({**example("status_notice"), "status": "07"}).location == "/status"


def test_progress_update_is_status_05_with_description() -> None:
    obj = example("status_notice")
    assert "05" in refused({**obj, "status": "03"}).message
    assert "description" in refused({**obj, "description": None}).message
    assert isinstance(
        parse_document({**obj, "progress_update": False, "status": "03"}), StatusNotice
    )


@pytest.mark.parametrize(
    "leak",
    [
        "liên hệ tran.thi.mai@example.vn",
        "số điện thoại 0900 123 456",
        "CCCD 040190000123",
        "gọi 0900-123-456",
    ],
)
def test_publication_refuses_personal_data_in_text(leak: str) -> None:
    obj = example("publication")
    error = refused({**obj, "petition_summary": obj["petition_summary"] + " " + leak})
    assert "redact" in error.message


def test_publication_accepts_amounts_dates_and_document_numbers() -> None:
    obj = example("publication")
    text = "Mức phí 1.000.000.000 đồng theo Nghị định 92/2017/NĐ-CP ngày 07/08/2017."
    assert isinstance(parse_document({**obj, "answer_text": text}), Publication)


def test_publication_has_no_personal_data_fields() -> None:
    fields = set(Publication.model_fields)
    assert not fields & {"sender", "full_name", "address", "phone", "email", "id_document"}


def test_sender_union_errors_are_located() -> None:
    obj = example("petition")
    del obj["sender"]["full_name"]
    assert refused(obj).location == "/sender/full_name"
    obj = example("petition")
    obj["sender"]["type"] = "robot"
    assert refused(obj).location == "/sender/type"


def test_organisation_sender() -> None:
    obj = example("petition")
    obj["sender"] = {
        "type": "organisation",
        "name": "Công ty TNHH Ví Dụ",
        "tax_code": "0100686209-199",
        "representative": {"full_name": "Phạm Minh Châu", "position": "Giám đốc"},
        "address": "Số 1 Tràng Tiền, Hà Nội",
        "phone": "02439999999",
        "email": "lienhe@vidu.example.vn",
    }
    assert parse_document(obj).sender.tax_code == "0100686209-199"
    obj["sender"]["tax_code"] = "01006862"
    assert refused(obj).location == "/sender/tax_code"


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "0900 123 456"), ("phone", "12345"), ("email", "a@b"), ("email", "a b@c.vn")],
)
def test_contact_patterns(field: str, value: str) -> None:
    obj = example("petition")
    obj["sender"][field] = value
    assert refused(obj).location == f"/sender/{field}"


def test_personal_id_number_must_fit_its_type() -> None:
    assert PersonalId(type=PersonalIdType.CMND, number="040190001").number == "040190001"
    with pytest.raises(pydantic.ValidationError, match="CCCD"):
        PersonalId(type=PersonalIdType.CCCD, number="040190001")


def test_attachment_media_type_allow_list_and_located_errors() -> None:
    obj = example("information_supplement")
    obj["attachments"][0]["media_type"] = "application/zip"
    assert refused(obj).location == "/attachments/0/media_type"
    obj = example("information_supplement")
    obj["attachments"][0]["sha256"] = "AB" * 32
    assert refused(obj).location == "/attachments/0/sha256"
    obj = example("information_supplement")
    obj["attachments"][0]["name"] = "../etc/passwd"
    assert refused(obj).location == "/attachments/0/name"


def test_strict_types_no_coercion() -> None:
    obj = example("information_supplement")
    obj["attachments"][0]["size"] = "182044"
    assert refused(obj).location == "/attachments/0/size"
    assert (
        refused({**example("status_notice"), "progress_update": "true"}).location
        == "/progress_update"
    )


def test_document_ref_of_binds_the_digest() -> None:
    petition = parse_document(example("petition"))
    ref = DocumentRef.of(petition)
    assert ref.document_id == petition.document_id
    assert ref.sha256 == document_digest(petition)
    assert example("classification")["petition"]["sha256"] == ref.sha256
    changed = petition.model_copy(update={"title": "Khác"})
    assert document_digest(changed) != ref.sha256


def test_python_callers_may_pass_lists_for_tuples() -> None:
    doc = parse_document(example("information_request"))
    assert isinstance(doc.missing, tuple)
    again = type(doc)(**{**doc.model_dump(), "missing": list(doc.missing)})
    assert again == doc


def test_canonical_json_includes_explicit_nulls() -> None:
    doc = parse_document(example("petition"))
    assert b'"sector":"TNMT"' in to_json(doc)
    assert isinstance(Classification.model_fields["sector"].default, type(None))


def test_forbidden_character_screen_never_misses() -> None:
    # _clean_text runs the exact regex only on text the byte-level screen flags: the screen
    # must flag every code point the regex refuses (exhaustive over all of Unicode).
    from pakn_sign.models._base import _FORBIDDEN, _may_be_forbidden

    missed = [
        cp
        for cp in range(0x110000)
        if _FORBIDDEN.match(chr(cp)) and not _may_be_forbidden(f"ộ{chr(cp)}a")
    ]
    assert missed == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("a\x85b", "0085"), ("a\x7fb", "007F"), ("a\ud800b", "D800"), ("a\uffffb", "FFFF")],
)
def test_attack_c1_del_surrogate_and_noncharacter_refused(text: str, code: str) -> None:
    from pakn_sign.models._base import nfc_text

    with pytest.raises(ValueError, match=f"U\\+{code} "):
        nfc_text(text)


def test_screen_near_misses_are_accepted() -> None:
    from pakn_sign.models._base import nfc_text

    # NBSP (UTF-8 0xC2 0xA0) and U+FFFD (0xEF 0xBF 0xBD) share lead bytes with refused ones.
    assert nfc_text("a\u00a0b\ufffdc\td") == "a\u00a0b\ufffdc\td"
