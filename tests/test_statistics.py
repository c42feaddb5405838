"""Quarterly PAKN statistics: VPCP's 2017 report from counts, figures from real cases as of an
instant, period boundaries in Vietnam dates, renderings, and the ``pakn-sign report`` CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, example_documents

from pakn_sign.cli.main import main
from pakn_sign.codec.xmlcodec import to_xml
from pakn_sign.errors import ConfigurationError
from pakn_sign.models import (
    Answer,
    AnswerReturn,
    Case,
    CaseState,
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
    Official,
    Petition,
    Publication,
    StatusNotice,
    WorkingCalendar,
)
from pakn_sign.models.deadlines import DEFAULT_RULES
from pakn_sign.models.statistics import QuarterlyReport, quarterly_report, share

VN = dt.timezone(dt.timedelta(hours=7))
VPCP, MINISTRY, PROVINCE = "000.00.00.G22", "000.00.00.G10", "000.00.00.H41"
NO_HOLIDAYS = WorkingCalendar(FixedHolidays([]))
Q3_START, Q3_END = dt.date(2017, 7, 1), dt.date(2017, 9, 30)
END_OF_Q3 = dt.datetime(2017, 9, 30, 23, 59, 59, 999999, tzinfo=VN)
SENDER = example_documents()[0].sender

# --- (a) VPCP's 2017 report, reproduced from its counts ------------------------------------

# As printed (DOMAIN.md "The system in one page"); 81.43 / 18.57 are the report's rounding quirk.
PRINTED_2017 = {
    "admin_behaviour": Decimal("81.43"),
    "regulations": Decimal("18.57"),
    "sector:TNMT": Decimal("44.55"),
    "sector:LDTBXH": Decimal("11.51"),
    "sector:XD": Decimal("7.3"),
    "answered": Decimal("51.64"),
    "still_handled": Decimal("48.36"),
}


def report_2017(**override: Any) -> QuarterlyReport:
    counts: dict[str, Any] = {
        "period_start": dt.date(2017, 4, 3),
        "period_end": dt.date(2017, 9, 30),
        "at": END_OF_Q3,
        "received": 4302,
        "in_scope": 808,
        "admin_behaviour": 658,
        "regulations": 150,
        "sectors": {"TNMT": 360, "LDTBXH": 93, "XD": 59},
        "forwarded": 457,
        "awaiting_information": 351,
        "answered": 236,
        "still_handled": 221,
    }
    return QuarterlyReport.from_counts(**(counts | override))


def test_2017_report_counts_and_totals_hold() -> None:
    r = report_2017()
    assert (r.received, r.in_scope, r.admin_behaviour, r.regulations) == (4302, 808, 658, 150)
    assert r.admin_behaviour + r.regulations == r.in_scope == 808
    assert r.forwarded + r.awaiting_information == r.in_scope
    assert r.answered + r.still_handled == r.forwarded == r.handling == 457
    assert [(s.code, s.count) for s in r.sectors] == [("TNMT", 360), ("LDTBXH", 93), ("XD", 59)]
    assert not r.sectors_complete  # the other sectors are not itemised
    assert r.not_accepted == 4302 - 808


def test_2017_shares_within_a_hundredth_of_the_printed_report() -> None:
    r = report_2017()
    for key, printed in PRINTED_2017.items():
        assert abs(r.figure(key).share - printed) <= Decimal("0.01"), key  # type: ignore[operator]


def test_2017_shares_exact_under_half_up() -> None:
    r = report_2017()
    got = {key: r.figure(key).share for key in PRINTED_2017}
    assert got == {
        "admin_behaviour": Decimal("81.44"),  # 81.4356 -> 81.44 (the report printed 81.43)
        "regulations": Decimal("18.56"),  # 18.5644 -> 18.56 (printed 18.57)
        "sector:TNMT": Decimal("44.55"),
        "sector:LDTBXH": Decimal("11.51"),
        "sector:XD": Decimal("7.30"),
        "answered": Decimal("51.64"),
        "still_handled": Decimal("48.36"),
    }
    assert str(got["sector:XD"]) == "7.30"  # two places, always
    assert {r.figure(k).base for k in ("admin_behaviour", "sector:TNMT")} == {"in_scope"}
    assert r.figure("answered").base == "handling"
    assert r.figure("received").share is None


@pytest.mark.parametrize(
    ("override", "broken"),
    [
        ({"regulations": 151}, "admin_behaviour + regulations + unclassified = in_scope"),
        ({"awaiting_information": 350}, "awaiting_information = in_scope"),
        ({"answered": 237}, "answered + still_handled = handling"),
        ({"not_accepted": 3000}, "= received"),
        ({"sectors": {"TNMT": 800, "XD": 9}}, "sectors sum to more than in_scope"),
    ],
)
def test_totals_that_do_not_hold_are_refused(override: dict[str, Any], broken: str) -> None:
    with pytest.raises(ConfigurationError, match="totals do not hold") as info:
        report_2017(**override)
    assert broken in str(info.value)


def test_negative_counts_empty_period_and_naive_time_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="negative"):
        report_2017(not_accepted=-1, pending_intake=3495)
    with pytest.raises(ConfigurationError, match="before"):
        report_2017(period_end=dt.date(2017, 4, 2))
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        report_2017(at=dt.datetime(2017, 9, 30, 23, 59))


def test_share_rounds_half_up_exactly() -> None:
    assert share(1, 32) == Decimal("3.13")  # 3.125: half-even would give 3.12
    assert share(1, 8) == Decimal("12.50")
    assert share(2, 3) == Decimal("66.67")
    assert share(0, 5) == Decimal("0.00")
    assert share(5, 5) == Decimal("100.00")
    assert share(0, 0) is None
    with pytest.raises(ConfigurationError):
        share(6, 5)


def test_2017_renderings() -> None:
    r = report_2017()
    text = r.to_text()
    assert "Số PAKN tiếp nhận (received)" in text
    assert "4.302" in text
    assert "81,44%" in text
    assert "7,30%" in text
    assert "(other sectors not itemised)" in text
    data = json.loads(r.to_json())
    assert r.to_json() == report_2017().to_json()  # deterministic
    assert data["figures"]["admin_behaviour"] == {
        "count": 658,
        "share": "81.44",
        "base": "in_scope",
    }
    assert data["rounding"] == {"method": "ROUND_HALF_UP", "places": 2, "unit": "percent"}
    assert data["sectors"][2] == {"code": "XD", "label": "Xây dựng", "count": 59, "share": "7.30"}
    assert data["at"] == "2017-09-30T23:59:59.999999+07:00"
    rows = list(csv.DictReader(io.StringIO(r.to_csv())))
    by_key = {(row["section"], row["key"]): row for row in rows}
    assert by_key[("figure", "regulations")]["share_percent"] == "18.56"
    assert by_key[("sector", "TNMT")]["count"] == "360"
    assert by_key[("figure", "still_handled")]["share_base"] == "handling"


# --- (b) figures from real cases -------------------------------------------------------------


class Story:
    """One case's documents, made step by step with consistent ids and digests."""

    def __init__(self, n: int, received: dt.datetime, sector: str | None):
        self.n, self.k = n, 0
        self.case = f"{VPCP},{received:%Y/%m/%d},{n}/PAKN"
        self.sector = sector or "TNMT"
        self.petition = Petition(
            document_id=self.case,
            case_id=self.case,
            recipient=VPCP,
            received_at=received,
            channel=Channel.PORTAL,
            sender=SENDER,
            title="Kiến nghị về thủ tục hành chính",
            content="Nội dung kiến nghị.",
            sector=sector,
        )
        self.docs: list[Document] = [self.petition]
        self.last: Any = self.petition

    def _add(self, doc: Any) -> Any:
        self.docs.append(doc)
        return doc

    def _id(self, organ: str, when: dt.datetime) -> str:
        self.k += 1
        return f"{organ},{when:%Y/%m/%d},{self.n * 100 + self.k}/X"

    def _common(self, organ: str, when: dt.datetime) -> dict[str, Any]:
        return {"document_id": self._id(organ, when), "case_id": self.case, "issued_at": when}

    def classify(self, code: ClassificationCode, when: dt.datetime, to: str = MINISTRY) -> Any:
        forwards = code in (C.ADMIN_BEHAVIOUR, C.REGULATION_OUT_OF_SCOPE)
        self.cls = self._add(
            Classification(
                **self._common(VPCP, when),
                petition=DocumentRef.of(self.petition),
                issuer=VPCP,
                classification=code,
                sector=None if code is ClassificationCode.INVALID else self.sector,
                competent_agency=to if forwards else None,
                reason="Lý do.",
            )
        )
        return self.cls

    def ask(self, when: dt.datetime) -> Any:
        return self._add(
            InformationRequest(
                **self._common(VPCP, when),
                petition=DocumentRef.of(self.petition),
                issuer=VPCP,
                missing=("Tên thủ tục",),
                message="Đề nghị bổ sung.",
            )
        )

    def forward(self, when: dt.datetime, to: str) -> Any:
        self.handling = self._add(
            Forwarding(
                **self._common(VPCP, when),
                petition=DocumentRef.of(self.petition),
                classification=DocumentRef.of(self.cls),
                issuer=VPCP,
                to_agency=to,
                answer_due=DEFAULT_RULES.answer.deadline(when, NO_HOLIDAYS),
            )
        )
        self.agency = to
        return self.handling

    def status(self, when: dt.datetime) -> Any:
        return self._add(
            StatusNotice(
                **self._common(self.agency, when),
                response_for=DocumentRef.of(self.handling),
                issuer=self.agency,
                status=EdxmlStatus.ACCEPTED,
            )
        )

    def answer(self, when: dt.datetime) -> Any:
        self.ans = self._add(
            Answer(
                **self._common(self.agency, when),
                forwarding=DocumentRef.of(self.handling),
                issuer=self.agency,
                official=Official(full_name="Lê Văn Hùng", position="Vụ trưởng"),
                text="Trả lời.",
            )
        )
        return self.ans

    def give_back(self, when: dt.datetime) -> Any:
        return self._add(
            AnswerReturn(
                **self._common(VPCP, when),
                answer=DocumentRef.of(self.ans),
                issuer=VPCP,
                reason="Chưa phù hợp.",
            )
        )

    def publish(self, when: dt.datetime) -> Any:
        return self._add(
            Publication(
                **self._common(VPCP, when),
                answer=DocumentRef.of(self.ans),
                issuer=VPCP,
                title="Kiến nghị",
                sector=self.sector,
                petition_summary="Tóm tắt.",
                answering_agency=self.agency,
                answer_text="Trả lời.",
            )
        )

    def feedback(self, when: dt.datetime, verdict: FeedbackVerdict) -> Any:
        return self._add(
            CitizenFeedback(
                **self._common(VPCP, when),
                answer=DocumentRef.of(self.ans),
                recipient=VPCP,
                verdict=verdict,
            )
        )

    def case_of(self) -> Case:
        return Case.from_documents(self.docs, calendar=NO_HOLIDAYS)


