"""Building blocks shared by the document kinds: senders, attachments, links, deadlines.

Field sources: DOMAIN.md §1.1 (Decree 92/2017, Decision 31/2021 Art. 41: name, contact
address, phone, e-mail; Decision 574 portal form: attachments JPG/PDF/DOC/DOCX/XLS/XLSX) and
§6 "PAKN fields". Patterns for phone and e-mail are deliberately simple (see docs/documents.md).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from ._base import CleanText, Line, Name, Sha256Hex, WireModel, document_digest
from .identifiers import DocumentId

__all__ = [
    "EMAIL_PATTERN",
    "PHONE_PATTERN",
    "Attachment",
    "Channel",
    "Deadline",
    "DocumentRef",
    "MediaType",
    "Official",
    "OrganisationSender",
    "PdfLetter",
    "PersonSender",
    "PersonalId",
    "PersonalIdType",
    "Representative",
    "Sender",
    "refs_case",
]

# Digits with an optional leading "+": callers strip spaces, dots and dashes. 6-15 digits
# covers VN landlines, mobiles (10 digits), short hotlines like 19001547 and E.164 (ITU-T E.164 §6).
PHONE_PATTERN = r"^\+?[0-9]{6,15}$"
# One "@", no blanks, a dot in the domain: enough to catch slips; deliverability is not
# checked (RFC 5321 §4.5.3.1 length limits: local part 64, whole address 254).
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$"

Phone = Annotated[str, Field(pattern=PHONE_PATTERN, description="Số điện thoại")]
Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254, description="Thư điện tử")]
TaxCode = Annotated[
    str,
    Field(pattern=r"^[0-9]{10}(-[0-9]{3})?$", description="Mã số thuế (MST): 10 or 10-3 digits"),
]
FileName = Annotated[str, Field(pattern=r"^[^/\\]+$"), CleanText(single_line=True, max_length=255)]


class Channel(enum.StrEnum):
    """How the PAKN reached the agency (DOMAIN.md §1.1, Decision 31/2021 Art. 43(2))."""

    WEB = "web"
    """A web form other than the national portals."""
    SMS = "sms"
    """SMS (e.g. 8088, MoHA 852/QĐ-BNV)."""
    PHONE = "phone"
    """Telephone hotline (e.g. 19001547), entered by staff."""
    PAPER = "paper"
    """A letter, entered by staff."""
    EMAIL = "email"
    """E-mail to the published address."""
    PORTAL = "portal"
    """The national portal (dichvucong.gov.vn; formerly nguoidan.chinhphu.vn)."""


class PersonalIdType(enum.StrEnum):
    """Personal identity papers, as in certificate ``UID`` prefixes (DOMAIN.md §3)."""

    CMND = "CMND"
    """Chứng minh nhân dân: 9 or 12 digits."""
    CCCD = "CCCD"
    """Căn cước công dân / căn cước: 12 digits."""
    HC = "HC"
    """Hộ chiếu (passport): 6-12 letters or digits."""


_ID_NUMBER = {
    PersonalIdType.CMND: r"^([0-9]{9}|[0-9]{12})$",
    PersonalIdType.CCCD: r"^[0-9]{12}$",
    PersonalIdType.HC: r"^[A-Z0-9]{6,12}$",
}


class PersonalId(WireModel):
    """An identity paper number. Optional: no legal source requires it (DOMAIN.md §1.1)."""

    type: PersonalIdType
    number: Annotated[str, Field(pattern=r"^[A-Z0-9]{6,12}$")]

    @model_validator(mode="after")
    def _number_fits_type(self) -> PersonalId:
        if not re.fullmatch(_ID_NUMBER[self.type], self.number):
            raise ValueError(f"{self.type.value} number does not match {_ID_NUMBER[self.type]}")
        return self


class PersonSender(WireModel):
    """A citizen (Vietnamese, overseas Vietnamese or foreigner, Decree 20/2008 Art. 2)."""

    type: Literal["person"] = "person"
    full_name: Name
    address: Line
    phone: Phone
    email: Email
    id_document: PersonalId | None = None
    portal_account_id: Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$")] | None = None


class Representative(WireModel):
    """The person who speaks for an organisation sender."""

    full_name: Name
    position: Name | None = None


class OrganisationSender(WireModel):
    """An enterprise, association, agency or public unit (Decree 20/2008 Art. 2)."""

    type: Literal["organisation"] = "organisation"
    name: Line
    tax_code: TaxCode
    representative: Representative
    address: Line
    phone: Phone
    email: Email
    portal_account_id: Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$")] | None = None


Sender = Annotated[PersonSender | OrganisationSender, Field(discriminator="type")]
"""Who sent the PAKN: a person or an organisation, told apart by ``type``."""


class MediaType(enum.StrEnum):
    """Attachment formats the portal accepts (Decision 574 form: JPG, PDF, DOC, DOCX, XLS,
    XLSX [2nd]); PNG added as our choice (screenshots)."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    PDF = "application/pdf"
    DOC = "application/msword"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    XLS = "application/vnd.ms-excel"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024


class Attachment(WireModel):
    """A file sent with a document, bound by its digest (the bytes travel separately)."""

    name: FileName
    media_type: MediaType
    size: Annotated[int, Field(ge=0, le=MAX_ATTACHMENT_BYTES)]
    sha256: Sha256Hex


class PdfLetter(WireModel):
    """A PAdES-signed PDF letter, bound by digest (DESIGN.md §3, Answer)."""

    name: FileName
    size: Annotated[int, Field(ge=1, le=MAX_ATTACHMENT_BYTES)]
    sha256: Sha256Hex


class DocumentRef(WireModel):
    """A link to an earlier document: its id and the SHA-256 of its canonical JSON."""

    document_id: DocumentId
    sha256: Sha256Hex

    @classmethod
    def of(cls, document: BaseModel) -> DocumentRef:
        """A reference to ``document`` (which must have a ``document_id``)."""
        return cls(document_id=document.document_id, sha256=document_digest(document))  # type: ignore[attr-defined]


class Deadline(WireModel):
    """A due date with the rule and legal source it comes from (DOMAIN.md §6 "Deadlines").

    ``due_on`` is a date in Vietnam (Asia/Ho_Chi_Minh); the deadline is met by any time
    on that date.
    """

    due_on: dt.date
    rule: Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,64}$")]
    legal_source: Line


class Official(WireModel):
    """The competent official (edXML ``SignerInfo``: Competence, Position, FullName)."""

    full_name: Name
    position: Name
    competence: Name | None = None


def refs_case(ref: DocumentRef, case_id: str, what: str) -> None:
    """Raise ``ValueError`` unless ``ref`` points at the case's petition."""
    if ref.document_id != case_id:
        raise ValueError(f"{what} must refer to the case's petition {case_id!r}")
