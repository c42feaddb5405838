"""Case lifecycle: transitions, illegal ones, deadlines on the working-day calendar."""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
from pathlib import Path
from typing import Any

import pytest

from pakn_sign.errors import ConfigurationError, LifecycleError
from pakn_sign.models import (
    DEFAULT_RULES,
    MOHA_852_RULES,
    TRANSITIONS,
    Answer,
    AnswerReturn,
    Case,
    CaseState,
    Channel,
    CitizenFeedback,
    Classification,
    ClassificationCode,
    DayCount,
    DeadlinePurpose,
    DocumentRef,
    EdxmlStatus,
    FeedbackVerdict,
    FixedHolidays,
    Forwarding,
    Official,
    Petition,
    Publication,
    StatusNotice,
    VietnamHolidays,
    WorkingCalendar,
)

ROOT = Path(__file__).resolve().parent.parent
VN = dt.timezone(dt.timedelta(hours=7))
VPCP, MINISTRY, PROVINCE = "000.00.00.G22", "000.00.00.G10", "000.00.00.H41"
NO_HOLIDAYS = WorkingCalendar(FixedHolidays([]))
S = CaseState


def _load_examples() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_examples", ROOT / "examples" / "documents" / "make_examples.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EX = _load_examples()


def at(month: int, day: int, hour: int = 9, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=VN)


class Builder:
    """Makes one case's documents with consistent ids and digests."""

    def __init__(self, received: dt.datetime):
        self.n = 0
        self.case = f"{VPCP},{received:%Y/%m/%d},1/PAKN"
        self.petition = Petition(
            document_id=self.case,
            case_id=self.case,
            recipient=VPCP,
            received_at=received,
            channel=Channel.PORTAL,
            sender=EX.build_examples()[0].sender,
            title="Kiến nghị về thủ tục hành chính",
            content="Nội dung kiến nghị.",
        )

    def _id(self, organ: str, when: dt.datetime) -> str:
        self.n += 1
        return f"{organ},{when:%Y/%m/%d},{100 + self.n}/X"

    def classify(self, code: ClassificationCode, when: dt.datetime) -> Classification:
        forwards = code in (
            ClassificationCode.ADMIN_BEHAVIOUR,
            ClassificationCode.REGULATION_OUT_OF_SCOPE,
        )
        return Classification(
            document_id=self._id(VPCP, when),
            case_id=self.case,
            petition=DocumentRef.of(self.petition),
            issuer=VPCP,
            issued_at=when,
            classification=code,
            sector=None if code is ClassificationCode.INVALID else "TNMT",
            competent_agency=MINISTRY if forwards else None,
            reason="Lý do phân loại.",
        )

    def forward(
        self,
        cls: Classification,
        when: dt.datetime,
        to: str = MINISTRY,
        cal: WorkingCalendar = NO_HOLIDAYS,
    ) -> Forwarding:
        return Forwarding(
            document_id=self._id(VPCP, when),
            case_id=self.case,
            petition=DocumentRef.of(self.petition),
            classification=DocumentRef.of(cls),
            issuer=VPCP,
            issued_at=when,
            to_agency=to,
            answer_due=DEFAULT_RULES.answer.deadline(when, cal),
        )

    def status(
        self, about: Any, when: dt.datetime, code: EdxmlStatus, *, progress: bool = False
    ) -> StatusNotice:
        return StatusNotice(
            document_id=self._id(MINISTRY, when),
            case_id=self.case,
            response_for=DocumentRef.of(about),
            issuer=MINISTRY,
            issued_at=when,
            status=code,
            progress_update=progress,
            description="Đang xử lý." if progress else None,
        )

    def answer(self, handling: Any, when: dt.datetime) -> Answer:
        return Answer(
            document_id=self._id(MINISTRY, when),
            case_id=self.case,
            forwarding=DocumentRef.of(handling),
            issuer=MINISTRY,
            issued_at=when,
            official=Official(full_name="Lê Văn Hùng", position="Vụ trưởng"),
            text="Trả lời.",
        )

    def give_back(self, answer: Answer, when: dt.datetime) -> AnswerReturn:
        return AnswerReturn(
            document_id=self._id(VPCP, when),
            case_id=self.case,
            answer=DocumentRef.of(answer),
            issuer=VPCP,
            issued_at=when,
            reason="Chưa phù hợp.",
        )

    def publish(self, answer: Answer, when: dt.datetime) -> Publication:
        return Publication(
            document_id=self._id(VPCP, when),
            case_id=self.case,
            answer=DocumentRef.of(answer),
            issuer=VPCP,
            issued_at=when,
            title="Kiến nghị",
            sector="TNMT",
            petition_summary="Tóm tắt.",
            answering_agency=MINISTRY,
            answer_text="Trả lời.",
        )

    def feedback(
        self, answer: Answer, when: dt.datetime, verdict: FeedbackVerdict
    ) -> CitizenFeedback:
        return CitizenFeedback(
            document_id=self._id(VPCP, when),
            case_id=self.case,
            answer=DocumentRef.of(answer),
            recipient=VPCP,
            issued_at=when,
            verdict=verdict,
        )


