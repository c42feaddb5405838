"""The receiving side of the exchange, independent of HTTP.

Order of work for one message (DESIGN.md §6):
(1) verify the sealed header against the sender's pinned key from the directory;
(2) check recipient, replay window and limits BEFORE reading any part;
(3) dedup on (authenticated sender, message id): same digest -> the stored receipt again,
    other digest -> signed refusal and an audit alert;
(4) stream parts to the spool, hashing, and fsync;
(5) commit the inbox row and its audit record in one transaction;
(6) sign the receipt and store it, so duplicates and GETs replay the same bytes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..clock import Clock
from ..codec.jsoncodec import loads_strict
from ..errors import InvalidInput, PaknSignError, StoreError, VerificationError
from ..signing.signers import Signer
from .directory import Directory, DirectoryError
from .faults import FaultInjector
from .sealing import open_sealed, seal
from .spool import Spool, Staging, inline_plan
from .store import PartRef, Store, write_cache
from .store_worker import StoreWorker, run_store, run_store_then
from .wire import EnvelopeHeader, Receipt

__all__ = ["ENVELOPE_TYP", "RECEIPT_TYP", "ChunkReader", "ReceiveOutcome", "Receiver"]

log = logging.getLogger(__name__)

ENVELOPE_TYP = "pakn-envelope+json"
RECEIPT_TYP = "pakn-receipt+json"


def _claimed_header(header_bytes: bytes) -> EnvelopeHeader | None:
    """The header as claimed, WITHOUT trusting it: only to address a signed refusal.

    The sender can match the refusal to its message (id and digest); nothing else is
    taken from an unverified header.
    """
    from ..signing.b64 import b64url_decode
    from .wire import parse_wire

    try:
        obj = loads_strict(header_bytes)
        return parse_wire(EnvelopeHeader, b64url_decode(obj["payload"]), what="claimed header")
    except (PaknSignError, ValueError, KeyError, TypeError):
        return None


class ChunkReader:
    """Reads exact byte counts from an async stream of chunks, never buffering a whole part."""

    def __init__(self, chunks: AsyncIterator[bytes]):
        self._it = chunks
        self._buf = b""

    async def read_exact(self, n: int) -> bytes:
        out = bytearray()
        async for piece in self.iter_exact(n):
            out += piece
        return bytes(out)

    async def iter_exact(self, n: int) -> AsyncIterator[bytes]:
        remaining = n
        while remaining:
            if not self._buf:
                try:
                    self._buf = await self._it.__anext__()
                except StopAsyncIteration:
                    raise InvalidInput(f"body ended {remaining} bytes early") from None
                continue
            piece, self._buf = self._buf[:remaining], self._buf[remaining:]
            remaining -= len(piece)
            yield piece

    async def at_end(self) -> bool:
        if self._buf:
            return False
        try:
            self._buf = await self._it.__anext__()
        except StopAsyncIteration:
            return True
        return not self._buf and await self.at_end()


@dataclass(frozen=True, slots=True)
class ReceiveOutcome:
    """What the HTTP shell answers: a status code and the signed receipt bytes."""

    status: int
    receipt: bytes
    accepted: bool
    duplicate: bool = False


@dataclass
class Receiver:
    """One node's inbox logic.

    Args:
        me: this node's agency code.
        signer: this node's organisation seal (signs receipts).
        store, directory, spool: durable state.
        clock: injected time.
        skew: tolerated clock difference on the signed created/expires times.
    """

    me: str
    signer: Signer
    store: Store
    directory: Directory
    spool: Spool
    clock: Clock
    skew: dt.timedelta = dt.timedelta(minutes=5)
    max_header_bytes: int = 256 * 1024
    max_part_bytes: int = 4 * 1024 * 1024 * 1024
    faults: FaultInjector = field(default_factory=FaultInjector)
    worker: StoreWorker | None = None
    _locks: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # [lock, users]

    async def receive(self, header_bytes: bytes, body: ChunkReader) -> ReceiveOutcome:
        """Process one message; always returns a signed receipt (positive or negative).

        Raises:
            StoreError: the message could not be stored durably (the sender retries).
        """
        now = self.clock.now()
        if len(header_bytes) > self.max_header_bytes:
            return self._refuse(None, None, "input.too_large", "envelope header too large", now)
        raw_digest = hashlib.sha256(header_bytes).hexdigest()
        try:
            opened = open_sealed(
                header_bytes,
                EnvelopeHeader,
                typ=ENVELOPE_TYP,
                pinned=lambda h: self.directory.entry(h.sender, now=now).signing_cert_sha256,
            )
        except DirectoryError as exc:
            claimed = _claimed_header(header_bytes)
            return self._refuse(claimed, raw_digest, "transport.unknown_sender", exc.message, now)
        except (VerificationError, InvalidInput) as exc:
            claimed = _claimed_header(header_bytes)
            return self._refuse(claimed, raw_digest, exc.code, exc.message, now)
        header, digest = opened.model, opened.digest
        problem = self._check(header, now)
        if problem is not None:
            return self._refuse(header, digest, *problem, now)
        key = (header.sender, header.message_id)
        # Dropped by its last user only: a copy arriving later must queue behind a waiting
        # one, not run beside it (two accepts of one message replace each other's files).
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                return await self._receive_locked(header, header_bytes, digest, body, now)
        finally:
            entry[1] -= 1
            if not entry[1]:
                del self._locks[key]

    async def _receive_locked(
        self,
        header: EnvelopeHeader,
        header_bytes: bytes,
        digest: str,
        body: ChunkReader,
        now: dt.datetime,
    ) -> ReceiveOutcome:
        # On the store thread: a read here would take the connection lock the store worker
        # holds through a batch's fsynced COMMIT, stalling every request on this loop.
        existing = await run_store(self.worker, self.store.inbox, header.sender, header.message_id)
        if existing is not None:
            if existing.envelope_digest != digest:
                self.store.audit(
                    {
                        "event": "alert.duplicate_conflict",
                        "sender": header.sender,
                        "message_id": header.message_id,
                        "digest": digest,
                        "stored_digest": existing.envelope_digest,
                        "at": now.isoformat(),
                    }
                )
                log.warning(
                    "message %s from %s re-sent with other bytes", header.message_id, header.sender
                )
                return self._refuse(
                    header,
                    digest,
                    "transport.duplicate_conflict",
                    "same message id with different content",
                    now,
                    status=409,
                )
            receipt = existing.receipt or self._sign_and_store(header, digest, existing.received_at)
            return ReceiveOutcome(200, receipt, accepted=True, duplicate=True)
        # Small parts are held in memory and stored inline with the inbox row (bounded by
        # spool.INLINE_MAX_*, decided from the signed manifest); the rest go to staging files.
        inline = inline_plan([info.size for info in header.parts])
        staging = None if all(inline) else self.spool.staging()
        data: dict[int, bytes] = {}
        try:
            for index, info in enumerate(header.parts):
                h = hashlib.sha256()
                if inline[index]:
                    buf = bytearray()
                    async for chunk in body.iter_exact(info.size):
                        h.update(chunk)
                        buf += chunk
                    data[index] = bytes(buf)
                else:
                    assert staging is not None
                    with open(staging.part_path(index), "wb") as fh:
                        async for chunk in body.iter_exact(info.size):
                            h.update(chunk)
                            fh.write(chunk)
                if h.hexdigest() != info.sha256:
                    return self._refuse(
                        header,
                        digest,
                        "transport.digest_mismatch",
                        f"part {index} ({info.name}) does not match its digest",
                        now,
                    )
            if not await body.at_end():
                msg = "body is longer than the manifest says"
                return self._refuse(header, digest, "input.trailing_data", msg, now)
            # Store-thread work, in order: fsync the part files, rename them into place and
            # commit the inbox row (with the inline parts); only once that is committed,
            # sign the receipt and store it.
            persist = functools.partial(
                self._persist, staging, data, header, header_bytes, digest, now
            )
            receipt = await run_store_then(
                self.worker, persist, functools.partial(self._receipt_after, header, digest)
            )
        finally:
            if staging is not None:
                staging.discard()
        self.faults.hit("receiver.after_receipt_stored_before_response")
        return ReceiveOutcome(200, receipt, accepted=True)

    def _persist(
        self,
        staging: Staging | None,
        data: dict[int, bytes],
        header: EnvelopeHeader,
        header_bytes: bytes,
        digest: str,
        now: dt.datetime,
    ) -> dt.datetime:
        """Make the verified parts and the inbox row durable (one store transaction)."""
        parts: list[PartRef] = []
        final = None
        if staging is not None:
            for index in range(len(header.parts)):
                if index not in data:
                    # fsync syncs the file, whichever descriptor wrote it (POSIX fsync).
                    with open(staging.part_path(index), "rb") as fh:
                        os.fsync(fh.fileno())
            final = staging.commit(header.sender, header.message_id)
        for n, i in enumerate(header.parts):
            if n in data:
                location = self.spool.inline_location(i.sha256)
                # The cache copy now (unsynced), for readers that open the stored location.
                write_cache(location, data[n])
                parts.append(PartRef(i.name, i.media_type, i.sha256, i.size, location, data[n]))
            else:
                assert staging is not None
                assert final is not None
                location = str(final / staging.part_path(n).name)
                parts.append(PartRef(i.name, i.media_type, i.sha256, i.size, location))
        self.faults.hit("receiver.before_inbox_commit")
        try:
            rec = self.store.accept(
                sender=header.sender,
                message_id=header.message_id,
                envelope_digest=digest,
                header=header_bytes,
                parts=parts,
                now=now,
                audit={
                    "event": "received.accepted",
                    "sender": header.sender,
                    "message_id": header.message_id,
                    "digest": digest,
                },
            )
        except StoreError:
            raced = self.store.inbox(header.sender, header.message_id)
            if raced is None or raced.envelope_digest != digest:
                raise
            rec = raced
        return rec.received_at

    def _receipt_after(self, header: EnvelopeHeader, digest: str, received: dt.datetime) -> bytes:
        self.faults.hit("receiver.after_commit_before_receipt")
        return self._sign_and_store(header, digest, received)

    def _check(self, header: EnvelopeHeader, now: dt.datetime) -> tuple[str, str] | None:
        if header.recipient != self.me:
            return ("transport.unknown_recipient", f"this is {self.me}, not {header.recipient}")
        if header.created_at - self.skew > now:
            return ("transport.not_yet_valid", "created in the future beyond the allowed skew")
        if header.expires_at + self.skew <= now:
            return ("transport.expired", f"expired at {header.expires_at.isoformat()}")
        try:
            # Looked up again (not reused from the pin check): the directory may have been
            # replaced in between; a sender missing from it now is refused, not a crash.
            entry = self.directory.entry(header.sender, now=now)
        except DirectoryError as exc:
            return ("transport.unknown_sender", exc.message)
        total = 0
        for info in header.parts:
            total += info.size
            if info.size > min(self.max_part_bytes, entry.max_part_bytes):
                return ("input.too_large", f"part {info.name} of {info.size} B is over the limit")
        if total > entry.max_message_bytes:
            return ("input.too_large", f"message of {total} bytes is over the sender's limit")
        return None

    def _sign_and_store(self, header: EnvelopeHeader, digest: str, received: dt.datetime) -> bytes:
        receipt = seal(
            Receipt(
                message_id=header.message_id,
                envelope_digest=digest,
                part_digests=[p.sha256 for p in header.parts],
                received_at=received,
                receiver=self.me,
                sender=header.sender,
                status="accepted",
            ),
            self.signer,
            typ=RECEIPT_TYP,
        )
        if self.store.set_receipt(header.sender, header.message_id, receipt):
            return receipt
        stored = self.store.inbox(header.sender, header.message_id)
        # Another request stored its receipt first: always answer the stored bytes.
        return stored.receipt if stored is not None and stored.receipt else receipt

    def _refuse(
        self,
        header: EnvelopeHeader | None,
        digest: str | None,
        code: str,
        message: str,
        now: dt.datetime,
        *,
        status: int = 422,
    ) -> ReceiveOutcome:
        """A signed negative receipt with a stable error code (never stored as accepted)."""
        from .ids import uuid7

        self.store.audit(
            {
                "event": "received.rejected",
                "code": code,
                "message_id": header.message_id if header else None,
                "sender": header.sender if header else None,
                "at": now.isoformat(),
            }
        )
        receipt = seal(
            Receipt(
                message_id=header.message_id if header else str(uuid7(now, rand=b"\0" * 10)),
                envelope_digest=digest or "0" * 64,
                part_digests=[p.sha256 for p in header.parts] if header else [],
                received_at=now,
                receiver=self.me,
                sender=header.sender if header else "unknown",
                status="rejected",
                error_code=code,
                error_message=message[:1000],
            ),
            self.signer,
            typ=RECEIPT_TYP,
        )
        return ReceiveOutcome(status, receipt, accepted=False)

    def receipt_for(self, message_id: str) -> bytes | None:
        """The stored receipt of an accepted message (``GET /v1/receipts/{id}``)."""
        rec = self.store.inbox_by_id(message_id)
        return None if rec is None else rec.receipt


# Errors the HTTP shell maps to a retryable 503 rather than a receipt.
RETRYABLE = (StoreError, OSError)
