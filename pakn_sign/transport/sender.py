"""The sending side: freeze a message in the outbox, deliver it, verify the receipt.

A message's id and bytes are fixed when it enters the outbox; every retry sends exactly
those bytes. Before re-sending, the sender asks for the receipt by id, so a lost response
does not force a resend of the payload. A receipt counts only if it is signed by the
recipient's pinned key and binds our message id, envelope digest and part digests.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import functools
import hashlib
import io
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol, Required, TypedDict, Unpack

from ..clock import Clock
from ..errors import (
    DeliveryError,
    PaknSignError,
    ReceiptError,
    Rejected,
)
from ..signing.signers import Signer
from .backoff import RetryPolicy
from .directory import Directory
from .faults import FaultInjector
from .ids import uuid7
from .receipts import binds as _binds
from .receipts import verify_receipt
from .receiver import ENVELOPE_TYP
from .sealing import seal
from .spool import INLINE_MAX_MESSAGE, INLINE_MAX_PART, Spool
from .states import OutboxState
from .store import OutboxRecord, PartRef, Store
from .store_worker import StoreWorker, run_store
from .wire import EnvelopeHeader, PartInfo, ReplyRef, TraceEntry

__all__ = ["OutgoingPart", "Sender", "Transport", "verify_receipt"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutgoingPart:
    """A part to send: bytes in memory or a file streamed from disk."""

    name: str
    media_type: str
    data: bytes | Path


class MessageSpec(TypedDict, total=False):
    """What ``Sender.submit`` takes (the keyword arguments of ``Sender._prepare``)."""

    recipient: Required[str]
    parts: Required[Sequence[OutgoingPart]]
    conversation_id: str | None
    in_reply_to: ReplyRef | None
    subject: str
    trace: Sequence[TraceEntry]
    message_id: str | None
    action: Literal["sent", "forwarded", "relayed"]


class Transport(Protocol):
    """Moves frozen bytes to a peer; ``HTTPTransport`` is the real one."""

    async def post_message(
        self, endpoint: str, header: bytes, parts: Sequence[PartRef], faults: FaultInjector
    ) -> tuple[int, bytes]: ...

    async def get_receipt(self, endpoint: str, message_id: str) -> bytes | None: ...


def _small_bytes(data: bytes | Path, room: int) -> bytes | None:
    """The part's bytes if it is small enough to keep inline (spool.INLINE_MAX_*), else None."""
    limit = min(INLINE_MAX_PART, room)
    if isinstance(data, bytes):
        return data if len(data) <= limit else None
    with data.open("rb") as fh:
        head = fh.read(limit + 1)
    return head if len(head) <= limit else None