def case_of(*docs: Any, **kw: Any) -> Case:
    kw.setdefault("calendar", NO_HOLIDAYS)
    return Case.from_documents(docs, **kw)


# --- transitions -------------------------------------------------------------------------


def test_example_case_replays_to_reopened() -> None:
    case = Case.from_documents(EX.build_examples(), calendar=EX.EXAMPLE_CALENDAR)
    assert case.state is S.REOPENED
    assert [t.after for t in case.history] == [
        S.RECEIVED,
        S.MORE_INFO_REQUESTED,
        S.RECEIVED,
        S.CLASSIFIED,
        S.FORWARDED,
        S.IN_PROGRESS,
        S.ANSWERED,
        S.PUBLISHED,
        S.CITIZEN_DISPUTED,
        S.REOPENED,
    ]
    assert case.case_id == EX.build_examples()[0].document_id


def test_order_of_input_does_not_matter() -> None:
    docs = EX.build_examples()
    random.Random(7).shuffle(docs)
    assert Case.from_documents(docs, calendar=EX.EXAMPLE_CALENDAR).state is S.REOPENED


def test_in_scope_path_with_rework_publication_and_acceptance() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.REGULATION_IN_SCOPE, at(3, 3))
    first = b.answer(cls, at(3, 10))
    back = b.give_back(first, at(3, 11))
    again = b.answer(cls, at(3, 13))
    pub = b.publish(again, at(3, 16))
    ok = b.feedback(again, at(3, 17), FeedbackVerdict.AGREE)
    case = case_of(b.petition, cls, first, back, again, pub, ok)
    assert [t.after for t in case.history] == [
        S.RECEIVED,
        S.IN_PROGRESS,
        S.ANSWERED,
        S.RETURNED_FOR_REWORK,
        S.ANSWERED,
        S.PUBLISHED,
        S.CITIZEN_ACCEPTED,
    ]


def test_invalid_petition_is_final() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.INVALID, at(3, 3))
    assert case_of(b.petition, cls).state is S.REJECTED_INVALID
    fwd = b.forward(cls, at(3, 4))
    with pytest.raises(LifecycleError) as info:
        case_of(b.petition, cls, fwd)
    message = str(info.value)
    assert fwd.document_id in message
    assert "REJECTED_INVALID" in message
    assert "forwarded" in message
    assert info.value.location == fwd.document_id


def test_rejected_forwarding_goes_back_to_classified_and_is_forwarded_again() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    fwd = b.forward(cls, at(3, 4))
    no = b.status(fwd, at(3, 5), EdxmlStatus.REJECTED)
    fwd2 = b.forward(cls, at(3, 6), to=PROVINCE)
    case = case_of(b.petition, cls, fwd, no, fwd2)
    assert [t.after for t in case.history][-3:] == [S.FORWARDED, S.CLASSIFIED, S.FORWARDED]
    answers = [d for d in case.deadlines if d.purpose is DeadlinePurpose.ANSWER]
    assert [d.met_by for d in answers] == [fwd2.document_id, None]  # superseded, then open


