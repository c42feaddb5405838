"""One self-contained HTML page for auditors: inline CSS, no scripts, no external assets.

Every value from a certificate or a document is escaped (``html.escape`` with quotes):
subjects and findings are attacker-controlled text. Labels are Vietnamese / English; times
are shown in Asia/Ho_Chi_Minh and UTC.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from .report import Indication, certificate_entry, vn_time

if TYPE_CHECKING:
    from .report import Finding, SignatureReport, ValidationReport

__all__ = ["render_html"]

_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2em;color:#222;max-width:70em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
.badge{display:inline-block;padding:.2em .6em;border-radius:.3em;font-weight:bold;color:#fff}
.TOTAL_PASSED{background:#1b7f3a}.TOTAL_FAILED{background:#b3261e}.INDETERMINATE{background:#b26a00}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3;font-weight:normal;width:16em}
.finding{color:#b3261e}code{word-break:break-all}
"""

_LABELS = {
    Indication.TOTAL_PASSED: "Hợp lệ / Passed",
    Indication.TOTAL_FAILED: "Không hợp lệ / Failed",
    Indication.INDETERMINATE: "Chưa xác định / Indeterminate",
}


def _e(value: object) -> str:
    return escape("-" if value is None or value == "" else str(value), quote=True)


def _row(label: str, value: object) -> str:
    return f"<tr><th>{label}</th><td>{_e(value)}</td></tr>"


def _badge(ind: Indication, sub: object) -> str:
    text = _LABELS[ind] + (f" — {sub}" if sub else "")
    return f'<span class="badge {ind.value}" data-indication="{ind.value}">{_e(text)}</span>'


def _findings(findings: tuple[Finding, ...]) -> str:
    if not findings:
        return ""
    items = "".join(
        f'<li class="finding"><code>{_e(f.key)}</code>: {_e(f.message)}</li>' for f in findings
    )
    return f"<ul>{items}</ul>"


def _signature(s: SignatureReport) -> str:
    rows = [
        _row("Vai trò / Role", s.role),
        _row("Cấp độ / Level", s.level),
    ]
    ident = s.identity
    if ident is not None:
        rows += [
            _row("Tên / Name", ident.common_name),
            _row("Người ký / Signer", ident.subject),
            _row("Loại / Kind", ident.kind.value),
            _row("Tổ chức / Organisation", ident.organization),
            _row("Nơi cấp / Issuer", ident.issuer),
            _row("Số sê-ri / Serial", ident.serial),
        ]
        rows += [_row(f"Mã định danh / {_e(k)}", v) for k, v in ident.identifiers.items()]
    rows += [
        _row("Thời điểm ký (khai báo) / Claimed signing time", vn_time(s.signing_time)),
        _row("Dấu thời gian / Timestamp", vn_time(s.timestamp_time)),
        _row("Phạm vi ký / Scope", ", ".join(s.scope)),
    ]
    chain = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td><code>{}</code></td></tr>".format(
            i,
            _e(e["subject"]),
            _e(e["serial"]),
            _e(e["not_before"]),
            _e(e["not_after"]),
            _e(e["sha256"]),
        )
        for i, e in enumerate(certificate_entry(c) for c in s.chain)
    )
    chain_table = (
        "<h3>Chuỗi chứng thư / Certificate chain</h3><table><tr><th>#</th><th>Subject</th>"
        "<th>Serial</th><th>Hiệu lực / Validity</th><th>SHA-256</th></tr>" + chain + "</table>"
        if chain
        else ""
    )
    return (
        f"<section><h2>Chữ ký / Signature {_e(s.id)} {_badge(s.indication, s.sub_indication)}"
        f"</h2><table>{''.join(rows)}</table>{chain_table}{_findings(s.findings)}</section>"
    )


def render_html(report: ValidationReport) -> str:
    """Render ``report`` as a complete HTML5 document (UTF-8)."""
    sub = report.sub_indication.value if report.sub_indication else None
    head = (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        "<title>Báo cáo kiểm tra chữ ký / Signature validation report</title>"
        f"<style>{_CSS}</style></head><body>"
    )
    summary = "".join(
        [
            "<h1>Báo cáo kiểm tra chữ ký số / Signature validation report</h1>",
            f'<p id="overall">{_badge(report.indication, sub)}</p><table>',
            _row("Kết quả / Result", report.indication.value),
            _row("Lý do / Sub-indication", sub),
            _row("Thời điểm kiểm tra / Validation time", vn_time(report.validation_time)),
            _row("Loại văn bản / Document kind", report.document_kind),
            _row("Số văn bản / Document id", report.document_id),
            _row("Số chữ ký / Signatures", len(report.signatures)),
            "</table>",
            _findings(report.findings),
        ]
    )
    body = "".join(_signature(s) for s in report.signatures)
    return head + summary + body + "</body></html>\n"
