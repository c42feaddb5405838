"""Wrap signed PAKN documents into edXML (QCVN 102:2016) packages and read them back.

Layout (VPCP SDK sample ``edoc_new.edxml``, DOMAIN.md §2)::

    edXML > edXMLEnvelope > edXMLHeader > MessageHeader, TraceHeaderList (TraceHeader+,
            Bussiness), ds:Signature (enveloped, URI="")
                          > edXMLBody > edXMLManifest > Reference (ContentId, ContentType,
                                                                  Description, AttachmentName)+
          > AttachmentEncoded > Attachment (ContentId, AttachmentName, Description,
                                            ContentType, ContentTransferEncoded)+

The signed PAKN document (``<pakn:Signed>`` from ``sign_xml``) travels unchanged as the
first attachment. The package signature is transport evidence (who sent the package); the
PAKN document keeps its own XAdES signatures and is **not** trusted because the package
verified: verify it with :func:`pakn_sign.verify.verify` or :meth:`EdxmlPackage.pakn_document`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..clock import SystemClock, ensure_aware
from ..codec.xmlcodec import SIGNED_TAG, document_from_element
from ..codec.xmlparse import XmlLimits, parse_xml
from ..errors import ConfigurationError, InvalidInput, PolicyViolation
from ..models import Answer, AnswerReturn
from ..signing.algorithms import SignatureAlgorithm
from ..signing.signers import Signer
from .edxml_body import (
    EdxmlHeader,
    read_header,
    write_message_header,
    write_trace,
)
from .edxml_parts import (
    MAX_ATTACHMENT_BYTES,
    EdxmlAttachment,
    b64_len,
    read_attachments,
    write_attachments,
)
from .edxml_sign import PackageSignature, sign_package, verify_package
from .edxml_types import (
    EDXML_NS,
    BusinessDocType,
    E,
    EdxmlCodes,
    EdxmlOrgan,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    TraceEntry,
    child,
    need,
    no_comments,
    sub,
)

if TYPE_CHECKING:
    from ..models import Document
    from ..trust.policy import TrustPolicy
    from ..verify import VerificationResult

__all__ = [
    "DEFAULT_CODES",
    "MAX_ATTACHMENT_BYTES",
    "MAX_PACKAGE_BYTES",
    "PAKN_CONTENT_TYPE",
    "PAKN_DESCRIPTION",
    "EdxmlAttachment",
    "EdxmlPackage",
    "from_edxml",
    "to_edxml",
]

MAX_PACKAGE_BYTES = 32 * 1024 * 1024
"""Default whole-package limit."""
PAKN_CONTENT_TYPE = "application/xml"
PAKN_DESCRIPTION = "PAKN signed document (urn:pakn-sign:pakn:1)"
"""The ``Description`` that marks the attached ``<pakn:Signed>`` document."""
DEFAULT_CODES = EdxmlCodes()
"""The sample's code values (see :class:`EdxmlCodes`: not authoritative)."""
_NO_STAFF = StaffInfo()


@dataclass(frozen=True, slots=True)
class EdxmlPackage:
    """A read edXML package: typed header, verified package signature and attachments."""

    header: EdxmlHeader
    attachments: tuple[EdxmlAttachment, ...]
    signature: PackageSignature | None
    """``None`` only for an unsigned package read with ``allow_unsigned=True``."""

    @property
    def pakn_bytes(self) -> bytes:
        """The attached ``<pakn:Signed>`` document, byte for byte (not yet verified)."""
        found = [a for a in self.attachments if a.description == PAKN_DESCRIPTION]
        if len(found) != 1:
            raise InvalidInput(
                f"expected one attached PAKN document, found {len(found)}",
                code="edxml.pakn_attachment",
            )
        return found[0].data

    def pakn_document(
        self, policy: TrustPolicy, *, at: dt.datetime | None = None, expect: Any = None
    ) -> VerificationResult:
        """Verify the attached PAKN document with :func:`pakn_sign.verify.verify`.

        The package signature says nothing about the PAKN document's own signatures; this
        checks them (XAdES roles, order, chain) and returns only what they signed.
        """
        from ..verify import verify

        return verify(self.pakn_bytes, policy=policy, at=at, expect=expect)


def _response_for(doc: Document) -> tuple[ResponseFor, ...]:
    # DOMAIN.md §6: an answer's ResponseFor carries the forwarding's DocumentId; an
    # answer return points at the answer it sends back.
    if isinstance(doc, Answer):
        return (ResponseFor.from_document_id(doc.forwarding.document_id),)
    if isinstance(doc, AnswerReturn):
        return (ResponseFor.from_document_id(doc.answer.document_id),)
    return ()