def test_informational_status_keeps_the_state() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    fwd = b.forward(cls, at(3, 4))
    arrived = b.status(fwd, at(3, 4, 10), EdxmlStatus.ARRIVED)
    assert case_of(b.petition, cls, fwd, arrived).state is S.FORWARDED
    accepted = b.status(fwd, at(3, 5), EdxmlStatus.ACCEPTED)
    assert case_of(b.petition, cls, fwd, arrived, accepted).state is S.IN_PROGRESS


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda b, c, f: [b.publish(b.answer(f, at(3, 9)), at(3, 8))], id="publish_before_answer"
        ),
        pytest.param(
            lambda b, c, f: [b.status(f, at(3, 5), EdxmlStatus.REJECTED), b.answer(f, at(3, 6))],
            id="answer_after_rejection",
        ),
        pytest.param(
            lambda b, c, f: [b.feedback(b.answer(f, at(3, 9)), at(3, 10), FeedbackVerdict.AGREE)],
            id="feedback_before_answer",
        ),
    ],
)
def test_illegal_transitions(make: Any) -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    fwd = b.forward(cls, at(3, 4))
    with pytest.raises(LifecycleError):
        case_of(b.petition, cls, fwd, *make(b, cls, fwd))


def test_feedback_before_publication_is_illegal_and_names_states() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    fwd = b.forward(cls, at(3, 4))
    ans = b.answer(fwd, at(3, 9))
    fb = b.feedback(ans, at(3, 10), FeedbackVerdict.DISAGREE)
    with pytest.raises(LifecycleError, match=r"feedback_disagree in state ANSWERED"):
        case_of(b.petition, cls, fwd, ans, fb)


def test_optional_states_can_be_switched_off() -> None:
    docs = EX.build_examples()
    with pytest.raises(LifecycleError, match="info_requested"):
        Case.from_documents(docs, calendar=EX.EXAMPLE_CALENDAR, optional_states=False)


def test_reference_with_wrong_digest_is_refused() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    fwd = b.forward(cls, at(3, 4))
    forged = fwd.model_copy(
        update={"classification": DocumentRef(document_id=cls.document_id, sha256="0" * 64)}
    )
    with pytest.raises(LifecycleError, match="digest does not match"):
        case_of(b.petition, cls, forged)


def test_reference_to_a_missing_or_later_document_is_refused() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    fwd = b.forward(cls, at(3, 4))
    with pytest.raises(LifecycleError, match="not earlier in the case"):
        case_of(b.petition, fwd)


def test_answer_must_bind_a_forwarding_or_in_scope_classification() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    fwd = b.forward(cls, at(3, 4))
    with pytest.raises(LifecycleError, match="in-scope classification"):
        case_of(b.petition, cls, fwd, b.answer(cls, at(3, 9)))


def test_publication_must_bind_the_latest_answer() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.REGULATION_IN_SCOPE, at(3, 3))
    first = b.answer(cls, at(3, 10))
    back = b.give_back(first, at(3, 11))
    again = b.answer(cls, at(3, 13))
    with pytest.raises(LifecycleError, match="latest answer"):
        case_of(b.petition, cls, first, back, again, b.publish(first, at(3, 16)))


def test_case_integrity_errors() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 3))
    with pytest.raises(LifecycleError, match="at least"):
        case_of()
    with pytest.raises(LifecycleError, match="start with its petition"):
        case_of(cls)
    with pytest.raises(LifecycleError, match="twice"):
        case_of(b.petition, cls, cls)
    other = Builder(at(3, 1))
    with pytest.raises(LifecycleError, match="belongs to case"):
        case_of(b.petition, other.classify(ClassificationCode.INVALID, at(3, 3)))
    # A second petition cannot join: its case_id is its own id, and no transition takes it.
    assert not any(event == "petition" for (_, event) in TRANSITIONS)


