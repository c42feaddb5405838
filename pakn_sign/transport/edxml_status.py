"""edXML status packages (QCVN 102:2016 ``MessageStatus``) and the StatusNotice mapping.

Layout (DOMAIN.md §2 "Status messages": Bkav eDoc SDK, the C# SDK sample,
tungsfer512/edxml-convert ``status_req.json``)::

    edXML > edXMLEnvelope > edXMLHeader > MessageStatus (ResponseFor (OrganId, Code,
            PromulgationDate, DocumentId), From, StatusCode, Description, Timestamp,
            StaffInfo), ds:Signature (enveloped, URI="", as for edoc packages)

Status codes are :class:`pakn_sign.models.EdxmlStatus` (01–06, 13, 15, 16). A PAKN
progress update is status 05 with a Description (DOMAIN.md §6 item 4). The normative
element name of the status block was not found [NF]; ``MessageStatus`` is the SDKs' name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree
from pydantic import ValidationError

from ..clock import SystemClock, ensure_aware
from ..codec.xmlparse import XmlLimits, parse_xml
from ..errors import ConfigurationError, InvalidInput, SchemaError
from ..models import DocumentRef, EdxmlStatus, StatusNotice
from ..signing.algorithms import SignatureAlgorithm
from ..signing.signers import Signer
from .edxml_body import read_organ
from .edxml_sign import PackageSignature, sign_package, verify_package
from .edxml_types import (
    EDXML_NS,
    E,
    EdxmlOrgan,
    ResponseFor,
    StaffInfo,
    child,
    format_timestamp,
    need,
    no_comments,
    parse_timestamp,
    read_fields,
    read_response_for,
    sub,
    sub_fields,
    sub_response_for,
    text_of,
    where,
)

if TYPE_CHECKING:
    from ..trust.policy import TrustPolicy

__all__ = [
    "MAX_STATUS_BYTES",
    "EdxmlStatusPackage",
    "from_status",
    "notice_from_status",
    "status_from_notice",
    "to_status",
]

MAX_STATUS_BYTES = 1024 * 1024
"""A status package carries no attachments; anything bigger is refused unread."""
_NO_STAFF = StaffInfo()


@dataclass(frozen=True, slots=True)
class EdxmlStatusPackage:
    """A read status package (its signature verified, unless read with ``allow_unsigned``)."""

    response_for: ResponseFor
    """The document the status is about (its sender, code, date and DocumentId)."""
    sender: EdxmlOrgan
    """``From``: the agency reporting the status."""
    status: EdxmlStatus
    description: str
    timestamp: dt.datetime
    """``Timestamp`` read as Asia/Ho_Chi_Minh time (the format has no offset)."""
    staff: StaffInfo
    signature: PackageSignature | None


def to_status(
    *,
    response_for: ResponseFor,
    sender: EdxmlOrgan,
    status: EdxmlStatus,
    signer: Signer,
    description: str = "",
    staff: StaffInfo = _NO_STAFF,
    algorithm: SignatureAlgorithm | None = None,
    at: dt.datetime | None = None,
) -> bytes:
    """Build and sign a status package.

    Args:
        response_for: the original document (``ResponseFor.from_document_id`` derives it).
        sender: ``From``. status: the status code. description: ``Description``.
        signer: the package signer (the reporting agency's seal, normally).
        staff: ``StaffInfo``. algorithm: SignatureMethod (default: the signer's).
        at: ``Timestamp``; ``None`` means now.

    Raises:
        ConfigurationError: SHA-1 or a weak key. SigningError: the signer failed.
    """
    when = SystemClock().now() if at is None else ensure_aware(at, name="at")
    code = EdxmlStatus(status)
    root = etree.Element(E + "edXML", nsmap={None: EDXML_NS})  # type: ignore[dict-item]
    envelope = etree.SubElement(root, E + "edXMLEnvelope", nsmap={"edXML": EDXML_NS})
    head = sub(envelope, "edXMLHeader")
    ms = sub(head, "MessageStatus")
    sub_response_for(ms, response_for)
    sub_fields(ms, "From", sender)
    sub(ms, "StatusCode", code.value)
    sub(ms, "Description", description)
    sub(ms, "Timestamp", format_timestamp(when))
    sub_fields(ms, "StaffInfo", staff)
    sign_package(head, signer, algorithm=algorithm)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def from_status(
    package: bytes,
    *,
    policy: TrustPolicy,
    at: dt.datetime | None = None,
    allow_unsigned: bool = False,
    unsafe_allow_sha1: bool = False,
    pins: Mapping[str, Collection[str]] | None = None,
    max_bytes: int = MAX_STATUS_BYTES,
) -> EdxmlStatusPackage:
    """Read a status package and verify its signature (as :func:`~.edxml.from_edxml`).

    Raises:
        InvalidInput: malformed, oversized, DTD, comments, an unknown status code, unsigned.
        VerificationError: the package signature or its signer's path.
    """
    limits = XmlLimits(max_bytes=max_bytes, max_depth=16, max_text_bytes=64 * 1024)
    root = parse_xml(package, limits=limits).getroot()
    if root.tag != E + "edXML":
        raise InvalidInput(f"not an edXML package: root {root.tag!r}", code="edxml.structure")
    no_comments(root)
    head = need(need(root, "edXMLEnvelope"), "edXMLHeader")
    ms = need(head, "MessageStatus")
    sender = read_organ(need(ms, "From"))
    signature = verify_package(
        root,
        head,
        policy=policy,
        at=at,
        allow_unsigned=allow_unsigned,
        unsafe_allow_sha1=unsafe_allow_sha1,
        pins=pins,
        sender=sender.organ_id,
    )
    code = text_of(ms, "StatusCode")
    try:
        status = EdxmlStatus(code)
    except ValueError:
        raise InvalidInput(
            f"StatusCode {code!r} is not one of 01-06, 13, 15, 16", location=where(ms)
        ) from None
    staff = child(ms, "StaffInfo", required=False)
    return EdxmlStatusPackage(
        response_for=read_response_for(need(ms, "ResponseFor")),
        sender=sender,
        status=status,
        description=text_of(ms, "Description", required=False),
        timestamp=parse_timestamp(text_of(ms, "Timestamp"), where(ms)),
        staff=StaffInfo(**read_fields(staff, StaffInfo)) if staff is not None else StaffInfo(),
        signature=signature,
    )


# --- StatusNotice <-> status package (DOMAIN.md §6 items 3 and 4) -------------------------


def status_from_notice(
    notice: StatusNotice,
    *,
    sender: EdxmlOrgan,
    signer: Signer,
    staff: StaffInfo = _NO_STAFF,
    algorithm: SignatureAlgorithm | None = None,
) -> bytes:
    """The status package for a StatusNotice: ResponseFor from ``notice.response_for``,
    StatusCode, Description, and Timestamp = ``notice.issued_at``.

    What the package cannot carry (the notice's own DocumentId, the case id, the digest
    in ``response_for`` and the progress-update flag) stays in the signed StatusNotice;
    send that too when the receiver speaks PAKN.

    Raises:
        ConfigurationError: ``sender`` is not the notice's issuer.
    """
    if sender.organ_id != notice.issuer:
        raise ConfigurationError(f"the notice's issuer {notice.issuer} is not the sender")
    return to_status(
        response_for=ResponseFor.from_document_id(notice.response_for.document_id),
        sender=sender,
        status=notice.status,
        signer=signer,
        description=notice.description or "",
        staff=staff,
        algorithm=algorithm,
        at=notice.issued_at,
    )


def notice_from_status(
    package: EdxmlStatusPackage,
    *,
    document_id: str,
    case_id: str,
    response_for: DocumentRef,
    progress_update: bool = False,
) -> StatusNotice:
    """A StatusNotice model from a read status package.

    The caller supplies what edXML does not carry: the notice's ``document_id``, the
    ``case_id``, and ``response_for`` with the digest of the document it sent (its
    DocumentId must equal the package's ResponseFor/DocumentId).

    Raises:
        ConfigurationError: ``response_for`` names another document.
        SchemaError: the model refuses the values (e.g. a progress update that is not 05).
    """
    if response_for.document_id != package.response_for.document_id:
        raise ConfigurationError(
            f"the package answers {package.response_for.document_id}, "
            f"not {response_for.document_id}"
        )
    try:
        return StatusNotice(
            document_id=document_id,
            case_id=case_id,
            response_for=response_for,
            issuer=package.sender.organ_id,
            issued_at=package.timestamp,
            status=package.status,
            progress_update=progress_update,
            description=package.description or None,
        )
    except ValidationError as exc:
        raise SchemaError(f"not a valid StatusNotice: {exc.errors()[0]['msg']}") from exc
