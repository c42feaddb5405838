"""Receipts as the sender checks them: signed by the recipient's pinned key and binding
exactly our message (id, envelope digest, part digests, recipient, sender)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import PaknSignError, ReceiptError, Rejected, VerificationError
from .receiver import RECEIPT_TYP
from .sealing import open_sealed
from .store import OutboxRecord
from .wire import EnvelopeHeader, Receipt

__all__ = ["binds", "verify_receipt"]


def verify_receipt(
    receipt: bytes,
    rec: OutboxRecord,
    *,
    me: str,
    pins: Sequence[str],
    header: EnvelopeHeader | None = None,
) -> Receipt:
    """Check a receipt binds exactly our message; raise ``ReceiptError`` or ``Rejected``.

    Without ``header`` the part digests and recipient come from ``rec`` (the outbox froze
    them from the same manifest it signed), so no attempt re-decodes our own header.
    """
    try:
        opened = open_sealed(receipt, Receipt, typ=RECEIPT_TYP, pinned=pins)
    except (VerificationError, PaknSignError) as exc:
        raise ReceiptError(f"receipt for {rec.message_id} does not verify: {exc}") from exc
    r = opened.model
    expected = (
        rec.message_id,
        rec.envelope_digest,
        [p.sha256 for p in (header.parts if header is not None else rec.parts)],
        header.recipient if header is not None else rec.recipient,
        me,
    )
    found = (r.message_id, r.envelope_digest, r.part_digests, r.receiver, r.sender)
    if expected != found:
        raise ReceiptError(
            f"receipt does not bind our message: expected {expected[:2]}, found {found[:2]}",
            code="transport.receipt_mismatch",
        )
    if r.status == "rejected":
        raise Rejected(
            f"{r.receiver} refused {r.message_id}: [{r.error_code}] {r.error_message}",
            code=r.error_code or "transport.rejected",
            receipt=r,
        )
    return r


def binds(receipt: bytes, rec: OutboxRecord, me: str, pins: Sequence[str]) -> bool:
    """Whether ``receipt`` is the outcome of exactly ``rec`` (accepted or refused)."""
    try:
        verify_receipt(receipt, rec, me=me, pins=pins)
    except ReceiptError:
        return False
    except Rejected:
        pass  # a refusal of exactly our message is its outcome
    return True