def test_transition_table_is_explicit_and_closed() -> None:
    assert (S.ANSWERED, "published") in TRANSITIONS
    assert (S.RETURNED_FOR_REWORK, "published") not in TRANSITIONS  # Art. 46: return first
    assert all(isinstance(v, CaseState) for v in TRANSITIONS.values())


# --- calendar and deadlines ----------------------------------------------------------------


def test_vietnam_holidays_know_tet_2026_and_2027() -> None:
    vn = VietnamHolidays()
    assert vn.is_holiday(dt.date(2026, 2, 17))  # Mùng 1 Tết Bính Ngọ
    assert all(vn.is_holiday(dt.date(2026, 2, d)) for d in range(16, 21))
    assert vn.is_holiday(dt.date(2027, 2, 6))  # Mùng 1 Tết Đinh Mùi (lunar)
    assert vn.is_holiday(dt.date(2026, 9, 2))
    assert not vn.is_holiday(dt.date(2026, 2, 23))


def test_working_days_across_a_weekend() -> None:
    # Thursday 12/03/2026: Fri 13, Mon 16, Tue 17, Wed 18, Thu 19.
    assert NO_HOLIDAYS.add_working_days(dt.date(2026, 3, 12), 5) == dt.date(2026, 3, 19)
    assert NO_HOLIDAYS.add_working_days(dt.date(2026, 3, 14), 1) == dt.date(2026, 3, 16)


def test_forwarding_deadline_across_tet_with_the_holidays_package() -> None:
    # Received Fri 13/02/2026; 14-22/02 are weekend or Tết; 5th working day is Fri 27/02.
    b = Builder(at(2, 13, 11))
    cls = b.classify(ClassificationCode.REGULATION_OUT_OF_SCOPE, at(2, 13, 15))
    case = case_of(b.petition, cls, calendar=WorkingCalendar())
    (fwd_deadline,) = [d for d in case.deadlines if d.purpose is DeadlinePurpose.FORWARD]
    assert fwd_deadline.due_on == dt.date(2026, 2, 27)
    assert fwd_deadline.rule == "nd92-2017.forward"
    assert "92/2017" in fwd_deadline.legal_source


def test_calendar_day_deadline_ending_in_tet_rolls_forward() -> None:
    cal = WorkingCalendar(FixedHolidays([dt.date(2026, 2, d) for d in range(16, 21)]))
    start = at(1, 28)  # +20 days = Tue 17/02, Tết
    assert DEFAULT_RULES.answer.due_on(start, cal) == dt.date(2026, 2, 23)
    no_roll = DEFAULT_RULES.answer.__class__(
        **{**_fields(DEFAULT_RULES.answer), "roll_forward": False}
    )
    assert no_roll.due_on(start, cal) == dt.date(2026, 2, 17)


def _fields(rule: Any) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in rule.__slots__}


def test_deadlines_use_vietnam_local_date() -> None:
    # 20:00 UTC on 1 March is already 2 March in Vietnam.
    start = dt.datetime(2026, 3, 1, 20, tzinfo=dt.UTC)
    assert DEFAULT_RULES.answer.due_on(start, NO_HOLIDAYS) == dt.date(2026, 3, 23)  # 22nd is Sun


def test_answer_overdue_at_injected_times() -> None:
    case = Case.from_documents(EX.build_examples()[:5], calendar=EX.EXAMPLE_CALENDAR)
    (answer,) = [d for d in case.deadlines if d.purpose is DeadlinePurpose.ANSWER]
    assert answer.due_on == dt.date(2026, 3, 5)
    assert case.overdue(at=dt.datetime(2026, 3, 5, 23, 59, tzinfo=VN)) == ()
    late = case.overdue(at=dt.datetime(2026, 3, 5, 17, 30, tzinfo=dt.UTC))  # 00:30 on 6/3 in VN
    assert answer in late