@dataclass
class Sender:
    """One node's outbox logic (the HTTP client is injected as ``transport``)."""

    me: str
    signer: Signer
    store: Store
    directory: Directory
    spool: Spool
    clock: Clock
    transport: Transport
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ttl: dt.timedelta = dt.timedelta(days=2)
    faults: FaultInjector = field(default_factory=FaultInjector)
    rng: random.Random = field(default_factory=random.SystemRandom)
    worker: StoreWorker | None = None
    """Runs the store calls of deliveries in batches (the node's); None: a thread each."""

    def submit(self, **kw: Unpack[MessageSpec]) -> OutboxRecord:
        """Freeze a message (id, parts, signed header) in the outbox and return its record.

        Keyword arguments as ``_prepare``; returns once the outbox COMMIT is durable.
        """
        rec = self._freeze(**kw)
        self.faults.hit("sender.after_outbox_commit")
        return rec

    async def submit_async(self, **kw: Unpack[MessageSpec]) -> OutboxRecord:
        """``submit`` for asyncio code: runs on the node's store worker, so the outbox COMMIT
        is shared with the node's other store work (one fsync for a batch)."""
        parts: Sequence[OutgoingPart] = kw["parts"]
        sizes = [len(p.data) if isinstance(p.data, bytes) else None for p in parts]
        if all(n is not None and n <= INLINE_MAX_PART for n in sizes) and (
            sum(n or 0 for n in sizes) <= INLINE_MAX_MESSAGE
        ):
            frozen = self._prepare(**kw)  # sealing only: every part inline, no file I/O
        else:  # spooling files must not hold up the event loop or the store worker
            frozen = await asyncio.to_thread(functools.partial(self._prepare, **kw))
        rec = await run_store(self.worker, functools.partial(self.store.enqueue, **frozen))
        self.faults.hit("sender.after_outbox_commit")
        return rec

    def _freeze(self, **kw: Unpack[MessageSpec]) -> OutboxRecord:
        """Seal the header, spool or inline the parts and enqueue (one store transaction)."""
        return self.store.enqueue(**self._prepare(**kw))

    def _prepare(
        self,
        *,
        recipient: str,
        parts: Sequence[OutgoingPart],
        conversation_id: str | None = None,
        in_reply_to: ReplyRef | None = None,
        subject: str = "",
        trace: Sequence[TraceEntry] = (),
        message_id: str | None = None,
        action: Literal["sent", "forwarded", "relayed"] = "sent",
    ) -> dict[str, Any]:
        """Seal the header and spool or inline the parts: the arguments of ``enqueue``.

        ``trace`` is the incoming message's trace when forwarding or relaying; this hop is
        appended to it as ``action`` (DESIGN.md §6: every hop adds a trace entry).
        """
        now = self.clock.now()
        self.directory.entry(recipient, now=now)  # refuse early: unknown partner, no directory
        mid = message_id or str(uuid7(now))
        infos: list[PartInfo] = []
        refs: list[PartRef] = []
        inline_total = 0
        for index, part in enumerate(parts):
            small = _small_bytes(part.data, INLINE_MAX_MESSAGE - inline_total)
            if small is not None:  # kept in the outbox row: durable with the enqueue COMMIT
                inline_total += len(small)
                digest, size = hashlib.sha256(small).hexdigest(), len(small)
                ref = PartRef(
                    part.name, part.media_type, digest, size,
                    self.spool.inline_location(digest), small,
                )  # fmt: skip
            else:
                src: BinaryIO = (
                    part.data.open("rb") if isinstance(part.data, Path) else io.BytesIO(part.data)
                )
                with src:
                    path, digest, size = self.spool.store_outgoing(mid, index, src)
                ref = PartRef(part.name, part.media_type, digest, size, str(path))
            infos.append(
                PartInfo(name=part.name, media_type=part.media_type, size=size, sha256=digest)
            )
            refs.append(ref)
        header = EnvelopeHeader(
            message_id=mid,
            conversation_id=conversation_id or mid,
            sender=self.me,
            recipient=recipient,
            in_reply_to=in_reply_to,
            created_at=now,
            expires_at=now + self.ttl,
            subject=subject,
            parts=infos,
            trace=[*trace, TraceEntry(organ_id=self.me, at=now, action=action, message_id=mid)],
        )
        sealed = seal(header, self.signer, typ=ENVELOPE_TYP)
        return {
            "message_id": mid,
            "recipient": recipient,
            "header": sealed,
            "envelope_digest": hashlib.sha256(sealed).hexdigest(),
            "parts": refs,
            "now": now,
        }

    async def deliver_one(self, rec: OutboxRecord) -> OutboxState:
        """One attempt for one message; returns its new state. Never raises on peer failure."""
        now = self.clock.now()
        target = self._endpoint(rec, now)
        if isinstance(target, OutboxState):  # (a str enum: test for it, not for str)
            return target
        # Store work runs in a worker thread: its fsyncs overlap other messages' network I/O.
        claim = functools.partial(self.store.claim, lease=self.retry.attempt_timeout)
        if not await run_store(self.worker, claim, [rec.message_id], now):
            return rec.state  # another worker (or process) is sending it right now
        return await self._attempt(rec, target)

    def _endpoint(self, rec: OutboxRecord, now: dt.datetime) -> str | OutboxState:
        """The partner's endpoint, or the state to report when there is nothing to push."""
        try:
            entry = self.directory.entry(rec.recipient, now=now)
        except PaknSignError as exc:
            return self._fail(rec, f"directory: {exc}", now)
        if entry.pull or entry.endpoint is None:
            return rec.state  # held for the partner to pull (docs/transport.md, pull inbox)
        return entry.endpoint

    async def _attempt(self, rec: OutboxRecord, endpoint: str) -> OutboxState:
        """Send a message this worker has claimed; verify and record the receipt."""
        now = self.clock.now()
        try:
            pins = self.directory.entry(rec.recipient, now=now).signing_cert_sha256
        except PaknSignError as exc:
            return self._fail(rec, f"directory: {exc}", now)
        try:
            receipt = None
            if rec.attempts > 0:
                # A lost response must not force a resend of the payload: ask first. The GET
                # is by id alone: a receipt not binding our message is no answer (the POST's
                # dedup is on (sender, id)), or a foreign one would fail every retry.
                receipt = await self.transport.get_receipt(endpoint, rec.message_id)
                if receipt is not None and not _binds(receipt, rec, self.me, pins):
                    receipt = None
            if receipt is None:
                _, receipt = await self.transport.post_message(
                    endpoint, rec.header, rec.parts, self.faults
                )
                self.faults.hit("sender.after_send_before_receipt")
            verify_receipt(receipt, rec, me=self.me, pins=pins)
        except Rejected as exc:
            self.faults.hit("sender.after_receipt_before_record")
            assert receipt is not None
            self.store.finish(
                rec.message_id, state=OutboxState.REJECTED, receipt=receipt, now=self.clock.now()
            )
            log.warning("message %s rejected: %s", rec.message_id, exc)
            return OutboxState.REJECTED
        except (DeliveryError, ReceiptError) as exc:
            return self._fail(rec, str(exc), self.clock.now())
        self.faults.hit("sender.after_receipt_before_record")
        await run_store(
            self.worker,
            functools.partial(
                self.store.finish,
                rec.message_id,
                state=OutboxState.ACKNOWLEDGED,
                receipt=receipt,
                now=self.clock.now(),
            ),
        )
        return OutboxState.ACKNOWLEDGED

    def _fail(self, rec: OutboxRecord, error: str, now: dt.datetime) -> OutboxState:
        attempts = rec.attempts + 1
        nxt = self.retry.next_attempt(
            attempts=attempts, queued_at=rec.queued_at, now=now, rng=self.rng
        )
        return self.store.retry_later(rec.message_id, next_attempt_at=nxt, error=error, now=now)

    def lease_for_pull(
        self, recipient: str, *, lease: dt.timedelta = dt.timedelta(seconds=60)
    ) -> OutboxRecord | None:
        """The next message held for a pull partner, claimed for ``lease`` (then due again)."""
        now = self.clock.now()
        for rec in self.store.due(now, limit=10, recipient=recipient):
            if self.store.mark_sending(rec.message_id, now, lease=lease):
                return rec
        return None

    def acknowledge_pulled(self, receipt: bytes, message_id: str) -> OutboxState:
        """Record the receipt a pull partner returns for a leased message (verified first)."""
        rec = self.store.outbox(message_id)
        if rec is None:
            raise ReceiptError(f"no outgoing message {message_id}")
        if rec.state in (OutboxState.ACKNOWLEDGED, OutboxState.REJECTED):
            return rec.state  # a repeated ack: same outcome
        entry = self.directory.entry(rec.recipient, now=self.clock.now())
        try:
            verify_receipt(receipt, rec, me=self.me, pins=entry.signing_cert_sha256)
        except Rejected:
            self.store.finish(
                message_id, state=OutboxState.REJECTED, receipt=receipt, now=self.clock.now()
            )
            return OutboxState.REJECTED
        self.store.finish(
            message_id, state=OutboxState.ACKNOWLEDGED, receipt=receipt, now=self.clock.now()
        )
        return OutboxState.ACKNOWLEDGED

    async def deliver_due(self, *, limit: int = 200, concurrency: int = 16) -> dict[str, int]:
        """Try every due message once, ``concurrency`` at a time; count the outcomes.

        Claims are taken ``concurrency`` messages per transaction, one chunk ahead of the
        workers, so a claimed message waits at most for two attempts to finish (its claim
        must not lapse before it is sent).
        """
        now = self.clock.now()
        counts: dict[str, int] = {}

        def count(state: OutboxState) -> None:
            counts[state.value] = counts.get(state.value, 0) + 1

        ready: collections.deque[tuple[OutboxRecord, str]] = collections.deque()
        for rec in self.store.due(now, limit=limit):
            target = self._endpoint(rec, now)
            if isinstance(target, OutboxState):
                count(target)
            else:
                ready.append((rec, target))
        # One claimer stays a chunk ahead of the workers (a worker never waits for a claim's
        # commit); at most 2 x concurrency claims wait, each for at most two attempts.
        workers = min(concurrency, len(ready))
        queue: asyncio.Queue[tuple[OutboxRecord, str] | None] = asyncio.Queue(concurrency)

        async def claimer() -> None:
            try:
                while ready:
                    chunk = [ready.popleft() for _ in range(min(concurrency, len(ready)))]
                    ids = await run_store(
                        self.worker,
                        functools.partial(self.store.claim, lease=self.retry.attempt_timeout),
                        [r.message_id for r, _ in chunk],
                        self.clock.now(),
                    )
                    for item in chunk:
                        if item[0].message_id in ids:
                            await queue.put(item)
                        else:  # another worker (or process) is sending it right now
                            count(item[0].state)
            finally:
                for _ in range(workers):
                    await queue.put(None)

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                count(await self._attempt(*item))

        claiming = asyncio.ensure_future(claimer())
        try:
            await asyncio.gather(*(worker() for _ in range(workers)))
        except BaseException:
            claiming.cancel()
            raise
        await claiming
        return counts
