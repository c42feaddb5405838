"""``sign_xml``: sign a PAKN document (model or XML bytes) as XAdES in ``<pakn:Signed>``.

A model at level B-B is written as canonical text with no tree at all (:mod:`.xades_text`);
at B-T/B-LT it is built into the tree directly (``to_xml_element``; no serialise-then-
parse) and the result is serialised once, as UTF-8 (DESIGN.md §9). Bytes are parsed once with
the hardened parser. Signing an already signed document appends a signature: an
organisation seal over the personal signature(s); a personal signature over an
organisation signature is refused (Decree 30/2020 Art. 32).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..clock import SystemClock, ensure_aware
from ..codec.xmlcodec import SIGNED_TAG, document_from_element, to_xml_element
from ..codec.xmlparse import parse_xml
from ..errors import InvalidInput
from .signers import Signer
from .timestamps import TimestampAuthority
from .xades import DOCUMENT_ID, PAKN_NS, RevocationSource, XAdESLevel, add_xades_signature
from .xades_order import SignerRole
from .xades_text import sign_model_b_b

if TYPE_CHECKING:
    from ..trust.policy import TrustPolicy

__all__ = ["sign_xml"]

_DS_SIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def _container_from_model(document: Any) -> etree._Element:
    root = etree.Element(SIGNED_TAG, nsmap={"pakn": PAKN_NS})
    root.append(to_xml_element(document, element_id=DOCUMENT_ID))
    return root


def _container_from_bytes(data: bytes) -> etree._Element:
    root = parse_xml(data).getroot()
    if root.tag == SIGNED_TAG:
        kids = [k for k in root if isinstance(k.tag, str)]
        if not kids or kids[0].get("Id") != DOCUMENT_ID or kids[0].tag == SIGNED_TAG:
            raise InvalidInput(f"pakn:Signed must start with the document (Id={DOCUMENT_ID!r})")
        if any(k.tag != _DS_SIG for k in kids[1:]):
            raise InvalidInput("pakn:Signed may hold only the document and ds:Signature elements")
        return root
    # An unsigned document: check it is a valid PAKN document before signing it.
    document_from_element(root)
    doc_id = root.get("Id")
    if doc_id not in (None, DOCUMENT_ID):
        raise InvalidInput(f"the document's Id is {doc_id!r}; expected {DOCUMENT_ID!r} or none")
    root.set("Id", DOCUMENT_ID)
    container = etree.Element(SIGNED_TAG, nsmap={"pakn": PAKN_NS})
    container.append(root)
    return container


def sign_xml(
    document_or_bytes: Any,
    signer: Signer,
    *,
    role: str | SignerRole,
    level: str | XAdESLevel = "B-B",
    tsa: TimestampAuthority | None = None,
    policy: TrustPolicy | None = None,
    at: dt.datetime | None = None,
) -> bytes:
    """Sign a PAKN document and return the ``<pakn:Signed>`` XML bytes (UTF-8).

    Args:
        document_or_bytes: a document model (``Answer``…), the XML bytes of an unsigned
            document, or a ``<pakn:Signed>`` document to add a signature to.
        signer: the key (the format code never sees it) and certificate chain.
        role: ``"personal"`` (the competent official) or ``"organisation"`` (the seal).
        level: ``"B-B"``, ``"B-T"`` (needs ``tsa``) or ``"B-LT"`` (needs ``tsa`` and revocation
            data for every certificate: ``policy.crls``/``ocsps``, or fetched when
            ``policy.allow_fetching``).
        tsa: the RFC 3161 timestamp authority for B-T and B-LT.
        policy: source of intermediates and revocation data for B-LT.
        at: the claimed signing time; ``None`` means now.

    Raises:
        ConfigurationError: a bad role or level, personal over organisation, missing TSA
            or revocation data.
        InvalidInput / SchemaError: bytes that are not a PAKN document.
        SigningError: the signer failed.
    """
    when = SystemClock().now() if at is None else ensure_aware(at, name="at")
    the_role = role if isinstance(role, SignerRole) else SignerRole.parse(role)
    the_level = level if isinstance(level, XAdESLevel) else XAdESLevel.parse(level)
    if isinstance(document_or_bytes, bytes | bytearray | memoryview):
        container = _container_from_bytes(bytes(document_or_bytes))
    elif the_level is XAdESLevel.B_B:
        # The common case needs no tree: canonical text throughout (signing/xades_text).
        return sign_model_b_b(document_or_bytes, signer, role=the_role, signing_time=when)
    else:
        container = _container_from_model(document_or_bytes)
    source = None
    if policy is not None:
        source = RevocationSource(
            crls=policy.crls,
            ocsps=policy.ocsps,
            intermediates=policy.intermediates,
            anchors=policy.anchors,
            allow_fetching=policy.allow_fetching,
        )
    add_xades_signature(
        container,
        signer,
        role=the_role,
        level=the_level,
        signing_time=when,
        tsa=tsa,
        revocation=source,
    )
    return etree.tostring(container, encoding="UTF-8", xml_declaration=True)