def day(month: int, d: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2017, month, d, hour, tzinfo=VN)


C = ClassificationCode
# scenario -> (classification bucket, handling bucket, answered?) as constructed below;
# None: the case is outside the in-scope figures.
BUCKETS: dict[str, tuple[str, str, bool | None] | None] = {
    "pending": None,
    "invalid": None,
    "info": ("unclassified", "awaiting_information", None),
    "awaiting_fwd": ("admin_behaviour", "awaiting_forwarding", None),
    "forwarded": ("admin_behaviour", "forwarded", False),
    "progress": ("regulations", "forwarded", False),
    "answered": ("admin_behaviour", "forwarded", True),
    "published": ("regulations", "forwarded", True),
    "accepted": ("admin_behaviour", "forwarded", True),
    "disputed": ("admin_behaviour", "forwarded", True),
    "returned": ("regulations", "forwarded", False),
    "in_house": ("regulations", "handled_in_house", False),
    "in_house_answered": ("regulations", "handled_in_house", True),
}
# (scenario, how many, received early in July (answers due 24/07) or on 18/09 (due 09/10))
SPEC = [
    ("pending", 2, True),
    ("invalid", 3, True),
    ("info", 3, True),
    ("awaiting_fwd", 2, True),
    ("forwarded", 5, True),
    ("forwarded", 4, False),
    ("progress", 3, True),
    ("answered", 4, True),
    ("published", 3, True),
    ("accepted", 2, True),
    ("disputed", 1, True),
    ("returned", 2, True),
    ("in_house", 2, True),
    ("in_house", 1, False),
    ("in_house_answered", 2, True),
]
SECTORS = ("TNMT", "LDTBXH", "XD", None)


