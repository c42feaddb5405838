"""Hypothesis strategies for every document kind (valid models only).

Shared by the JSON and XML round-trip tests: ``documents()`` draws any kind,
``DOCUMENT_STRATEGIES[kind]`` one kind. Text is NFC, free of control characters, and
includes Vietnamese letters and XML-special characters (``<&>"'``) to exercise escaping.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from pakn_sign.models import (
    DEFAULT_SECTORS,
    Answer,
    AnswerReturn,
    Attachment,
    Channel,
    CitizenFeedback,
    Classification,
    ClassificationCode,
    Deadline,
    DocumentRef,
    EdxmlStatus,
    FeedbackVerdict,
    Forwarding,
    InformationRequest,
    InformationSupplement,
    MediaType,
    Official,
    OrganisationSender,
    PdfLetter,
    PersonalId,
    PersonalIdType,
    PersonSender,
    Petition,
    Publication,
    Representative,
    StatusNotice,
)

VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY"
    "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
    "ÁÀẢÃẠẮẰẲẴẶẤẦẨẪẬÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ"
)
SAFE_ALPHABET = VIETNAMESE + " ,.;:()-/!?<>&\"'"
"""No digits and no "@": also valid in a Publication (redaction rule)."""
ALPHABET = SAFE_ALPHABET + "0123456789@"


def lines(max_size: int = 40, alphabet: str = ALPHABET) -> st.SearchStrategy[str]:
    """Single-line text: no surrounding blanks, not empty."""
    return (
        st.text(alphabet, min_size=1, max_size=max_size)
        .map(lambda s: " ".join(s.split()))
        .filter(bool)
    )


def texts(max_size: int = 120, alphabet: str = ALPHABET) -> st.SearchStrategy[str]:
    """Multi-line text (LF and TAB allowed), not blank."""
    return st.text(alphabet + "\n\t", min_size=1, max_size=max_size).filter(
        lambda s: bool(s.strip())
    )


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
timestamps = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=offsets,
)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))
organ_ids = st.from_regex(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-K][0-9]{2}", fullmatch=True)
sha256s = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
notations = st.from_regex(r"[A-ZĐ][A-ZĐ0-9-]{0,15}(/[A-ZĐ0-9-]{1,10})?", fullmatch=True)
emails = st.from_regex(r"[a-z0-9._+-]{1,20}@[a-z0-9-]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True)
phones = st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True)
sectors = st.sampled_from(sorted(DEFAULT_SECTORS))
account_ids = st.from_regex(r"[\x21-\x7e]{1,64}", fullmatch=True)


@st.composite
def document_ids(draw: st.DrawFn, organ: str | None = None) -> str:
    """An edXML DocumentId."""
    organ = organ or draw(organ_ids)
    number = draw(st.integers(0, 10**12 - 1))
    return f"{organ},{draw(dates):%Y/%m/%d},{number}/{draw(notations)}"


refs = st.builds(DocumentRef, document_id=document_ids(), sha256=sha256s)
file_names = lines(60).filter(lambda s: "/" not in s and "\\" not in s)
attachments = st.builds(
    Attachment,
    name=file_names,
    media_type=st.sampled_from(MediaType),
    size=st.integers(0, 100 * 1024 * 1024),
    sha256=sha256s,
)
deadlines = st.builds(
    Deadline,
    due_on=dates,
    rule=st.from_regex(r"[a-z0-9_.-]{1,64}", fullmatch=True),
    legal_source=lines(),
)
personal_ids = st.one_of(
    st.builds(
        PersonalId,
        type=st.just(PersonalIdType.CMND),
        number=st.from_regex(r"[0-9]{9}|[0-9]{12}", fullmatch=True),
    ),
    st.builds(
        PersonalId,
        type=st.just(PersonalIdType.CCCD),
        number=st.from_regex(r"[0-9]{12}", fullmatch=True),
    ),
    st.builds(
        PersonalId,
        type=st.just(PersonalIdType.HC),
        number=st.from_regex(r"[A-Z0-9]{6,12}", fullmatch=True),
    ),
)
senders = st.one_of(
    st.builds(
        PersonSender,
        full_name=lines(),
        address=lines(),
        phone=phones,
        email=emails,
        id_document=st.none() | personal_ids,
        portal_account_id=st.none() | account_ids,
    ),
    st.builds(
        OrganisationSender,
        name=lines(),
        tax_code=st.from_regex(r"[0-9]{10}(-[0-9]{3})?", fullmatch=True),
        representative=st.builds(Representative, full_name=lines(), position=st.none() | lines()),
        address=lines(),
        phone=phones,
        email=emails,
        portal_account_id=st.none() | account_ids,
    ),
)


def _case_ref(case_id: str) -> st.SearchStrategy[DocumentRef]:
    return st.builds(DocumentRef, document_id=st.just(case_id), sha256=sha256s)


@st.composite
def petitions(draw: st.DrawFn) -> Petition:
    """A valid Petition."""
    doc_id = draw(document_ids())
    return Petition(
        document_id=doc_id,
        case_id=doc_id,
        recipient=draw(organ_ids),
        received_at=draw(timestamps),
        channel=draw(st.sampled_from(Channel)),
        sender=draw(senders),
        title=draw(lines()),
        content=draw(texts()),
        sector=draw(st.none() | sectors),
        attachments=tuple(draw(st.lists(attachments, max_size=3))),
    )


@st.composite
def classifications(draw: st.DrawFn) -> Classification:
    """A valid Classification (sector and competent agency consistent with the class)."""
    case_id = draw(document_ids())
    code = draw(st.sampled_from(ClassificationCode))
    forwards = code in (
        ClassificationCode.ADMIN_BEHAVIOUR,
        ClassificationCode.REGULATION_OUT_OF_SCOPE,
    )
    sector = draw(st.none() | sectors) if code is ClassificationCode.INVALID else draw(sectors)
    return Classification(
        document_id=draw(document_ids()),
        case_id=case_id,
        petition=draw(_case_ref(case_id)),
        issuer=draw(organ_ids),
        issued_at=draw(timestamps),
        classification=code,
        sector=sector,
        competent_agency=draw(organ_ids) if forwards else None,
        reason=draw(texts()),
    )


@st.composite
def _common(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "document_id": draw(document_ids()),
        "case_id": draw(document_ids()),
        "issued_at": draw(timestamps),
    }


@st.composite
def information_requests(draw: st.DrawFn) -> InformationRequest:
    """A valid InformationRequest."""
    common = draw(_common())
    return InformationRequest(
        **common,
        petition=draw(_case_ref(common["case_id"])),
        issuer=draw(organ_ids),
        missing=tuple(draw(st.lists(lines(), min_size=1, max_size=4))),
        message=draw(texts()),
        reply_by=draw(st.none() | timestamps),
    )


@st.composite
def information_supplements(draw: st.DrawFn) -> InformationSupplement:
    """A valid InformationSupplement."""
    return InformationSupplement(
        **draw(_common()),
        request=draw(refs),
        recipient=draw(organ_ids),
        content=draw(texts()),
        attachments=tuple(draw(st.lists(attachments, max_size=3))),
    )


@st.composite
def forwardings(draw: st.DrawFn) -> Forwarding:
    """A valid Forwarding (target differs from issuer)."""
    common = draw(_common())
    issuer = draw(organ_ids)
    return Forwarding(
        **common,
        petition=draw(_case_ref(common["case_id"])),
        classification=draw(refs),
        issuer=issuer,
        to_agency=draw(organ_ids.filter(lambda o: o != issuer)),
        answer_due=draw(deadlines),
        note=draw(st.none() | texts()),
    )


@st.composite
def status_notices(draw: st.DrawFn) -> StatusNotice:
    """A valid StatusNotice (a progress update is status 05 with a description)."""
    progress = draw(st.booleans())
    status = EdxmlStatus.PROCESSING if progress else draw(st.sampled_from(EdxmlStatus))
    return StatusNotice(
        **draw(_common()),
        response_for=draw(refs),
        issuer=draw(organ_ids),
        status=status,
        progress_update=progress,
        description=draw(texts()) if progress else draw(st.none() | texts()),
    )


officials = st.builds(Official, full_name=lines(), position=lines(), competence=st.none() | lines())
letters = st.builds(
    PdfLetter, name=file_names, size=st.integers(1, 100 * 1024 * 1024), sha256=sha256s
)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    """A valid Answer."""
    return Answer(
        **draw(_common()),
        forwarding=draw(refs),
        issuer=draw(organ_ids),
        official=draw(officials),
        text=draw(texts()),
        letter=draw(st.none() | letters),
    )


@st.composite
def answer_returns(draw: st.DrawFn) -> AnswerReturn:
    """A valid AnswerReturn."""
    return AnswerReturn(
        **draw(_common()),
        answer=draw(refs),
        issuer=draw(organ_ids),
        reason=draw(texts()),
        answer_due=draw(st.none() | deadlines),
    )


@st.composite
def citizen_feedbacks(draw: st.DrawFn) -> CitizenFeedback:
    """A valid CitizenFeedback."""
    return CitizenFeedback(
        **draw(_common()),
        answer=draw(refs),
        recipient=draw(organ_ids),
        verdict=draw(st.sampled_from(FeedbackVerdict)),
        comment=draw(st.none() | texts()),
    )


@st.composite
def publications(draw: st.DrawFn) -> Publication:
    """A valid Publication (text free of e-mail and ID-number look-alikes)."""
    return Publication(
        **draw(_common()),
        answer=draw(refs),
        issuer=draw(organ_ids),
        title=draw(lines(alphabet=SAFE_ALPHABET)),
        sector=draw(sectors),
        petition_summary=draw(texts(alphabet=SAFE_ALPHABET)),
        answering_agency=draw(organ_ids),
        answer_text=draw(texts(alphabet=SAFE_ALPHABET)),
    )


DOCUMENT_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "petition": petitions(),
    "classification": classifications(),
    "information_request": information_requests(),
    "information_supplement": information_supplements(),
    "forwarding": forwardings(),
    "status_notice": status_notices(),
    "answer": answers(),
    "answer_return": answer_returns(),
    "citizen_feedback": citizen_feedbacks(),
    "publication": publications(),
}
"""kind -> strategy of valid documents of that kind."""


def documents() -> st.SearchStrategy[Any]:
    """Any valid document of any kind."""
    return st.one_of(*DOCUMENT_STRATEGIES.values())
