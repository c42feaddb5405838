"""The edXML ``MessageHeader`` and ``TraceHeaderList`` (with ``Bussiness``): write and read.

Element order follows the VPCP SDK sample ``edoc_new.edxml`` (DOMAIN.md §2): From, To+,
DocumentId, Code, PromulgationInfo, DocumentType, Subject, Content, SignerInfo, DueDate,
OtherInfo (Priority), SteeringType, ResponseFor*; then TraceHeader+ and Bussiness.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from ..errors import InvalidInput
from .edxml_types import (
    BusinessDocType,
    EdxmlCodes,
    EdxmlOrgan,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    TraceEntry,
    check_document_id,
    child,
    children,
    format_date,
    format_timestamp,
    need,
    parse_date,
    parse_timestamp,
    read_fields,
    read_response_for,
    sub,
    sub_fields,
    sub_response_for,
    text_of,
    where,
)

__all__ = ["EdxmlHeader", "read_header", "read_organ", "write_message_header", "write_trace"]


@dataclass(frozen=True, slots=True)
class EdxmlHeader:
    """The typed ``MessageHeader`` and trace/business block of an edoc package."""

    sender: EdxmlOrgan
    receivers: tuple[EdxmlOrgan, ...]
    document_id: str
    """``{sender OrganId},{yyyy/MM/dd},{CodeNumber}/{CodeNotation}``."""
    code_number: str
    code_notation: str
    promulgation_place: str
    promulgation_date: dt.date
    codes: EdxmlCodes
    subject: str
    content: str
    signer_info: SignerInfo
    due_date: dt.date | None
    response_for: tuple[ResponseFor, ...]
    trace: tuple[TraceEntry, ...]
    business_doc_type: BusinessDocType
    business_reason: str
    business_document_id: str
    staff: StaffInfo
    paper: str = "0"
    """``Paper``: 0 = no paper copy is sent."""


def write_message_header(head: etree._Element, h: EdxmlHeader) -> None:
    """Append ``edXML:MessageHeader``."""
    mh = sub(head, "MessageHeader")
    sub_fields(mh, "From", h.sender)
    for organ in h.receivers:
        sub_fields(mh, "To", organ)
    sub(mh, "DocumentId", h.document_id)
    code = sub(mh, "Code")
    sub(code, "CodeNumber", h.code_number)
    sub(code, "CodeNotation", h.code_notation)
    info = sub(mh, "PromulgationInfo")
    sub(info, "Place", h.promulgation_place)
    sub(info, "PromulgationDate", format_date(h.promulgation_date))
    dtype = sub(mh, "DocumentType")
    sub(dtype, "Type", h.codes.document_type)
    sub(dtype, "TypeDetail", h.codes.document_type_detail)
    sub(dtype, "TypeName", h.codes.document_type_name)
    sub(mh, "Subject", h.subject)
    sub(mh, "Content", h.content)
    sub_fields(mh, "SignerInfo", h.signer_info)
    if h.due_date is not None:
        sub(mh, "DueDate", format_date(h.due_date))
    sub(sub(mh, "OtherInfo"), "Priority", h.codes.priority)
    sub(mh, "SteeringType", h.codes.steering_type)
    for rf in h.response_for:
        sub_response_for(mh, rf)


def write_trace(head: etree._Element, h: EdxmlHeader) -> None:
    """Append ``edXML:TraceHeaderList`` with the hops and the ``Bussiness`` block."""
    tl = sub(head, "TraceHeaderList")
    for hop in h.trace:
        th = sub(tl, "TraceHeader")
        sub(th, "OrganId", hop.organ_id)
        sub(th, "Timestamp", format_timestamp(hop.timestamp))
    bus = sub(tl, "Bussiness")
    sub(bus, "DocumentId", h.business_document_id)
    sub(bus, "BussinessDocType", str(int(h.business_doc_type)))
    sub(bus, "BussinessDocReason", h.business_reason)
    sub(bus, "Paper", h.paper)
    sub_fields(bus, "StaffInfo", h.staff)


def read_organ(el: etree._Element) -> EdxmlOrgan:
    """Read a ``From``/``To`` block; ``OrganId`` is required."""
    fields = read_fields(el, EdxmlOrgan)
    if not fields["organ_id"]:
        raise InvalidInput("OrganId is empty", location=where(el))
    return EdxmlOrgan(**fields)


def _business_type(text: str, el: etree._Element) -> BusinessDocType:
    try:
        return BusinessDocType(int(text))
    except ValueError:
        raise InvalidInput(f"BussinessDocType {text!r} is not 0-3", location=where(el)) from None


def read_header(head: etree._Element) -> EdxmlHeader:
    """Read ``MessageHeader`` and ``TraceHeaderList`` from ``edXMLHeader``.

    Raises:
        InvalidInput: a missing or repeated single element, bad dates, no ``To``.
    """
    mh, tl = need(head, "MessageHeader"), need(head, "TraceHeaderList")
    sender = need(mh, "From")
    receivers = tuple(read_organ(t) for t in children(mh, "To"))
    if not receivers:
        raise InvalidInput("MessageHeader has no To", location=where(mh))
    code, info, dtype = need(mh, "Code"), need(mh, "PromulgationInfo"), need(mh, "DocumentType")
    other = child(mh, "OtherInfo", required=False)
    signer = child(mh, "SignerInfo", required=False)
    due = text_of(mh, "DueDate", required=False)
    bus = need(tl, "Bussiness")
    staff = child(bus, "StaffInfo", required=False)
    trace = tuple(
        TraceEntry(text_of(t, "OrganId"), parse_timestamp(text_of(t, "Timestamp"), where(t)))
        for t in children(tl, "TraceHeader")
    )
    return EdxmlHeader(
        sender=read_organ(sender),
        receivers=receivers,
        document_id=check_document_id(text_of(mh, "DocumentId")),
        code_number=text_of(code, "CodeNumber"),
        code_notation=text_of(code, "CodeNotation"),
        promulgation_place=text_of(info, "Place", required=False),
        promulgation_date=parse_date(text_of(info, "PromulgationDate"), where(info)),
        codes=EdxmlCodes(
            document_type=text_of(dtype, "Type", required=False),
            document_type_detail=text_of(dtype, "TypeDetail", required=False),
            document_type_name=text_of(dtype, "TypeName", required=False),
            steering_type=text_of(mh, "SteeringType", required=False),
            priority=text_of(other, "Priority", required=False) if other is not None else "",
        ),
        subject=text_of(mh, "Subject", required=False),
        content=text_of(mh, "Content", required=False),
        signer_info=SignerInfo(**read_fields(signer, SignerInfo))
        if signer is not None
        else SignerInfo(),
        due_date=parse_date(due, where(mh)) if due else None,
        response_for=tuple(read_response_for(r) for r in children(mh, "ResponseFor")),
        trace=trace,
        business_doc_type=_business_type(text_of(bus, "BussinessDocType"), bus),
        business_reason=text_of(bus, "BussinessDocReason", required=False),
        business_document_id=text_of(bus, "DocumentId", required=False),
        staff=StaffInfo(**read_fields(staff, StaffInfo)) if staff is not None else StaffInfo(),
        paper=text_of(bus, "Paper", required=False),
    )