def make_story(n: int, scenario: str, early: bool, sector: str | None) -> Story:
    d0 = day(7, 3) if early else day(9, 18)  # Mondays
    s = Story(n, d0, sector)
    agency = MINISTRY if n % 2 else PROVINCE

    def step(days: int, hour: int = 9) -> dt.datetime:
        return d0 + dt.timedelta(days=days, hours=hour - 9)

    if scenario == "pending":
        return s
    if scenario == "invalid":
        s.classify(C.INVALID, step(1))
        return s
    if scenario == "info":
        s.ask(step(1))
        return s
    if scenario.startswith("in_house"):
        s.cls = s.classify(C.REGULATION_IN_SCOPE, step(1))
        s.handling, s.agency = s.cls, VPCP
        if scenario == "in_house_answered":
            s.answer(step(5))
        return s
    regulation = scenario in ("progress", "published", "returned")
    s.classify(C.REGULATION_OUT_OF_SCOPE if regulation else C.ADMIN_BEHAVIOUR, step(1), agency)
    if scenario == "awaiting_fwd":
        return s
    s.forward(step(1, 15), agency)  # due 20 calendar days later: 24/07 or 09/10 (Mondays)
    if scenario == "progress":
        s.status(step(3))
    if scenario in ("answered", "published", "accepted", "disputed", "returned"):
        s.answer(step(11))
    if scenario == "returned":
        s.give_back(step(14))  # new answer due 17/07 + 20 = 06/08 (Sunday) -> 07/08
    if scenario in ("published", "accepted", "disputed"):
        s.publish(step(14))
    if scenario in ("accepted", "disputed"):
        verdict = FeedbackVerdict.AGREE if scenario == "accepted" else FeedbackVerdict.DISAGREE
        s.feedback(step(17), verdict)
    return s


