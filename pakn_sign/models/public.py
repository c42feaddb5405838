"""What the public sees and says: the citizen's feedback and the published record.

Redaction rule (our own; no PAKN-specific rule was found, DOMAIN.md §4 [NF]): a Publication
has **no field for personal data** (no sender, address, phone, e-mail, ID or tax number:
the basic personal data of Decree 13/2023 Art. 2(3), Law 91/2025 from 01/01/2026), and its
free text is refused if it still holds something that looks like an e-mail address or a
run of 9 or more digits (phone, CMND/CCCD, MST), optionally separated by spaces or dashes.
Write amounts with dots (1.000.000.000) so they are not mistaken for identifiers.
"""

from __future__ import annotations

import enum
import re
from typing import ClassVar, Literal

from pydantic import model_validator

from ._base import Line, Text, Timestamp, WireModel
from .common import DocumentRef
from .identifiers import DocumentId, OrganId, SectorCode

__all__ = ["PERSONAL_DATA_PATTERNS", "CitizenFeedback", "FeedbackVerdict", "Publication"]


class FeedbackVerdict(enum.StrEnum):
    """Whether the citizen agrees with the answer (no legal source; optional state)."""

    AGREE = "agree"
    DISAGREE = "disagree"


class CitizenFeedback(WireModel):
    """The sender's verdict on a published answer; a disagreement may reopen the case."""

    label_vi: ClassVar[str] = "Ý kiến của người phản ánh, kiến nghị"
    kind: Literal["citizen_feedback"] = "citizen_feedback"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    answer: DocumentRef
    recipient: OrganId
    issued_at: Timestamp
    verdict: FeedbackVerdict
    comment: Text | None = None


PERSONAL_DATA_PATTERNS: dict[str, re.Pattern[str]] = {
    "e-mail address": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "phone or identity number": re.compile(r"\d(?:[ -]?\d){8,}"),
}
"""What Publication text must not contain (see the module docstring)."""


class Publication(WireModel):
    """The published record: a redacted petition summary and the answer (Decision 31/2021
    Art. 46; Decree 20/2008 Chapter V). Personal data has no field here by design."""

    label_vi: ClassVar[str] = "Công khai kết quả trả lời"
    kind: Literal["publication"] = "publication"
    schema_version: Literal["1"] = "1"
    document_id: DocumentId
    case_id: DocumentId
    answer: DocumentRef
    issuer: OrganId
    issued_at: Timestamp
    title: Line
    sector: SectorCode
    petition_summary: Text
    answering_agency: OrganId
    answer_text: Text

    @model_validator(mode="after")
    def _redacted(self) -> Publication:
        for name in ("title", "petition_summary", "answer_text"):
            value = getattr(self, name)
            for what, pattern in PERSONAL_DATA_PATTERNS.items():
                if pattern.search(value):
                    raise ValueError(f"{name} still holds what looks like a {what}; redact it")
        return self
