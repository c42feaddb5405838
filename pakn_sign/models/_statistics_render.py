"""Renderings of a :class:`~pakn_sign.models.statistics.QuarterlyReport`: JSON-ready dict,
CSV and plain text (Vietnamese labels with English in brackets). Internal; use the methods."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..clock import VN_TZ

if TYPE_CHECKING:
    from .statistics import QuarterlyReport

__all__ = ["report_csv", "report_dict", "report_text"]

_SECTOR = "sector:"
# Indented under their parent line in the text rendering.
_SUB = frozenset({"admin_behaviour", "regulations", "unclassified", "answered", "still_handled"})
_SHARE_NOTE = (
    "Tỷ lệ làm tròn nửa lên, 2 chữ số thập phân; phân loại và lĩnh vực tính trên số thuộc\n"
    "phạm vi xử lý, đã trả lời / đang xử lý tính trên số đã chuyển hoặc tự xử lý\n"
    "(shares: ROUND_HALF_UP to 2 places; classification and sectors of 'within scope',\n"
    "answered / still handled of 'forwarded or handled')"
)


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _plain(row: Any) -> dict[str, Any]:
    """A dataclass row with dates as ISO-8601 and enums as their values."""
    out: dict[str, Any] = {}
    for key, value in dataclasses.asdict(row).items():
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, enum.Enum):
            value = value.value
        out[key] = value
    return out


def report_dict(report: QuarterlyReport) -> dict[str, Any]:
    """The JSON shape documented in docs/statistics.md (shares as decimal strings)."""
    rows = report.figures()
    return {
        "report": "pakn-quarterly-statistics",
        "schema_version": "1",
        "period": {
            "start": report.period_start.isoformat(),
            "end": report.period_end.isoformat(),
            "timezone": "Asia/Ho_Chi_Minh",
        },
        "at": report.at.astimezone(VN_TZ).isoformat(),
        "rounding": {"method": "ROUND_HALF_UP", "places": 2, "unit": "percent"},
        "figures": {
            f.key: {"count": f.count, "share": _str(f.share), "base": f.base}
            for f in rows
            if not f.key.startswith(_SECTOR)
        },
        "sectors": [
            {"code": s.code, "label": s.label, "count": s.count, "share": _str(f.share)}
            for s, f in zip(
                report.sectors, [f for f in rows if f.key.startswith(_SECTOR)], strict=True
            )
        ],
        "sectors_complete": report.sectors_complete,
        "overdue": [_plain(o) for o in report.overdue],
        "disputed": [_plain(d) for d in report.disputed],
    }


def report_csv(report: QuarterlyReport) -> str:
    """One header row, one row per figure and sector, then one per overdue / disputed answer."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["section", "key", "count", "share_percent", "share_base", "agency", "date", "days_overdue"]
    )
    for f in report.figures():
        section = "sector" if f.key.startswith(_SECTOR) else "figure"
        key = f.key.removeprefix(_SECTOR)
        writer.writerow([section, key, f.count, _str(f.share) or "", f.base or "", "", "", ""])
    for o in report.overdue:
        due = o.due_on.isoformat()
        writer.writerow(["overdue_answer", o.case_id, "", "", "", o.agency, due, o.days_overdue])
    for d in report.disputed:
        on = d.disputed_on.isoformat()
        writer.writerow(["disputed_answer", d.case_id, "", "", "", d.agency, on, ""])
    return out.getvalue()


def _vn_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # Vietnamese thousands separator: 4.302


def _vn_pct(value: Decimal | None) -> str:
    return "" if value is None else str(value).replace(".", ",") + "%"  # 81,44%


def report_text(report: QuarterlyReport) -> str:
    """A fixed-width text report for people (numbers in the Vietnamese format)."""
    at = report.at.astimezone(VN_TZ)
    lines = [
        "BÁO CÁO THỐNG KÊ PHẢN ÁNH, KIẾN NGHỊ (PAKN statistics report)",
        f"Kỳ báo cáo (period): {report.period_start:%d/%m/%Y} - {report.period_end:%d/%m/%Y}",
        f"Số liệu tính đến (state as of): {at:%d/%m/%Y %H:%M:%S} (Asia/Ho_Chi_Minh)",
        "",
    ]
    for f in report.figures():
        if f.key == "forwarded" and not report.sectors_complete:  # after the sector lines
            lines.append("    Các lĩnh vực khác không liệt kê (other sectors not itemised)")
        indent = "    " if f.key.startswith(_SECTOR) or f.key in _SUB else "  "
        label = f"{indent}{f.label_vi} ({f.label_en})"
        lines.append(f"{label:<72} {_vn_int(f.count):>8} {_vn_pct(f.share):>8}".rstrip())
    lines += ["", _SHARE_NOTE, ""]
    lines.append(f"Quá hạn trả lời, cần đôn đốc (overdue answers to chase): {len(report.overdue)}")
    lines += [
        f"  {o.case_id} | {o.agency} | hạn (due) {o.due_on:%d/%m/%Y} | "
        f"quá (overdue) {o.days_overdue} ngày (days)"
        for o in report.overdue
    ]
    lines.append(
        "Người dân không đồng ý, cần xem xét lại (disputed answers to re-examine): "
        f"{len(report.disputed)}"
    )
    lines += [
        f"  {d.case_id} | {d.agency} | trả lời (answer) {d.answer_id} | "
        f"ngày (on) {d.disputed_on:%d/%m/%Y} | {d.state.value}"
        for d in report.disputed
    ]
    return "\n".join(lines) + "\n"