def build_stories() -> list[tuple[str, bool, str | None, Story]]:
    out, n = [], 0
    for scenario, count, early in SPEC:
        for _ in range(count):
            n += 1
            sector = SECTORS[n % len(SECTORS)]
            out.append((scenario, early, sector, make_story(n, scenario, early, sector)))
    return out


STORIES = build_stories()
CASES = [story.case_of() for *_, story in STORIES]


def test_generated_cases_reach_the_intended_states() -> None:
    states = Counter(c.state for c in CASES)
    assert states[CaseState.RECEIVED] == 2
    assert states[CaseState.MORE_INFO_REQUESTED] == 3
    assert states[CaseState.CITIZEN_DISPUTED] == 1
    assert states[CaseState.RETURNED_FOR_REWORK] == 2
    assert len(CASES) == sum(count for _, count, _ in SPEC) == 39


def test_counts_match_the_constructed_cases() -> None:
    r = quarterly_report(CASES, period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3)
    expected: Counter[str] = Counter(received=len(STORIES))
    sectors: Counter[str | None] = Counter()
    for scenario, _, sector, _ in STORIES:
        bucket = BUCKETS[scenario]
        if bucket is None:
            expected["not_accepted" if scenario == "invalid" else "pending_intake"] += 1
            continue
        cls, handling, answered = bucket
        expected.update(["in_scope", cls, handling])
        if answered is not None:
            expected["answered" if answered else "still_handled"] += 1
        # classified cases use the story's sector (TNMT when the petition gave none)
        sectors[sector if scenario == "info" else sector or "TNMT"] += 1
    keys = ["received", "not_accepted", "pending_intake", "in_scope", "admin_behaviour"]
    keys += ["regulations", "unclassified", "forwarded", "handled_in_house"]
    keys += ["awaiting_forwarding", "awaiting_information", "answered", "still_handled"]
    for key in keys:
        assert r.figure(key).count == expected[key], key
    assert {s.code: s.count for s in r.sectors} == dict(sectors)
    assert r.sectors_complete
    assert r.received == 39
    assert r.in_scope == 34
    assert r.handling == 29
    assert r.figure("answered").share == share(expected["answered"], 29)


