"""edXML (QCVN 102:2016) value types, formats and element helpers shared by the adapter.

The element names and their order follow the VPCP SDK sample ``edoc_new.edxml`` and the
public builders listed in DOMAIN.md §2/§5; the normative annexes of QCVN 102:2016 were not
found, so code tables (DocumentType, SteeringType, Priority) are caller-supplied
(:class:`EdxmlCodes`) with the sample's values as documented defaults.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from ..clock import VN_TZ, ensure_aware
from ..errors import InvalidInput
from ..models.identifiers import DocumentIdParts, parse_document_id
from ..models.settings import OrganIdMode

__all__ = [
    "EDXML_NS",
    "BusinessDocType",
    "EdxmlCodes",
    "EdxmlOrgan",
    "ResponseFor",
    "SignerInfo",
    "StaffInfo",
    "TraceEntry",
    "check_document_id",
    "format_date",
    "format_timestamp",
    "parse_date",
    "parse_timestamp",
]

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
"""The edXML namespace of the VPCP SDK sample (DOMAIN.md §2)."""
E = f"{{{EDXML_NS}}}"

_DATE = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2}")
_STAMP = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class BusinessDocType(enum.IntEnum):
    """``Bussiness/BussinessDocType`` values (DOMAIN.md §2: VPCP and C# SDK samples)."""

    NEW = 0
    """Văn bản điện tử mới."""
    REVOKE = 1
    """Thu hồi."""
    UPDATE = 2
    """Cập nhật."""
    REPLACE = 3
    """Thay thế."""

    @property
    def reason(self) -> str:
        """The default ``BussinessDocReason`` text."""
        return _REASONS[self]


_REASONS = {
    BusinessDocType.NEW: "Văn bản điện tử mới",
    BusinessDocType.REVOKE: "Thu hồi văn bản",
    BusinessDocType.UPDATE: "Cập nhật văn bản",
    BusinessDocType.REPLACE: "Thay thế văn bản",
}


@dataclass(frozen=True, slots=True)
class EdxmlCodes:
    """Code-table values whose authoritative lists (QCVN annexes) were not found [NF].

    The defaults are the values of the VPCP Java sample ``edoc_new.edxml`` (Type 1 "Công
    văn", SteeringType 1, Priority 0). Other SDKs disagree (a TypeScript port uses Type 18
    for "Công văn"; SteeringType 0 elsewhere), so configure them with the values your
    document-exchange platform expects; they are carried, never interpreted.
    """

    document_type: str = "1"
    document_type_detail: str = "0"
    document_type_name: str = "Công văn"
    steering_type: str = "1"
    priority: str = "0"


@dataclass(frozen=True, slots=True)
class EdxmlOrgan:
    """``From``/``To``: an agency with its QCVN 102:2016 code (``OrganId``)."""

    organ_id: str
    organ_name: str
    organization_in_charge: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""

    FIELDS = (
        ("OrganId", "organ_id"),
        ("OrganizationInCharge", "organization_in_charge"),
        ("OrganName", "organ_name"),
        ("OrganAdd", "organ_add"),
        ("Email", "email"),
        ("Telephone", "telephone"),
        ("Fax", "fax"),
        ("Website", "website"),
    )


@dataclass(frozen=True, slots=True)
class StaffInfo:
    """``StaffInfo``: the clerk (văn thư) who sent the package."""

    department: str = ""
    staff: str = ""
    mobile: str = ""
    email: str = ""

    FIELDS = (
        ("Department", "department"),
        ("Staff", "staff"),
        ("Mobile", "mobile"),
        ("Email", "email"),
    )


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """``SignerInfo``: who signed the document on paper terms (not the package signer)."""

    competence: str = ""
    position: str = ""
    full_name: str = ""

    FIELDS = (("Competence", "competence"), ("Position", "position"), ("FullName", "full_name"))


@dataclass(frozen=True, slots=True)
class ResponseFor:
    """``ResponseFor``: the document a reply or status refers to."""

    organ_id: str
    code: str
    """``{CodeNumber}/{CodeNotation}`` of the original."""
    promulgation_date: dt.date
    document_id: str

    @classmethod
    def from_document_id(cls, document_id: str) -> ResponseFor:
        """Derive every field from a DocumentId ``{OrganId},{yyyy/MM/dd},{number}/{notation}``."""
        parts = _doc_id(document_id)
        return cls(parts.organ_id, f"{parts.number}/{parts.notation}", parts.date, str(parts))


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """``TraceHeader``: one hop (agency and time) the package passed through."""

    organ_id: str
    timestamp: dt.datetime


def check_document_id(value: str) -> str:
    """``value`` if it is a DocumentId (agency code in lenient mode); ``InvalidInput`` otherwise."""
    return str(_doc_id(value))


def _doc_id(value: str) -> DocumentIdParts:
    try:
        return parse_document_id(value, OrganIdMode.LENIENT)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="edxml.document_id") from None


