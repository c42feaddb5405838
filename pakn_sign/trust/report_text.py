"""Plain-text rendering of a :class:`ValidationReport` (terminals, logs, e-mail)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .report import certificate_entry, vn_time

if TYPE_CHECKING:
    from .report import ValidationReport

__all__ = ["render_text"]


def render_text(report: ValidationReport) -> str:
    """Render ``report`` as indented plain text; times in Asia/Ho_Chi_Minh and UTC."""
    sub = f" / {report.sub_indication.value}" if report.sub_indication else ""
    lines = [
        f"Result: {report.indication.value}{sub}",
        f"Validation time: {vn_time(report.validation_time)}",
        f"Document: {report.document_kind or '-'} {report.document_id or ''}".rstrip(),
    ]
    for f in report.findings:
        lines.append(f"  ! [{f.key}] {f.message}")
    lines.append(f"Signatures: {len(report.signatures)}")
    for s in report.signatures:
        ssub = f" / {s.sub_indication.value}" if s.sub_indication else ""
        lines.append(f"- {s.id} ({s.role or 'no role'}): {s.indication.value}{ssub}")
        if s.identity is not None:
            lines.append(f"    signer: {s.identity.subject}")
            for k, v in s.identity.identifiers.items():
                lines.append(f"    {k}: {v}")
        if s.level:
            lines.append(f"    level: {s.level}")
        if s.signing_time:
            lines.append(f"    claimed signing time: {vn_time(s.signing_time)}")
        if s.timestamp_time:
            lines.append(f"    timestamp: {vn_time(s.timestamp_time)}")
        if s.scope:
            lines.append(f"    covers: {', '.join(s.scope)}")
        for i, cert in enumerate(s.chain):
            e = certificate_entry(cert)
            lines.append(
                f"    chain[{i}]: {e['subject']} (serial {e['serial']}, until {e['not_after']})"
            )
        for f in s.findings:
            lines.append(f"    ! [{f.key}] {f.message}")
    return "\n".join(lines) + "\n"