def test_overdue_answers_to_chase() -> None:
    r = quarterly_report(CASES, period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3)
    expected = []
    for scenario, early, _, story in STORIES:
        if not early:
            continue  # due 09/10: not yet overdue on 30/09
        if scenario in ("forwarded", "progress", "in_house"):
            expected.append((story.case, story.agency, dt.date(2017, 7, 24), 68))
        if scenario == "returned":
            expected.append((story.case, story.agency, dt.date(2017, 8, 7), 54))
    got = [(o.case_id, o.agency, o.due_on, o.days_overdue) for o in r.overdue]
    assert sorted(got) == sorted(expected)
    assert len(got) == 5 + 3 + 2 + 2
    assert [o.days_overdue for o in r.overdue] == sorted(
        (o.days_overdue for o in r.overdue), reverse=True
    )
    assert {o.agency for o in r.overdue} == {MINISTRY, PROVINCE, VPCP}


def test_disputed_answer_to_re_examine() -> None:
    r = quarterly_report(CASES, period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3)
    (story,) = [s for scenario, *_, s in STORIES if scenario == "disputed"]
    assert len(r.disputed) == 1
    d = r.disputed[0]
    assert (d.case_id, d.answer_id, d.state) == (
        story.case,
        story.ans.document_id,
        CaseState.CITIZEN_DISPUTED,
    )
    assert d.agency == story.agency
    assert d.disputed_on == dt.date(2017, 7, 20)


def test_state_is_taken_at_the_instant_not_today() -> None:
    s = Story(900, day(9, 18), "XD")
    s.classify(C.ADMIN_BEHAVIOUR, day(9, 19), MINISTRY)
    s.forward(day(9, 19, 15), MINISTRY)
    s.answer(day(10, 5))  # after the period, before the report is run
    late = Story(901, day(7, 3), "XD")
    late.classify(C.ADMIN_BEHAVIOUR, day(7, 4), MINISTRY)
    late.forward(day(7, 4, 15), MINISTRY)
    late.answer(day(10, 5))  # answered late: overdue on 30/09
    cases = [s.case_of(), late.case_of()]
    assert all(c.state is CaseState.ANSWERED for c in cases)
    at_end = quarterly_report(cases, period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3)
    assert (at_end.answered, at_end.still_handled) == (0, 2)
    assert [o.case_id for o in at_end.overdue] == [late.case]
    later = dt.datetime(2017, 10, 10, tzinfo=VN)
    after = quarterly_report(cases, period_start=Q3_START, period_end=Q3_END, at=later)
    assert (after.answered, after.still_handled, after.overdue) == (2, 0, ())
    before = quarterly_report(cases, period_start=Q3_START, period_end=Q3_END, at=day(9, 19, 10))
    assert (before.received, before.awaiting_forwarding, before.forwarded) == (2, 1, 1)