def format_date(value: dt.date) -> str:
    """``yyyy/MM/dd`` (DOMAIN.md §6 "Identifiers")."""
    return f"{value:%Y/%m/%d}"


def format_timestamp(value: dt.datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` in Asia/Ho_Chi_Minh (the format carries no offset)."""
    return ensure_aware(value, name="timestamp").astimezone(VN_TZ).strftime("%Y/%m/%d %H:%M:%S")


def parse_date(text: str, where: str) -> dt.date:
    """Read ``yyyy/MM/dd``; ``InvalidInput`` otherwise."""
    if not _DATE.fullmatch(text):
        raise InvalidInput(f"expected yyyy/MM/dd, found {text[:40]!r}", location=where)
    try:
        return dt.datetime.strptime(text, "%Y/%m/%d").date()
    except ValueError:
        raise InvalidInput(f"{text!r} is not a calendar date", location=where) from None


def parse_timestamp(text: str, where: str) -> dt.datetime:
    """Read ``yyyy/MM/dd HH:mm:ss`` as Asia/Ho_Chi_Minh time; ``InvalidInput`` otherwise."""
    if not _STAMP.fullmatch(text):
        raise InvalidInput(f"expected yyyy/MM/dd HH:mm:ss, found {text[:40]!r}", location=where)
    try:
        return dt.datetime.strptime(text, "%Y/%m/%d %H:%M:%S").replace(tzinfo=VN_TZ)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a valid time", location=where) from None


# --- element helpers --------------------------------------------------------------------


def sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    """Append ``edXML:<name>`` with ``text`` (NFC: the same words must give the same bytes)."""
    el = etree.SubElement(parent, E + name)
    if text is not None:
        el.text = unicodedata.normalize("NFC", text)
    return el


def sub_fields(parent: etree._Element, name: str, value: object) -> etree._Element:
    """Append ``edXML:<name>`` holding one child per ``value.FIELDS`` entry."""
    el = sub(parent, name)
    for tag, attr in value.FIELDS:  # type: ignore[attr-defined]
        sub(el, tag, getattr(value, attr))
    return el


def sub_response_for(parent: etree._Element, rf: ResponseFor) -> None:
    """Append ``edXML:ResponseFor``."""
    el = sub(parent, "ResponseFor")
    sub(el, "OrganId", rf.organ_id)
    sub(el, "Code", rf.code)
    sub(el, "PromulgationDate", format_date(rf.promulgation_date))
    sub(el, "DocumentId", rf.document_id)


def where(el: etree._Element) -> str:
    """A readable location: the element path without namespaces and its line."""
    names = [etree.QName(a).localname for a in reversed(list(el.iterancestors()))]
    return "/".join([*names, etree.QName(el).localname]) + f" (line {el.sourceline})"


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """The ``edXML:<name>`` children of ``el``."""
    return [c for c in el if c.tag == E + name]


def child(el: etree._Element, name: str, *, required: bool = True) -> etree._Element | None:
    """The one ``edXML:<name>`` child (a repeated one is ambiguous and refused)."""
    found = children(el, name)
    if len(found) > 1:
        raise InvalidInput(f"edXML:{name} occurs {len(found)} times", location=where(el))
    if not found:
        if required:
            raise InvalidInput(f"edXML:{name} is missing", location=where(el))
        return None
    return found[0]


def need(el: etree._Element, name: str) -> etree._Element:
    """The one required ``edXML:<name>`` child."""
    found = child(el, name)
    assert found is not None  # child() raised otherwise
    return found


def text_of(el: etree._Element, name: str, *, required: bool = True) -> str:
    """The text of the one ``edXML:<name>`` child; elements inside it are refused."""
    found = child(el, name, required=required)
    if found is None:
        return ""
    if len(found):
        raise InvalidInput(f"edXML:{name} must hold text only", location=where(found))
    return (found.text or "").strip()


def read_fields(el: etree._Element, cls: type[object]) -> dict[str, str]:
    """Keyword arguments for ``cls`` read from the children named in ``cls.FIELDS``."""
    return {attr: text_of(el, tag, required=False) for tag, attr in cls.FIELDS}  # type: ignore[attr-defined]


def read_response_for(el: etree._Element) -> ResponseFor:
    """Read an ``edXML:ResponseFor`` element."""
    doc_id = check_document_id(text_of(el, "DocumentId"))
    return ResponseFor(
        organ_id=text_of(el, "OrganId"),
        code=text_of(el, "Code"),
        promulgation_date=parse_date(text_of(el, "PromulgationDate"), where(el)),
        document_id=doc_id,
    )


def no_comments(root: etree._Element) -> None:
    """Refuse comments and PIs: C14N of ``URI=""`` drops comments, so text split by a
    comment would read differently from what was signed (CVE-2025-29775 class)."""
    bad: Iterator[etree._Element] = root.iter(etree.Comment, etree.ProcessingInstruction)
    for node in bad:
        raise InvalidInput(
            "comments and processing instructions are not allowed in an edXML package",
            location=f"line {node.sourceline}",
            code="edxml.comment",
        )