def _check_signed(data: bytes, doc: Document) -> None:
    root = parse_xml(data).getroot()
    if root.tag != SIGNED_TAG:
        raise ConfigurationError("document_signed_bytes must be a <pakn:Signed> document")
    if document_from_element(root) != doc:
        raise ConfigurationError("doc is not the document inside document_signed_bytes")


def _code_and_date(
    doc: Document, sender: EdxmlOrgan, code_number: str | None, code_notation: str | None
) -> tuple[str, str, dt.date]:
    parts = ResponseFor.from_document_id(doc.document_id)
    number, notation = parts.code.split("/", 1)
    issuer = getattr(doc, "issuer", None)
    if issuer is not None and issuer != sender.organ_id:
        raise ConfigurationError(f"the document's issuer {issuer} is not the sender")
    return code_number or number, code_notation or notation, parts.promulgation_date


def to_edxml(
    document_signed_bytes: bytes,
    *,
    doc: Document,
    sender: EdxmlOrgan,
    receivers: Sequence[EdxmlOrgan],
    signer: Signer,
    subject: str,
    content: str = "",
    code_number: str | None = None,
    code_notation: str | None = None,
    promulgation_place: str = "",
    business_doc_type: int = BusinessDocType.NEW,
    business_reason: str | None = None,
    business_document_id: str | None = None,
    staff: StaffInfo = _NO_STAFF,
    signer_info: SignerInfo | None = None,
    due_date: dt.date | None = None,
    codes: EdxmlCodes = DEFAULT_CODES,
    trace: Sequence[TraceEntry] = (),
    attachments: Sequence[EdxmlAttachment] = (),
    algorithm: SignatureAlgorithm | None = None,
    at: dt.datetime | None = None,
) -> bytes:
    """Build and sign an edXML package carrying a signed PAKN document.

    Args:
        document_signed_bytes: the ``<pakn:Signed>`` bytes (attached unchanged).
        doc: the document inside them (checked); the defaults below come from it.
        sender, receivers: ``From`` and the ``To`` list (at least one).
        signer: the package signer (the sending agency's seal key, normally).
        subject, content: ``Subject`` and ``Content``.
        code_number, code_notation: ``Code``; default: the number and notation of
            ``doc.document_id`` (whose date is the ``PromulgationDate``).
        business_doc_type: 0 new, 1 revoke, 2 update, 3 replace (:class:`BusinessDocType`).
        business_reason, business_document_id: ``BussinessDocReason`` (default per type)
            and ``Bussiness/DocumentId`` (default: the package's DocumentId).
        staff: ``StaffInfo`` of the clerk. signer_info: ``SignerInfo`` (default for an
            Answer: its official). due_date: ``DueDate`` (default: a Forwarding's deadline).
        codes: DocumentType / SteeringType / Priority (unknown code tables; see EdxmlCodes).
        trace: earlier ``TraceHeader`` hops; the sender's hop at ``at`` is appended.
        attachments: more attachments after the PAKN document.
        algorithm: the SignatureMethod (default: the signer's; never SHA-1).
        at: the sending time (``TraceHeader/Timestamp``); ``None`` means now.

    Raises:
        ConfigurationError: no receiver, a bad business type, ``doc`` not in the bytes,
            the document's issuer not the sender, SHA-1 or a weak key.
        InvalidInput: unreadable ``document_signed_bytes``.
        SigningError: the signer failed.
    """
    when = SystemClock().now() if at is None else ensure_aware(at, name="at")
    if not receivers:
        raise ConfigurationError("an edXML package needs at least one receiver (To)")
    btype = BusinessDocType(business_doc_type)
    if doc.kind == "status_notice":
        raise ConfigurationError("a StatusNotice travels as a status package (edxml_status)")
    _check_signed(document_signed_bytes, doc)
    number, notation, date = _code_and_date(doc, sender, code_number, code_notation)
    document_id = f"{sender.organ_id},{date:%Y/%m/%d},{number}/{notation}"
    official = getattr(doc, "official", None)
    if signer_info is None and official is not None:
        signer_info = SignerInfo(
            competence=official.competence or "",
            position=official.position,
            full_name=official.full_name,
        )
    deadline = getattr(doc, "answer_due", None)
    header = EdxmlHeader(
        sender=sender,
        receivers=tuple(receivers),
        document_id=document_id,
        code_number=number,
        code_notation=notation,
        promulgation_place=promulgation_place,
        promulgation_date=date,
        codes=codes,
        subject=subject,
        content=content,
        signer_info=signer_info or SignerInfo(),
        due_date=due_date or (deadline.due_on if deadline is not None else None),
        response_for=_response_for(doc),
        trace=(*trace, TraceEntry(sender.organ_id, when)),
        business_doc_type=btype,
        business_reason=business_reason or btype.reason,
        business_document_id=business_document_id or document_id,
        staff=staff,
    )
    parts = [
        EdxmlAttachment(
            f"pakn-{doc.kind}.xml", document_signed_bytes, PAKN_CONTENT_TYPE, PAKN_DESCRIPTION
        ),
        *attachments,
    ]
    root = etree.Element(E + "edXML", nsmap={None: EDXML_NS})  # type: ignore[dict-item]
    envelope = etree.SubElement(root, E + "edXMLEnvelope", nsmap={"edXML": EDXML_NS})
    head = sub(envelope, "edXMLHeader")
    write_message_header(head, header)
    write_trace(head, header)
    write_attachments(root, envelope, parts)
    sign_package(head, signer, algorithm=algorithm)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def from_edxml(
    package: bytes,
    *,
    policy: TrustPolicy,
    at: dt.datetime | None = None,
    allow_unsigned: bool = False,
    unsafe_allow_sha1: bool = False,
    pins: Mapping[str, Collection[str]] | None = None,
    receiver: str | None = None,
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
    max_package_bytes: int = MAX_PACKAGE_BYTES,
) -> EdxmlPackage:
    """Read an edXML package: parse (bounded), verify the package signature, check the
    manifest against the attachments, and return the typed header and attachment bytes.

    The attached PAKN ``<pakn:Signed>`` document is **not** trusted by the package
    signature: verify it with :func:`pakn_sign.verify.verify` (or ``pakn_document``).

    Args:
        package: the bytes as received.
        policy: trust anchors and rules for the package signer's path and algorithms.
        at: validation time; ``None``: ``policy.validation_time`` or now.
        allow_unsigned: accept a package without a signature (warns on use).
        unsafe_allow_sha1: accept legacy rsa-sha1 / sha1 package signatures (warns).
        pins: OrganId -> accepted SHA-256 fingerprints of package-signer certificates
            (e.g. from the partner directory); the ``From`` agency must be pinned.
        receiver: our OrganId; if given, it must be among the ``To`` agencies (a package
            addressed to someone else is not accepted as ours).
        max_attachment_bytes, max_package_bytes: size limits, checked before decoding.

    Raises:
        InvalidInput: malformed, oversized, DTD, comments, missing elements, manifest
            mismatch, unsigned.
        PolicyViolation: ``receiver`` is not among the ``To`` agencies.
        VerificationError: InvalidSignature, PolicyViolation, UntrustedSigner,
            IndeterminateError for the package signature.
    """
    limits = XmlLimits(
        max_bytes=max_package_bytes,
        max_depth=32,
        max_text_bytes=max(b64_len(max_attachment_bytes), 1024 * 1024),
    )
    root = parse_xml(package, limits=limits).getroot()
    if root.tag != E + "edXML":
        raise InvalidInput(f"not an edXML package: root {root.tag!r}", code="edxml.structure")
    no_comments(root)
    envelope = need(root, "edXMLEnvelope")
    head = need(envelope, "edXMLHeader")
    header = read_header(head)
    signature = verify_package(
        root,
        head,
        policy=policy,
        at=at,
        allow_unsigned=allow_unsigned,
        unsafe_allow_sha1=unsafe_allow_sha1,
        pins=pins,
        sender=header.sender.organ_id,
    )
    if receiver is not None and receiver not in {r.organ_id for r in header.receivers}:
        raise PolicyViolation(
            f"the package is addressed to {[r.organ_id for r in header.receivers]}, not {receiver}",
            code="edxml.wrong_receiver",
        )
    body = child(envelope, "edXMLBody", required=False)
    manifest = child(body, "edXMLManifest", required=False) if body is not None else None
    if manifest is None:
        manifest = etree.Element(E + "edXMLManifest")
    parts = read_attachments(root, manifest, max_attachment_bytes)
    return EdxmlPackage(header, tuple(parts), signature)