def test_period_boundaries_are_vietnam_dates() -> None:
    utc = dt.UTC
    times = {
        "last day, 23:30 VN": dt.datetime(2017, 9, 30, 23, 30, tzinfo=VN),
        "next day, 00:10 VN (30/09 in UTC)": dt.datetime(2017, 9, 30, 17, 10, tzinfo=utc),
        "first day, 00:05 VN (30/06 in UTC)": dt.datetime(2017, 6, 30, 17, 5, tzinfo=utc),
        "day before, 23:55 VN": dt.datetime(2017, 6, 30, 23, 55, tzinfo=VN),
    }
    cases = {name: Story(700 + i, t, None).case_of() for i, (name, t) in enumerate(times.items())}
    at = dt.datetime(2017, 10, 10, tzinfo=VN)
    r = quarterly_report(cases.values(), period_start=Q3_START, period_end=Q3_END, at=at)
    assert r.received == r.pending_intake == 2
    one = quarterly_report(
        [cases["last day, 23:30 VN"]], period_start=Q3_START, period_end=Q3_END, at=at
    )
    assert one.received == 1
    nxt = quarterly_report(
        [cases["next day, 00:10 VN (30/09 in UTC)"]],
        period_start=Q3_START,
        period_end=Q3_END,
        at=at,
    )
    assert nxt.received == 0
    # received in the period but after `at`: not yet received at that instant
    early = quarterly_report(cases.values(), period_start=Q3_START, period_end=Q3_END, at=day(9, 1))
    assert early.received == 1


def test_report_from_cases_is_deterministic_and_renders() -> None:
    a = quarterly_report(CASES, period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3)
    b = quarterly_report(reversed(CASES), period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3)
    assert a.to_json() == b.to_json()
    assert a.to_csv() == b.to_csv()
    rows = list(csv.DictReader(io.StringIO(a.to_csv())))
    overdue = [row for row in rows if row["section"] == "overdue_answer"]
    assert len(overdue) == len(a.overdue)
    assert overdue[0]["days_overdue"] == "68"
    assert "cần đôn đốc (overdue answers to chase): 12" in a.to_text()


# --- (c) the CLI -----------------------------------------------------------------------------

EXAMPLES = ROOT / "examples" / "documents"
FEB_MAR = ["--from", "2026-02-01", "--to", "2026-03-31"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def figures(out: str) -> dict[str, int]:
    return {k: v["count"] for k, v in json.loads(out)["figures"].items()}


@pytest.mark.parametrize("pattern", ["*.json", "*.xml"])
def test_cli_on_the_examples(pattern: str, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in EXAMPLES.glob(pattern))
    assert len(files) == 10
    code, out, err = run([*files, *FEB_MAR, "--json"], capsys)
    assert (code, err) == (0, "")
    f = figures(out)
    assert (f["received"], f["in_scope"], f["regulations"], f["forwarded"]) == (1, 1, 1, 1)
    assert (f["answered"], f["still_handled"]) == (0, 1)  # reopened after the dispute
    data = json.loads(out)
    assert data["sectors"] == [
        {"code": "TNMT", "label": "Tài nguyên và Môi trường", "count": 1, "share": "100.00"}
    ]
    assert [d["state"] for d in data["disputed"]] == ["REOPENED"]
    assert data["at"] == "2026-03-31T23:59:59.999999+07:00"


def test_cli_json_and_xml_together_count_each_document_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.json")) + sorted(
        str(p) for p in EXAMPLES.glob("*.xml")
    )
    code, out, _ = run([*files, *FEB_MAR, "--csv"], capsys)
    assert code == 0
    assert "figure,received,1,,,,," in out.splitlines()


