"""The quarterly PAKN statistics VPCP publishes (DOMAIN.md "The system in one page").

Every figure is derived from the cases' documents **as of an injected instant** ``at``: a case
is replayed from its documents dated at or before ``at``, so a report for 30 Sep shows each
case's state on 30 Sep, not today. The population is the petitions received (date in
Asia/Ho_Chi_Minh) from ``period_start`` to ``period_end`` inclusive and at or before ``at``.

Each case falls in exactly one bucket of each partition (our reading of the 2017 report;
docs/statistics.md gives the definitions)::

    received     = not_accepted + pending_intake + in_scope
    in_scope     = admin_behaviour + regulations + unclassified
    in_scope     = forwarded + handled_in_house + awaiting_forwarding + awaiting_information
    forwarded + handled_in_house = answered + still_handled

Shares are percentages rounded ROUND_HALF_UP to 2 places (:func:`share`); the base of each is
named in :class:`Figure`. VPCP's 2017 report printed 81.43/18.57 where half-up gives
81.44/18.56 (DOMAIN.md); we do not reproduce that quirk.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..clock import ensure_aware
from ..errors import ConfigurationError
from . import _statistics_render as _render
from ._statistics_cases import ANSWERED_STATES, CaseTally, DisputedAnswer, OverdueAnswer
from .deadlines import DEFAULT_RULES, DeadlineRules
from .lifecycle import Case
from .sectors import DEFAULT_SECTORS, SectorRegistry

__all__ = [
    "ANSWERED_STATES",
    "DisputedAnswer",
    "Figure",
    "OverdueAnswer",
    "QuarterlyReport",
    "SectorCount",
    "quarterly_report",
    "share",
]

_HUNDREDTH = Decimal("0.01")


def share(count: int, base: int) -> Decimal | None:
    """``count`` as a percentage of ``base``, ROUND_HALF_UP to 2 places; ``None`` if base is 0.

    The quotient is computed with 40 significant digits before rounding: for any base below
    10**12 that is exact enough that no value is double-rounded across a .xx5 boundary.
    """
    if base == 0:
        return None
    if not 0 <= count <= base:
        raise ConfigurationError(f"share needs 0 <= count <= base, got {count} of {base}")
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(count) * 100 / Decimal(base)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of the report: a count and, where the report gives one, its share and base."""

    key: str
    label_vi: str
    label_en: str
    count: int
    share: Decimal | None = None
    base: str | None = None
    """The key of the figure the share is a percentage of."""


@dataclass(frozen=True, slots=True)
class SectorCount:
    """The in-scope cases of one sector (``code`` None: no sector given)."""

    code: str | None
    label: str
    count: int


# key -> (Vietnamese label, English label, share base or None); the report's order.
_FIGURES: dict[str, tuple[str, str, str | None]] = {
    "received": ("Số PAKN tiếp nhận", "received", None),
    "not_accepted": (
        "Không thuộc phạm vi, không đủ điều kiện",
        "outside scope, not accepted",
        None,
    ),
    "pending_intake": ("Chưa phân loại", "not yet classified", None),
    "in_scope": ("Thuộc phạm vi xử lý", "within scope", None),
    "admin_behaviour": ("Về hành vi hành chính", "administrative behaviour", "in_scope"),
    "regulations": ("Về quy định hành chính", "administrative regulations", "in_scope"),
    "unclassified": ("Chờ phân loại", "in scope, awaiting classification", "in_scope"),
    "forwarded": ("Đã chuyển bộ, ngành, địa phương", "forwarded to agencies", None),
    "handled_in_house": ("Cơ quan tiếp nhận tự xử lý", "handled by the receiver", None),
    "awaiting_forwarding": ("Chờ chuyển xử lý", "classified, awaiting forwarding", None),
    "awaiting_information": ("Chờ bổ sung thông tin", "awaiting information from senders", None),
    "answered": ("Đã trả lời", "answered", "handling"),
    "still_handled": ("Đang xử lý", "still being handled", "handling"),
}
_HANDLING = ("Đã chuyển hoặc tự xử lý", "forwarded or handled by the receiver")
_TOTALS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("not_accepted", "pending_intake", "in_scope"), "received"),
    (("admin_behaviour", "regulations", "unclassified"), "in_scope"),
    (("forwarded", "handled_in_house", "awaiting_forwarding", "awaiting_information"), "in_scope"),
    (("answered", "still_handled"), "handling"),
)
"""The totals that must hold (DOMAIN.md: 658 + 150 = 808, 457 + 351 = 808, 236 + 221 = 457)."""


