"""Build the example case: one document of every kind, all about one fictional petition.

Run ``.venv/bin/python examples/documents/make_examples.py`` to rewrite the ``<kind>.json``
files next to this script. Other code (tests, the XML codec) imports :func:`build_examples`,
so every format is made from the same models and the DocumentRef digests are always right.

The story (people and numbers are fictional): a citizen of Nghệ An proposes a change to the
land-registration procedure through the national portal in February 2026, just before Tết.
VPCP (000.00.00.G22) asks for missing details, classifies the PAKN as a regulation outside its
competence (sector TNMT) and forwards it to the ministry 000.00.00.G10 with a 20-day deadline.
The ministry posts a progress update, answers late, VPCP publishes the answer, the citizen
disagrees, and VPCP returns the answer for re-examination (final state REOPENED).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

from pakn_sign.models import (
    DEFAULT_RULES,
    Answer,
    AnswerReturn,
    Attachment,
    Channel,
    CitizenFeedback,
    Classification,
    ClassificationCode,
    Document,
    DocumentRef,
    EdxmlStatus,
    FeedbackVerdict,
    FixedHolidays,
    Forwarding,
    InformationRequest,
    InformationSupplement,
    MediaType,
    Official,
    PdfLetter,
    PersonalId,
    PersonalIdType,
    PersonSender,
    Petition,
    Publication,
    StatusNotice,
    WorkingCalendar,
)

__all__ = ["EXAMPLE_CALENDAR", "build_examples", "write_examples"]

VN = dt.timezone(dt.timedelta(hours=7))
VPCP = "000.00.00.G22"
MINISTRY = "000.00.00.G10"

# 2026 public holidays as announced (Tết 16-20 Feb), fixed so the examples do not change
# when the ``holidays`` package does.
EXAMPLE_CALENDAR = WorkingCalendar(
    FixedHolidays(
        [
            dt.date(2026, 1, 1),
            *(dt.date(2026, 2, d) for d in range(16, 21)),
            dt.date(2026, 4, 27),
            dt.date(2026, 4, 30),
            dt.date(2026, 5, 1),
            dt.date(2026, 8, 31),
            dt.date(2026, 9, 1),
            dt.date(2026, 9, 2),
        ]
    )
)


def _at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=VN)


def _digest(label: str) -> str:
    # Stand-in file contents: the examples bind attachments by digest only.
    return hashlib.sha256(f"pakn-sign example file: {label}".encode()).hexdigest()


def build_examples() -> list[Document]:
    """The ten example documents, in lifecycle order, with correct DocumentRef digests."""
    case = f"{VPCP},2026/02/09,1502/PAKN"
    petition = Petition(
        document_id=case,
        case_id=case,
        recipient=VPCP,
        received_at=_at(2, 9, 9, 15),
        channel=Channel.PORTAL,
        sender=PersonSender(
            full_name="Trần Thị Mai",
            address="Số 15 đường Nguyễn Du, phường Trường Thi, thành phố Vinh, tỉnh Nghệ An",
            phone="0900123456",
            email="tran.thi.mai@example.vn",
            id_document=PersonalId(type=PersonalIdType.CCCD, number="040190000123"),
            portal_account_id="dvcqg-7f3a9c21",
        ),
        title="Kiến nghị đơn giản hóa thủ tục đăng ký biến động đất đai",
        content=(
            "Kính gửi Văn phòng Chính phủ,\n"
            "Khi làm thủ tục đăng ký biến động quyền sử dụng đất, người dân phải nộp lại bản "
            "sao giấy tờ mà cơ quan nhà nước đã lưu trong hồ sơ địa chính.\n"
            "Tôi kiến nghị sửa quy định để cơ quan đăng ký tự khai thác dữ liệu đã có, "
            "giảm giấy tờ và thời gian đi lại cho người dân."
        ),
        sector="TNMT",
    )
    request = InformationRequest(
        document_id=f"{VPCP},2026/02/10,1531/VPCP-PAKN",
        case_id=case,
        petition=DocumentRef.of(petition),
        issuer=VPCP,
        issued_at=_at(2, 10, 10),
        missing=("Tên thủ tục hành chính đã thực hiện", "Cơ quan đã tiếp nhận hồ sơ"),
        message="Đề nghị bà bổ sung thông tin để Văn phòng Chính phủ có cơ sở xử lý kiến nghị.",
    )
    supplement = InformationSupplement(
        document_id=f"{VPCP},2026/02/11,1544/PAKN",
        case_id=case,
        request=DocumentRef.of(request),
        recipient=VPCP,
        issued_at=_at(2, 11, 20, 30),
        content=(
            "Thủ tục: đăng ký biến động quyền sử dụng đất do chuyển nhượng.\n"
            "Cơ quan tiếp nhận: Chi nhánh Văn phòng đăng ký đất đai thành phố Vinh."
        ),
        attachments=(
            Attachment(
                name="Giấy tiếp nhận hồ sơ.pdf",
                media_type=MediaType.PDF,
                size=182_044,
                sha256=_digest("giay-tiep-nhan-ho-so.pdf"),
            ),
        ),
    )
    classification = Classification(
        document_id=f"{VPCP},2026/02/12,1560/VPCP-PAKN",
        case_id=case,
        petition=DocumentRef.of(petition),
        issuer=VPCP,
        issued_at=_at(2, 12, 14),
        classification=ClassificationCode.REGULATION_OUT_OF_SCOPE,
        sector="TNMT",
        competent_agency=MINISTRY,
        reason="Kiến nghị về quy định thủ tục đăng ký đất đai thuộc thẩm quyền của Bộ.",
    )
    forwarding = Forwarding(
        document_id=f"{VPCP},2026/02/13,1187/VPCP-ĐMDN",
        case_id=case,
        petition=DocumentRef.of(petition),
        classification=DocumentRef.of(classification),
        issuer=VPCP,
        issued_at=_at(2, 13, 16),
        to_agency=MINISTRY,
        answer_due=DEFAULT_RULES.answer.deadline(_at(2, 13, 16), EXAMPLE_CALENDAR),
        note="Đề nghị Bộ xem xét, trả lời người dân và gửi kết quả về Văn phòng Chính phủ.",
    )
    progress = StatusNotice(
        document_id=f"{MINISTRY},2026/03/10,215/BNNMT-PC",
        case_id=case,
        response_for=DocumentRef.of(forwarding),
        issuer=MINISTRY,
        issued_at=_at(3, 10, 9),
        status=EdxmlStatus.PROCESSING,
        progress_update=True,
        description=(
            "Bộ đang lấy ý kiến các đơn vị về việc sửa đổi quy định; "
            "dự kiến trả lời trước ngày 20/3/2026."
        ),
    )
    answer = Answer(
        document_id=f"{MINISTRY},2026/03/16,1042/BNNMT-PC",
        case_id=case,
        forwarding=DocumentRef.of(forwarding),
        issuer=MINISTRY,
        issued_at=_at(3, 16, 15, 30),
        official=Official(
            full_name="Lê Văn Hùng", position="Vụ trưởng Vụ Pháp chế", competence="TL. BỘ TRƯỞNG"
        ),
        text=(
            "Bộ ghi nhận kiến nghị. Dự thảo nghị định sửa đổi đã quy định cơ quan đăng ký đất đai "
            "khai thác dữ liệu từ cơ sở dữ liệu đất đai, người dân không phải nộp lại bản sao "
            "giấy tờ đã có trong hồ sơ địa chính."
        ),
        letter=PdfLetter(
            name="1042-BNNMT-PC.pdf", size=245_760, sha256=_digest("1042-BNNMT-PC.pdf")
        ),
    )
    publication = Publication(
        document_id=f"{VPCP},2026/03/20,1799/VPCP-PAKN",
        case_id=case,
        answer=DocumentRef.of(answer),
        issuer=VPCP,
        issued_at=_at(3, 20, 10),
        title=petition.title,
        sector="TNMT",
        petition_summary=(
            "Người dân tỉnh Nghệ An kiến nghị cơ quan đăng ký đất đai tự khai thác dữ liệu đã "
            "lưu, không yêu cầu nộp lại bản sao giấy tờ khi đăng ký biến động."
        ),
        answering_agency=MINISTRY,
        answer_text=answer.text,
    )
    feedback = CitizenFeedback(
        document_id=f"{VPCP},2026/03/23,1840/PAKN",
        case_id=case,
        answer=DocumentRef.of(answer),
        recipient=VPCP,
        issued_at=_at(3, 23, 19, 45),
        verdict=FeedbackVerdict.DISAGREE,
        comment="Câu trả lời chưa nêu thời điểm quy định mới có hiệu lực.",
    )
    answer_return = AnswerReturn(
        document_id=f"{VPCP},2026/03/25,1872/VPCP-PAKN",
        case_id=case,
        answer=DocumentRef.of(answer),
        issuer=VPCP,
        issued_at=_at(3, 25, 8, 30),
        reason="Người dân chưa đồng ý; đề nghị Bộ bổ sung thời điểm áp dụng quy định mới.",
        answer_due=DEFAULT_RULES.answer.deadline(_at(3, 25, 8, 30), EXAMPLE_CALENDAR),
    )
    return [
        petition,
        request,
        supplement,
        classification,
        forwarding,
        progress,
        answer,
        publication,
        feedback,
        answer_return,
    ]


def example_json(doc: Document) -> bytes:
    """The example file's bytes: sorted keys, two-space indent, UTF-8, trailing newline."""
    data = json.loads(doc.model_dump_json())
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def write_examples(directory: Path) -> list[Path]:
    """Write ``<kind>.json`` for every example into ``directory``; return the paths."""
    paths = []
    for doc in build_examples():
        path = directory / f"{doc.kind}.json"
        path.write_bytes(example_json(doc))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_examples(Path(__file__).resolve().parent):
        sys.stdout.write(f"{written.name}\n")
