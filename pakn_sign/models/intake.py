"""Intake at the receiving agency: the petition, its classification, and the exchange of
missing information (DOMAIN.md §1.1 Decree 92/2017 steps (3)-(4); §1.2 optional states)."""

from __future__ import annotations

import enum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from ._base import Line, ListToTuple, Text, Timestamp, WireModel
from .common import Attachment, Channel, DocumentRef, Sender, refs_case
from .identifiers import DocumentId, OrganId, SectorCode

__all__ = [
    "Classification",
    "ClassificationCode",
    "InformationRequest",
    "InformationSupplement",
    "Petition",
]

MAX_ATTACHMENTS = 20
Attachments = Annotated[tuple[Attachment, ...], ListToTuple, Field(max_length=MAX_ATTACHMENTS)]


class Petition(WireModel):
    """Phản ánh, kiến nghị: the PAKN as received (DOMAIN.md §6 "PAKN fields").

    The ``document_id`` is assigned by the receiving agency when it registers the PAKN
    (its OrganId, the date, a register number and notation); ``case_id`` equals it.
    """

    label_vi: ClassVar[str] = "Phản ánh, kiến nghị"
    kind: Literal["petition"] = "petition"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    recipient: OrganId
    received_at: Timestamp
    channel: Channel
    sender: Sender
    title: Line
    content: Text
    language: Literal["vi"] = "vi"
    sector: SectorCode | None = None
    attachments: Attachments = ()

    @model_validator(mode="after")
    def _case_is_self(self) -> Petition:
        if self.case_id != self.document_id:
            raise ValueError("a petition's case_id must equal its document_id")
        return self


class ClassificationCode(enum.StrEnum):
    """The four classes of Decree 92/2017/NĐ-CP (DOMAIN.md §1.1)."""

    INVALID = "INVALID"
    """Không đủ điều kiện: fails the Art. 7(4) requirements; not accepted."""
    ADMIN_BEHAVIOUR = "ADMIN_BEHAVIOUR"
    """Về hành vi hành chính: forwarded to the competent agency."""
    REGULATION_IN_SCOPE = "REGULATION_IN_SCOPE"
    """Về quy định hành chính thuộc thẩm quyền: handled by the receiving agency."""
    REGULATION_OUT_OF_SCOPE = "REGULATION_OUT_OF_SCOPE"
    """Về quy định hành chính ngoài thẩm quyền: forwarded within 5 working days."""


class Classification(WireModel):
    """The receiving agency's auditable classification of a petition."""

    label_vi: ClassVar[str] = "Phân loại phản ánh, kiến nghị"
    kind: Literal["classification"] = "classification"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    petition: DocumentRef
    issuer: OrganId
    issued_at: Timestamp
    classification: ClassificationCode
    sector: SectorCode | None = None
    competent_agency: OrganId | None = None
    reason: Text

    @model_validator(mode="after")
    def _consistent(self) -> Classification:
        refs_case(self.petition, self.case_id, "petition")
        if self.classification is not ClassificationCode.INVALID and self.sector is None:
            raise ValueError("a sector is required unless the classification is INVALID")
        forwards = self.classification in (
            ClassificationCode.ADMIN_BEHAVIOUR,
            ClassificationCode.REGULATION_OUT_OF_SCOPE,
        )
        if forwards and self.competent_agency is None:
            raise ValueError(f"{self.classification.value} requires a competent_agency")
        if not forwards and self.competent_agency is not None:
            raise ValueError(f"{self.classification.value} takes no competent_agency")
        return self


class InformationRequest(WireModel):
    """The agency asks the sender for missing information (no legal source; optional state)."""

    label_vi: ClassVar[str] = "Yêu cầu bổ sung thông tin"
    kind: Literal["information_request"] = "information_request"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    petition: DocumentRef
    issuer: OrganId
    issued_at: Timestamp
    missing: Annotated[tuple[Line, ...], ListToTuple, Field(min_length=1, max_length=20)]
    message: Text
    reply_by: Timestamp | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InformationRequest:
        refs_case(self.petition, self.case_id, "petition")
        return self


class InformationSupplement(WireModel):
    """The sender's answer to an InformationRequest, registered by the receiving agency."""

    label_vi: ClassVar[str] = "Bổ sung thông tin"
    kind: Literal["information_supplement"] = "information_supplement"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    request: DocumentRef
    recipient: OrganId
    issued_at: Timestamp
    content: Text
    attachments: Attachments = ()