@dataclass(frozen=True, slots=True)
class QuarterlyReport:
    """The figures of one period, as of ``at``; the totals above hold (checked on creation).

    Raises:
        ConfigurationError: a negative count, a total that does not hold, sectors summing
            to more than ``in_scope``, an empty period or a naive ``at``.
    """

    period_start: dt.date
    period_end: dt.date
    at: dt.datetime
    received: int
    not_accepted: int
    pending_intake: int
    in_scope: int
    admin_behaviour: int
    regulations: int
    unclassified: int
    sectors: tuple[SectorCount, ...]
    forwarded: int
    handled_in_house: int
    awaiting_forwarding: int
    awaiting_information: int
    answered: int
    still_handled: int
    overdue: tuple[OverdueAnswer, ...] = ()
    disputed: tuple[DisputedAnswer, ...] = ()

    def __post_init__(self) -> None:
        ensure_aware(self.at, name="at")
        if self.period_end < self.period_start:
            raise ConfigurationError(f"period ends {self.period_end} before {self.period_start}")
        counts = {k: int(getattr(self, k)) for k in _FIGURES}
        counts |= {f"sector {s.code}": s.count for s in self.sectors}
        negative = sorted(k for k, v in counts.items() if v < 0)
        if negative:
            raise ConfigurationError(f"negative counts: {', '.join(negative)}")
        broken = []
        for parts, whole in _TOTALS:
            lhs, rhs = sum(int(getattr(self, p)) for p in parts), int(getattr(self, whole))
            if lhs != rhs:
                broken.append(f"{' + '.join(parts)} = {whole} ({lhs} != {rhs})")
        if sum(s.count for s in self.sectors) > self.in_scope:
            broken.append("sectors sum to more than in_scope")
        if broken:
            raise ConfigurationError("totals do not hold: " + "; ".join(broken))

    @property
    def handling(self) -> int:
        """The base of the answered / still-handled shares: forwarded + handled_in_house."""
        return self.forwarded + self.handled_in_house

    @property
    def sectors_complete(self) -> bool:
        """True if every in-scope case is in a listed sector (always so from cases)."""
        return sum(s.count for s in self.sectors) == self.in_scope

    def _base(self, key: str) -> int:
        return self.handling if key == "handling" else int(getattr(self, key))

    def figures(self) -> tuple[Figure, ...]:
        """The counts with their shares, in the report's order (sectors after regulations)."""
        rows = []
        for key, (vi, en, base) in _FIGURES.items():
            count = int(getattr(self, key))
            pct = share(count, self._base(base)) if base else None
            rows.append(Figure(key, vi, en, count, pct, base))
            if key == "unclassified":
                rows.extend(
                    Figure(
                        f"sector:{s.code or '-'}",
                        f"Lĩnh vực {s.label}",
                        f"sector {s.code or '-'}",
                        s.count,
                        share(s.count, self.in_scope),
                        "in_scope",
                    )
                    for s in self.sectors
                )
            if key == "awaiting_information":
                rows.append(Figure("handling", *_HANDLING, self.handling))
        return tuple(rows)

    def figure(self, key: str) -> Figure:
        """The :class:`Figure` named ``key`` (``"sector:TNMT"`` for a sector)."""
        for row in self.figures():
            if row.key == key:
                return row
        raise KeyError(key)

    @classmethod
    def from_counts(
        cls,
        *,
        period_start: dt.date,
        period_end: dt.date,
        at: dt.datetime,
        received: int,
        in_scope: int,
        admin_behaviour: int,
        regulations: int,
        forwarded: int,
        awaiting_information: int,
        answered: int,
        still_handled: int,
        sectors: Mapping[str, int] | None = None,
        not_accepted: int | None = None,
        pending_intake: int = 0,
        unclassified: int = 0,
        handled_in_house: int = 0,
        awaiting_forwarding: int = 0,
        overdue: Iterable[OverdueAnswer] = (),
        disputed: Iterable[DisputedAnswer] = (),
        registry: SectorRegistry = DEFAULT_SECTORS,
    ) -> QuarterlyReport:
        """A report from published counts (e.g. VPCP's 2017 report); the totals must hold.

        ``not_accepted`` defaults to ``received - in_scope - pending_intake``; ``sectors``
        may list only some sectors (as the 2017 report does).
        """
        if not_accepted is None:
            not_accepted = received - in_scope - pending_intake
        return cls(
            period_start=period_start,
            period_end=period_end,
            at=at,
            received=received,
            not_accepted=not_accepted,
            pending_intake=pending_intake,
            in_scope=in_scope,
            admin_behaviour=admin_behaviour,
            regulations=regulations,
            unclassified=unclassified,
            sectors=_sector_counts(Counter(dict(sectors or {})), registry),
            forwarded=forwarded,
            handled_in_house=handled_in_house,
            awaiting_forwarding=awaiting_forwarding,
            awaiting_information=awaiting_information,
            answered=answered,
            still_handled=still_handled,
            overdue=tuple(overdue),
            disputed=tuple(disputed),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (shares as strings such as ``"81.44"``, dates ISO-8601)."""
        return _render.report_dict(self)

    def to_json(self) -> str:
        """Deterministic JSON: sorted keys, two-space indent, UTF-8 text, final newline."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """CSV (RFC 4180 quoting, ``\\n`` line ends): figures, then overdue and disputed rows."""
        return _render.report_csv(self)

    def to_text(self) -> str:
        """Plain text: Vietnamese labels, English in brackets, numbers as 4.302 and 81,44%."""
        return _render.report_text(self)


def _sector_counts(
    counts: Counter[str | None], registry: SectorRegistry
) -> tuple[SectorCount, ...]:
    def label(code: str | None) -> str:
        if code is None:
            return "chưa xác định (unspecified)"
        return registry.labels.get(code, code)

    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    return tuple(SectorCount(code, label(code), n) for code, n in order if n)


def quarterly_report(
    cases: Iterable[Case],
    *,
    period_start: dt.date,
    period_end: dt.date,
    at: dt.datetime,
    rules: DeadlineRules = DEFAULT_RULES,
    registry: SectorRegistry = DEFAULT_SECTORS,
) -> QuarterlyReport:
    """The report for the petitions received from ``period_start`` to ``period_end``
    (inclusive, Vietnam dates), each case as it stood at ``at``.

    Args:
        cases: built with :meth:`Case.from_documents`; may include cases outside the period.
        period_start, period_end: the period, inclusive.
        at: the instant the states are taken at (injected; usually the period's end).
        rules: the deadline rules the cases were built with (a case with documents after
            ``at`` is replayed without them, with these rules).
        registry: sector labels.

    Raises:
        ConfigurationError: naive ``at`` or an empty period.
    """
    at = ensure_aware(at, name="at")
    tally = CaseTally(at, rules)
    for case in cases:
        tally.add(case, period_start=period_start, period_end=period_end)
    t = tally.counts
    return QuarterlyReport(
        period_start=period_start,
        period_end=period_end,
        at=at,
        **{k: t[k] for k in _FIGURES},
        sectors=_sector_counts(tally.sectors, registry),
        overdue=tuple(sorted(tally.overdue, key=lambda o: (-o.days_overdue, o.case_id))),
        disputed=tuple(sorted(tally.disputed, key=lambda d: (d.disputed_on, d.case_id))),
    )