def test_forward_deadline_met_and_not_overdue() -> None:
    case = Case.from_documents(EX.build_examples()[:5], calendar=EX.EXAMPLE_CALENDAR)
    (fwd,) = [d for d in case.deadlines if d.purpose is DeadlinePurpose.FORWARD]
    assert fwd.due_on == dt.date(2026, 2, 23)  # 5 working days from 9/2 across Tết
    assert fwd.met_at == at(2, 13, 16)
    assert not fwd.was_late(case.calendar)
    assert fwd not in case.overdue(at=at(4, 1))


def test_overdue_needs_an_aware_time() -> None:
    case = Case.from_documents(EX.build_examples()[:5], calendar=EX.EXAMPLE_CALENDAR)
    with pytest.raises(ConfigurationError):
        case.overdue(at=dt.datetime(2026, 3, 6))


def test_progress_update_cadence() -> None:
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 2, 15))
    fwd = b.forward(cls, at(3, 3))  # answer due 23/03 (Mon)
    assert fwd.answer_due.due_on == dt.date(2026, 3, 23)
    u1 = b.status(fwd, at(3, 27), EdxmlStatus.PROCESSING, progress=True)
    u2 = b.status(fwd, at(4, 2), EdxmlStatus.PROCESSING, progress=True)
    docs = [b.petition, cls, fwd]

    def progress(case: Case) -> list[tuple[dt.date, str | None]]:
        return [
            (d.due_on, d.met_by)
            for d in case.deadlines
            if d.purpose is DeadlinePurpose.PROGRESS_UPDATE
        ]

    case = case_of(*docs)
    assert progress(case) == [(dt.date(2026, 3, 30), None)]  # 7 days after the answer was due
    assert [d.purpose for d in case.overdue(at=at(3, 31))] == [
        DeadlinePurpose.ANSWER,
        DeadlinePurpose.PROGRESS_UPDATE,
    ]
    case = case_of(*docs, u1, u2)
    assert progress(case) == [
        (dt.date(2026, 3, 30), u1.document_id),
        (dt.date(2026, 4, 3), u2.document_id),
        (dt.date(2026, 4, 9), None),
    ]
    assert [d.purpose for d in case.overdue(at=at(4, 9, 23))] == [DeadlinePurpose.ANSWER]
    assert DeadlinePurpose.PROGRESS_UPDATE in [d.purpose for d in case.overdue(at=at(4, 10))]
    answered = case_of(*docs, u1, u2, b.answer(fwd, at(4, 8)))
    assert answered.overdue(at=at(5, 1)) == ()


def test_moha_rules_count_progress_updates_in_working_days() -> None:
    assert MOHA_852_RULES.progress_update.count is DayCount.WORKING
    assert MOHA_852_RULES.answer == DEFAULT_RULES.answer
    b = Builder(at(3, 2))
    cls = b.classify(ClassificationCode.ADMIN_BEHAVIOUR, at(3, 2, 15))
    fwd = b.forward(cls, at(3, 3))
    case = case_of(b.petition, cls, fwd, rules=MOHA_852_RULES)
    (p,) = [d for d in case.deadlines if d.purpose is DeadlinePurpose.PROGRESS_UPDATE]
    assert p.due_on == dt.date(2026, 4, 1)  # 7 working days after Mon 23/03


def test_returned_answer_opens_a_new_answer_deadline() -> None:
    case = Case.from_documents(EX.build_examples(), calendar=EX.EXAMPLE_CALENDAR)
    open_ = [d for d in case.deadlines if d.met_at is None]
    assert [d.purpose for d in open_] == [DeadlinePurpose.ANSWER, DeadlinePurpose.PROGRESS_UPDATE]
    assert open_[0].due_on == dt.date(2026, 4, 14)
    first_answer = next(d for d in case.deadlines if d.purpose is DeadlinePurpose.ANSWER)
    assert first_answer.was_late(case.calendar)  # due 5/3, answered 16/3