def test_cli_at_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.json"))
    code, out, _ = run([*files, *FEB_MAR, "--at", "2026-03-12T12:00:00+07:00"], capsys)
    assert code == 0
    assert "Số PAKN tiếp nhận (received)" in out
    assert "hạn (due) 05/03/2026 | quá (overdue) 7 ngày (days)" in out
    assert "(disputed answers to re-examine): 0" in out


def test_cli_reads_a_signed_container_without_verifying(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    petition = example_documents()[0]
    body = to_xml(petition, element_id="pakn-doc").split(b"?>", 1)[1]
    signed = tmp_path / "signed.xml"
    signed.write_bytes(
        b'<pakn:Signed xmlns:pakn="urn:pakn-sign:pakn:1">'
        + body
        + b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></pakn:Signed>'
    )
    code, out, _ = run([str(signed), *FEB_MAR, "--json"], capsys)
    assert code == 0
    assert figures(out)["pending_intake"] == 1


def test_cli_broken_file_exits_4_with_file_and_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    text = (EXAMPLES / "answer.json").read_text(encoding="utf-8")
    bad.write_text(text.replace('"issuer": "000.00.00.G10"', '"issuer": 10'), encoding="utf-8")
    code, out, err = run([str(EXAMPLES / "petition.json"), str(bad), *FEB_MAR], capsys)
    assert (code, out) == (4, "")
    assert f"at {bad}: /issuer" in err
    code, _, err = run([str(tmp_path / "missing.xml"), *FEB_MAR], capsys)
    assert code == 4
    assert "input.unreadable" in err
    assert "missing.xml" in err
    trunc = tmp_path / "trunc.xml"
    trunc.write_bytes((EXAMPLES / "petition.xml").read_bytes()[:300])
    code, _, err = run([str(trunc), *FEB_MAR], capsys)
    assert code == 4
    assert str(trunc) in err


def test_cli_inconsistent_cases_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([str(EXAMPLES / "answer.json"), *FEB_MAR], capsys)
    assert code == 4
    assert "lifecycle" in err
    assert "answer.json" in err
    other = tmp_path / "petition.json"
    other.write_text(
        (EXAMPLES / "petition.json")
        .read_text(encoding="utf-8")
        .replace("Trần Thị Mai", "Trần Mai"),
        encoding="utf-8",
    )
    code, _, err = run([str(EXAMPLES / "petition.json"), str(other), *FEB_MAR], capsys)
    assert code == 4
    assert "appears twice with different content" in err


def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    petition = str(EXAMPLES / "petition.json")
    assert run([petition, "--from", "2026-04-01", "--to", "2026-03-31"], capsys)[0] == 2
    assert run([petition, *FEB_MAR, "--at", "2026-03-12T12:00:00"], capsys)[0] == 2
    assert run([petition, *FEB_MAR, "--at", "yesterday"], capsys)[0] == 2
    assert run([petition, "--from", "01/02/2026", "--to", "2026-03-31"], capsys)[0] == 2


def test_a_new_answer_replaces_the_disputed_one() -> None:
    s = make_story(950, "disputed", True, "XD")
    s.give_back(day(7, 25))  # re-examination starts: REOPENED, still listed
    reopened = quarterly_report(
        [s.case_of()], period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3
    )
    assert [d.state for d in reopened.disputed] == [CaseState.REOPENED]
    assert (reopened.answered, reopened.still_handled) == (0, 1)
    s.answer(day(8, 1))  # the new answer is not the one the citizen disagreed with
    again = quarterly_report([s.case_of()], period_start=Q3_START, period_end=Q3_END, at=END_OF_Q3)
    assert again.disputed == ()
    assert (again.answered, again.still_handled) == (1, 0)
