"""Handling by the competent agency: forwarding, status notices, answers and returns
(DOMAIN.md §1.1 Decree 92/2017, Decision 574/QĐ-TTg, Decision 31/2021 Art. 46; §2 edXML)."""

from __future__ import annotations

import enum
from typing import ClassVar, Literal

from pydantic import model_validator

from ._base import Text, Timestamp, WireModel
from .common import Deadline, DocumentRef, Official, PdfLetter, refs_case
from .identifiers import DocumentId, OrganId

__all__ = ["Answer", "AnswerReturn", "EdxmlStatus", "Forwarding", "StatusNotice"]


class Forwarding(WireModel):
    """VPCP (or another receiver) forwards the signed petition, unchanged, to the competent
    agency with an answer deadline (edXML edoc, ``BussinessDocType=0``)."""

    label_vi: ClassVar[str] = "Chuyển phản ánh, kiến nghị"
    kind: Literal["forwarding"] = "forwarding"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    petition: DocumentRef
    classification: DocumentRef
    issuer: OrganId
    issued_at: Timestamp
    to_agency: OrganId
    answer_due: Deadline
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Forwarding:
        refs_case(self.petition, self.case_id, "petition")
        if self.to_agency == self.issuer:
            raise ValueError("to_agency must differ from the issuer")
        return self


class EdxmlStatus(enum.StrEnum):
    """edXML status codes (QCVN 102:2016 status packages; DOMAIN.md §2 table)."""

    ARRIVED = "01"
    REJECTED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    FINISHED = "06"
    RECALL_REQUESTED = "13"
    CHANGE_ACCEPTED = "15"
    CHANGE_REJECTED = "16"

    @property
    def label_vi(self) -> str:
        """The Vietnamese label."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    EdxmlStatus.ARRIVED: "Đã đến",
    EdxmlStatus.REJECTED: "Từ chối tiếp nhận",
    EdxmlStatus.ACCEPTED: "Đã tiếp nhận",
    EdxmlStatus.ASSIGNED: "Lãnh đạo phân công xử lý",
    EdxmlStatus.PROCESSING: "Đang xử lý",
    EdxmlStatus.FINISHED: "Hoàn thành",
    EdxmlStatus.RECALL_REQUESTED: "Yêu cầu lấy lại",
    EdxmlStatus.CHANGE_ACCEPTED: "Đồng ý lấy lại / cập nhật",
    EdxmlStatus.CHANGE_REJECTED: "Từ chối lấy lại / cập nhật",
}


class StatusNotice(WireModel):
    """A status message about an earlier document (edXML ``MessageStatus``/``ResponseFor``).

    A PAKN progress update (the 7-day update of Decision 574) is status 05 with
    ``progress_update`` true and a ``description`` (DOMAIN.md §6 item 4).
    """

    label_vi: ClassVar[str] = "Thông báo trạng thái"
    kind: Literal["status_notice"] = "status_notice"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    response_for: DocumentRef
    issuer: OrganId
    issued_at: Timestamp
    status: EdxmlStatus
    progress_update: bool = False
    description: Text | None = None

    @model_validator(mode="after")
    def _progress_is_05(self) -> StatusNotice:
        if self.progress_update:
            if self.status is not EdxmlStatus.PROCESSING:
                raise ValueError("a progress update must carry status 05 (Đang xử lý)")
            if self.description is None:
                raise ValueError("a progress update needs a description")
        return self


class Answer(WireModel):
    """The competent agency's answer, bound to the forwarding by id and digest.

    For a REGULATION_IN_SCOPE petition (no forwarding) ``forwarding`` refers to the
    Classification instead (our choice; see docs/documents.md).
    """

    label_vi: ClassVar[str] = "Văn bản trả lời"
    kind: Literal["answer"] = "answer"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    forwarding: DocumentRef
    issuer: OrganId
    issued_at: Timestamp
    official: Official
    text: Text
    letter: PdfLetter | None = None


class AnswerReturn(WireModel):
    """An answer sent back for rework before publication (Decision 31/2021 Art. 46), or,
    after a citizen disputes a published answer, for re-examination (optional state)."""

    label_vi: ClassVar[str] = "Trả lại văn bản trả lời"
    kind: Literal["answer_return"] = "answer_return"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    answer: DocumentRef
    issuer: OrganId
    issued_at: Timestamp
    reason: Text
    answer_due: Deadline | None = None
