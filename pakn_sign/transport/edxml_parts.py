"""edXML attachments: the manifest (``edXMLBody/edXMLManifest``) and ``AttachmentEncoded``.

The manifest lists each attachment (ContentId, ContentType, Description, AttachmentName);
the attachments travel base64 in ``AttachmentEncoded`` *outside* the envelope (VPCP SDK
sample ``edoc_new.edxml``, DOMAIN.md §2). Reading checks both lists against each other and
bounds every attachment before its base64 is decoded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass, field

from lxml import etree

from ..errors import InvalidInput
from .edxml_types import E, child, children, sub, text_of, where

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "EdxmlAttachment",
    "b64_len",
    "content_id",
    "decode_attachment",
    "read_attachments",
    "write_attachments",
]

MAX_ATTACHMENT_BYTES = 7 * 1000 * 1000
"""Default per-attachment limit (decoded). Its base64 stays under libxml2's 10 MB text-node
cap, which the hardened parser keeps (no ``huge_tree``)."""
_CID_NS = uuid.UUID("6f1b8a52-2f0e-4c1e-9d63-2b0c1f7e5a11")


@dataclass(frozen=True, slots=True)
class EdxmlAttachment:
    """One attachment: listed in the manifest, carried base64 in ``AttachmentEncoded``."""

    name: str
    data: bytes = field(repr=False)
    content_type: str = "application/octet-stream"
    description: str = ""
    content_id: str | None = None
    """``cid:<uuid>``; ``None`` when building means one derived from the index and bytes."""


def content_id(index: int, data: bytes) -> str:
    """A ``cid:<uuid>`` derived from the position and the bytes (deterministic output)."""
    return f"cid:{uuid.uuid5(_CID_NS, f'{index}:{hashlib.sha256(data).hexdigest()}')}"


def write_attachments(
    root: etree._Element, envelope: etree._Element, parts: list[EdxmlAttachment]
) -> None:
    """Append the manifest to ``envelope`` and ``AttachmentEncoded`` to ``root``."""
    manifest = sub(sub(envelope, "edXMLBody"), "edXMLManifest")
    manifest.set("version", "1.0")
    encoded = etree.SubElement(root, E + "AttachmentEncoded")
    for i, part in enumerate(parts):
        cid = part.content_id or content_id(i, part.data)
        ref = sub(manifest, "Reference")
        for tag, value in (
            ("ContentId", cid),
            ("ContentType", part.content_type),
            ("Description", part.description),
            ("AttachmentName", part.name),
        ):
            sub(ref, tag, value)
        att = sub(encoded, "Attachment")
        for tag, value in (
            ("ContentId", cid),
            ("AttachmentName", part.name),
            ("Description", part.description),
            ("ContentType", part.content_type),
            ("ContentTransferEncoded", base64.b64encode(part.data).decode("ascii")),
        ):
            sub(att, tag, value)


def decode_attachment(b64: str, name: str, el: etree._Element) -> bytes:
    """Strict base64 (alphabet and padding checked), called only after the size check."""
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"attachment {name!r} is not valid base64", location=where(el)) from None


def b64_len(n: int) -> int:
    """Length of the base64 text of ``n`` bytes."""
    return 4 * ((n + 2) // 3)


def read_attachments(
    root: etree._Element, manifest: etree._Element, limit: int
) -> list[EdxmlAttachment]:
    """The attachments, checked against the manifest (same ContentIds, names and types).

    Raises:
        InvalidInput: a duplicate ContentId, an attachment not in the manifest or a
            manifest entry without one (``edxml.manifest``), an attachment over ``limit``
            (``input.too_large``, before decoding), bad base64.
    """
    listed = {}
    for ref in children(manifest, "Reference"):
        cid = text_of(ref, "ContentId")
        if cid in listed:
            raise InvalidInput(f"ContentId {cid!r} is listed twice", location=where(ref))
        listed[cid] = (text_of(ref, "AttachmentName"), text_of(ref, "ContentType", required=False))
    encoded = child(root, "AttachmentEncoded", required=bool(listed))
    out: list[EdxmlAttachment] = []
    for att in children(encoded, "Attachment") if encoded is not None else []:
        cid = text_of(att, "ContentId")
        name = text_of(att, "AttachmentName")
        ctype = text_of(att, "ContentType", required=False)
        if listed.pop(cid, None) != (name, ctype):
            raise InvalidInput(
                f"attachment {cid!r} ({name!r}) is not in the manifest as sent",
                location=where(att),
                code="edxml.manifest",
            )
        b64 = "".join(text_of(att, "ContentTransferEncoded").split())
        if len(b64) > b64_len(limit):  # refuse before decoding anything
            raise InvalidInput(
                f"attachment {name!r} exceeds {limit} bytes",
                location=where(att),
                code="input.too_large",
            )
        data = decode_attachment(b64, name, att)
        desc = text_of(att, "Description", required=False)
        out.append(EdxmlAttachment(name, data, ctype, desc, cid))
    if listed:
        raise InvalidInput(
            f"manifest entries without an attachment: {sorted(listed)}", code="edxml.manifest"
        )
    return out
