"""The exchange protocol end to end, in process (real HTTP semantics through ASGI):
envelopes, receipts, dedup, replay window, tampering, directory pinning."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from transport_helpers import MINISTRY, VPCP, MutableClock, make_mesh, signed_directory

from pakn_sign.errors import DeliveryError, ReceiptError, Rejected
from pakn_sign.signing.b64 import b64url_decode, b64url_encode
from pakn_sign.transport.receiver import RECEIPT_TYP, ChunkReader
from pakn_sign.transport.sealing import cert_sha256, open_sealed, seal
from pakn_sign.transport.sender import OutgoingPart, verify_receipt
from pakn_sign.transport.spool import INLINE_MAX_PART
from pakn_sign.transport.states import InboxState, OutboxState
from pakn_sign.transport.wire import EnvelopeHeader, Receipt, parse_wire
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
ENDPOINTS = {VPCP: f"http://{VPCP}", MINISTRY: f"http://{MINISTRY}"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"), algorithm="p256", now=NOW)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture
def mesh(pki: TestPKI, tmp_path: Path, clock: MutableClock):  # type: ignore[no-untyped-def]
    d = signed_directory(pki, now=NOW, endpoints=ENDPOINTS)
    m = make_mesh(pki, tmp_path, clock, [VPCP, MINISTRY], d)
    yield m
    for node in m.nodes.values():
        asyncio.run(node.aclose())


def _send(mesh, payload: bytes = "Đơn kiến nghị".encode()):  # type: ignore[no-untyped-def]
    rec = mesh.nodes[VPCP].sender.submit(
        recipient=MINISTRY,
        parts=[OutgoingPart("petition.xml", "application/xml", payload)],
        subject="Chuyển đơn",
    )
    return rec


def test_message_is_delivered_and_receipted(mesh) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    state = asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec))
    assert state is OutboxState.ACKNOWLEDGED
    stored = mesh.nodes[VPCP].store.outbox(rec.message_id)
    assert stored.receipt is not None
    inbox = mesh.nodes[MINISTRY].store.inbox(VPCP, rec.message_id)
    assert inbox is not None
    assert inbox.state is InboxState.RECEIVED
    assert Path(inbox.parts[0].path).read_bytes() == "Đơn kiến nghị".encode()
    assert inbox.receipt == stored.receipt
    states = [t.to_state for t in mesh.nodes[VPCP].store.transitions(rec.message_id)]
    assert states == ["queued", "sending", "acknowledged"]


def test_duplicate_replays_the_stored_receipt(mesh) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    rx = mesh.nodes[MINISTRY].receiver

    async def post() -> bytes:
        return (
            await mesh.nodes[VPCP].http.post_message(
                f"http://{MINISTRY}", rec.header, rec.parts, mesh.nodes[VPCP].sender.faults
            )
        )[1]

    first, second = asyncio.run(post()), asyncio.run(post())
    assert first == second
    assert rx.store.inbox_counts() == {"received": 1}


def test_duplicate_check_runs_off_the_event_loop_thread(mesh) -> None:  # type: ignore[no-untyped-def]
    """The dedup read takes the store connection's lock, which the store worker holds through
    a batch's fsynced COMMIT: on the loop's thread it would stall every request meanwhile."""
    import threading

    rec = _send(mesh)
    rx = mesh.nodes[MINISTRY].receiver
    loop_threads: list[bool] = []
    real_inbox = rx.store.inbox

    def spy(sender: str, message_id: str):  # type: ignore[no-untyped-def]
        loop_threads.append(threading.current_thread() is threading.main_thread())
        return real_inbox(sender, message_id)

    async def post() -> int:
        return (
            await mesh.nodes[VPCP].http.post_message(
                f"http://{MINISTRY}", rec.header, rec.parts, mesh.nodes[VPCP].sender.faults
            )
        )[0]

    asyncio.run(post())
    rx.store.inbox = spy
    try:
        assert asyncio.run(post()) == 200  # the duplicate: answered from the stored receipt
    finally:
        del rx.store.inbox
    assert loop_threads  # the check ran
    assert not any(loop_threads)


def test_same_id_other_bytes_is_refused_and_alerted(mesh) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec))
    # A different message that reuses the id: the receiver must refuse it, not overwrite.
    other = mesh.nodes[VPCP].sender.submit(
        recipient=MINISTRY,
        parts=[OutgoingPart("x.txt", "text/plain", b"other")],
    )
    header = parse_wire(
        EnvelopeHeader, b64url_decode(json.loads(other.header)["payload"]), what="h"
    )
    forged = header.model_copy(update={"message_id": rec.message_id})
    sealed = seal(forged, mesh.nodes[VPCP].config.signer, typ="pakn-envelope+json")
    status, receipt = asyncio.run(
        mesh.nodes[VPCP].http.post_message(
            f"http://{MINISTRY}", sealed, other.parts, mesh.nodes[VPCP].sender.faults
        )
    )
    assert status == 409
    r = json.loads(b64url_decode(json.loads(receipt)["payload"]))
    assert r["status"] == "rejected"
    assert r["error_code"] == "transport.duplicate_conflict"
    events = [json.loads(a.record)["event"] for a in mesh.nodes[MINISTRY].store.audit_records()]
    assert "alert.duplicate_conflict" in events


def test_attack_flipped_bit_in_header_is_refused(mesh) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    obj = json.loads(rec.header)
    sig = bytearray(b64url_decode(obj["signature"]))
    sig[5] ^= 0x01
    obj["signature"] = b64url_encode(bytes(sig))
    status, receipt = asyncio.run(
        mesh.nodes[VPCP].http.post_message(
            f"http://{MINISTRY}",
            json.dumps(obj).encode(),
            rec.parts,
            mesh.nodes[VPCP].sender.faults,
        )
    )
    assert status == 422
    r = json.loads(b64url_decode(json.loads(receipt)["payload"]))
    assert r["status"] == "rejected"
    assert mesh.nodes[MINISTRY].store.inbox_counts() == {}


@pytest.mark.parametrize("where", ["inline", "spooled"])
def test_attack_flipped_bit_in_body_is_refused(mesh, where: str) -> None:  # type: ignore[no-untyped-def]
    """The frozen bytes change after signing (storage corruption, tampering): refused.

    A small part is stored inline in the outbox row; a large one in a spool file.
    """
    sender = mesh.nodes[VPCP]
    if where == "inline":
        rec = _send(mesh)
        assert rec.parts[0].data is not None
        with sqlite3.connect(sender.store.path) as db:
            (blob,) = db.execute(
                "SELECT inline FROM outbox WHERE message_id=?", (rec.message_id,)
            ).fetchone()
            flipped = bytearray(blob)
            flipped[0] ^= 0x01
            db.execute(
                "UPDATE outbox SET inline=? WHERE message_id=?", (bytes(flipped), rec.message_id)
            )
        rec = sender.store.outbox(rec.message_id)  # re-read: the sender sends what is stored
        assert rec.parts[0].data == bytes(flipped)
    else:
        rec = _send(mesh, b"x" * (INLINE_MAX_PART + 1))
        assert rec.parts[0].data is None
        part = Path(rec.parts[0].path)
        data = bytearray(part.read_bytes())
        data[0] ^= 0x01
        part.write_bytes(bytes(data))
    state = asyncio.run(sender.sender.deliver_one(rec))
    assert state is OutboxState.REJECTED
    assert mesh.nodes[MINISTRY].store.inbox_counts() == {}
    r = json.loads(
        b64url_decode(json.loads(sender.store.outbox(rec.message_id).receipt)["payload"])
    )
    assert r["error_code"] == "transport.digest_mismatch"


def test_expired_message_gets_a_negative_receipt(mesh, clock: MutableClock) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    clock.advance(days=3)  # beyond the 2-day ttl and the 5-minute skew
    # The directory is valid for 30 days, so only the envelope's own expiry applies.
    state = asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec))
    assert state is OutboxState.REJECTED
    r = json.loads(
        b64url_decode(json.loads(mesh.nodes[VPCP].store.outbox(rec.message_id).receipt)["payload"])
    )
    assert r["error_code"] == "transport.expired"


@pytest.mark.parametrize(("shift", "accepted"), [(-299, True), (-301, False)])
def test_replay_window_skew_limits(mesh, clock: MutableClock, shift: int, accepted: bool) -> None:  # type: ignore[no-untyped-def]
    # Sender's clock runs ahead: created_at in the receiver's future by |shift| seconds.
    rec = _send(mesh)
    mesh.nodes[MINISTRY].receiver.clock = MutableClock(NOW + dt.timedelta(seconds=shift))
    state = asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec))
    assert (state is OutboxState.ACKNOWLEDGED) is accepted


def test_attack_receipt_signed_by_another_key(mesh, pki: TestPKI) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec))
    good = mesh.nodes[VPCP].store.outbox(rec.message_id)
    pins = [cert_sha256(pki.agencies[MINISTRY].cert)]
    receipt = open_sealed(good.receipt, Receipt, typ=RECEIPT_TYP, pinned=pins).model
    # Same content, signed by another agency's (valid, CA-issued) seal: not the pinned key.
    forged = seal(receipt, pki.agencies["000.00.00.G12"].signer(), typ=RECEIPT_TYP)
    header = parse_wire(EnvelopeHeader, b64url_decode(json.loads(good.header)["payload"]), what="h")
    with pytest.raises(ReceiptError):
        verify_receipt(forged, good, me=VPCP, pins=pins, header=header)
    verify_receipt(good.receipt, good, me=VPCP, pins=pins, header=header)


def test_attack_receipt_for_another_message(mesh, pki: TestPKI) -> None:  # type: ignore[no-untyped-def]
    a, b = _send(mesh, b"a"), _send(mesh, b"b")
    asyncio.run(mesh.nodes[VPCP].sender.deliver_one(a))
    a_rec = mesh.nodes[VPCP].store.outbox(a.message_id)
    header_b = parse_wire(EnvelopeHeader, b64url_decode(json.loads(b.header)["payload"]), what="h")
    with pytest.raises(ReceiptError):
        verify_receipt(
            a_rec.receipt,
            b,
            me=VPCP,
            pins=[cert_sha256(pki.agencies[MINISTRY].cert)],
            header=header_b,
        )


def test_rejected_receipt_raises_rejected(mesh, pki: TestPKI, clock: MutableClock) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    clock.advance(days=3)
    asyncio.run(mesh.nodes[VPCP].sender.deliver_one(rec))
    stored = mesh.nodes[VPCP].store.outbox(rec.message_id)
    header = parse_wire(
        EnvelopeHeader, b64url_decode(json.loads(stored.header)["payload"]), what="h"
    )
    with pytest.raises(Rejected) as info:
        verify_receipt(
            stored.receipt,
            stored,
            me=VPCP,
            pins=[cert_sha256(pki.agencies[MINISTRY].cert)],
            header=header,
        )
    assert info.value.code == "transport.expired"


def test_oversized_part_refused_before_reading_the_body(pki: TestPKI, tmp_path: Path) -> None:
    clock = MutableClock(NOW)
    d = signed_directory(pki, now=NOW, endpoints=ENDPOINTS, limits={"max_part_bytes": 10})
    mesh = make_mesh(pki, tmp_path, clock, [VPCP, MINISTRY], d)
    rec = _send(mesh, b"x" * 11)

    async def exploding():  # type: ignore[no-untyped-def]
        raise AssertionError("the body must not be read")
        yield b""  # pragma: no cover

    outcome = asyncio.run(
        mesh.nodes[MINISTRY].receiver.receive(rec.header, ChunkReader(exploding()))
    )
    assert not outcome.accepted
    assert outcome.status == 422
    r = json.loads(b64url_decode(json.loads(outcome.receipt)["payload"]))
    assert r["error_code"] == "input.too_large"


def test_lost_response_fetches_receipt_instead_of_resending(mesh) -> None:  # type: ignore[no-untyped-def]
    rec = _send(mesh)
    sender = mesh.nodes[VPCP].sender
    # First attempt reaches the receiver but the response is "lost".
    asyncio.run(
        mesh.nodes[VPCP].http.post_message(
            f"http://{MINISTRY}", rec.header, rec.parts, sender.faults
        )
    )
    mesh.nodes[VPCP].store.mark_sending(rec.message_id, NOW)
    mesh.nodes[VPCP].store.retry_later(rec.message_id, next_attempt_at=NOW, error="lost", now=NOW)
    posted: list[str] = []
    orig = mesh.nodes[VPCP].http.post_message

    async def spy(*a, **k):  # type: ignore[no-untyped-def]
        posted.append("post")
        return await orig(*a, **k)

    mesh.nodes[VPCP].http.post_message = spy
    state = asyncio.run(sender.deliver_one(mesh.nodes[VPCP].store.outbox(rec.message_id)))
    assert state is OutboxState.ACKNOWLEDGED
    assert posted == []


# --- pull inbox (lease + explicit ack) ---------------------------------------------------


@pytest.fixture
def pull_mesh(pki: TestPKI, tmp_path: Path, clock: MutableClock):  # type: ignore[no-untyped-def]
    d = signed_directory(pki, now=NOW, endpoints=ENDPOINTS, limits={"pull": True})
    m = make_mesh(pki, tmp_path, clock, [VPCP, MINISTRY], d)
    yield m
    for node in m.nodes.values():
        asyncio.run(node.aclose())


def test_pull_partner_gets_held_messages_with_receipts(pull_mesh) -> None:  # type: ignore[no-untyped-def]
    hub, agency = pull_mesh.nodes[VPCP], pull_mesh.nodes[MINISTRY]
    a, b = _send(pull_mesh, b"a"), _send(pull_mesh, b"b")
    # Push is skipped for a pull partner: nothing is attempted, nothing goes dead.
    assert asyncio.run(hub.sender.deliver_due()) == {"queued": 2}
    assert asyncio.run(agency.pull_once(VPCP)) is True
    assert asyncio.run(agency.pull_once(VPCP)) is True
    assert asyncio.run(agency.pull_once(VPCP)) is False  # 204: nothing held
    assert hub.store.outbox_counts() == {"acknowledged": 2}
    for rec in (a, b):
        stored = hub.store.outbox(rec.message_id)
        assert stored is not None
        assert stored.receipt == agency.store.inbox(VPCP, rec.message_id).receipt


def test_pull_lease_expires_and_redelivery_is_deduplicated(  # type: ignore[no-untyped-def]
    pull_mesh, clock: MutableClock
) -> None:
    hub, agency = pull_mesh.nodes[VPCP], pull_mesh.nodes[MINISTRY]
    rec = _send(pull_mesh)
    leased = hub.sender.lease_for_pull(MINISTRY)  # pulled, but the ack never comes back
    assert leased is not None
    assert leased.message_id == rec.message_id
    assert hub.sender.lease_for_pull(MINISTRY) is None  # still leased
    clock.advance(seconds=61)
    assert asyncio.run(agency.pull_once(VPCP)) is True
    assert hub.store.outbox_counts() == {"acknowledged": 1}
    assert agency.store.inbox_counts() == {"received": 1}


def test_attack_pull_request_signed_by_another_agency(pull_mesh, pki: TestPKI) -> None:  # type: ignore[no-untyped-def]
    hub = pull_mesh.nodes[VPCP]
    _send(pull_mesh)
    from pakn_sign.transport.server import PULL_TYP
    from pakn_sign.transport.wire import PullRequest

    forged = seal(
        PullRequest(agency=MINISTRY, at=NOW, nonce="0" * 32),
        pki.agencies["000.00.00.G12"].signer(),
        typ=PULL_TYP,
    )
    transport = pull_pull = pull_mesh.transport_for(f"http://{VPCP}")
    assert transport is pull_pull

    async def post() -> int:
        import httpx

        async with httpx.AsyncClient(transport=transport) as c:
            return (await c.post(f"http://{VPCP}/v1/pull", content=forged)).status_code

    assert asyncio.run(post()) == 403
    assert hub.store.outbox_counts() == {"queued": 1}


def test_attack_deeply_nested_json_to_the_inbox_and_pull_ack(mesh) -> None:  # type: ignore[no-untyped-def]
    """Hostile JSON bodies get a typed refusal (400 / 422), never an unhandled RecursionError."""
    import httpx

    deep = b"[" * 100_000 + b"]" * 100_000
    transport = mesh.transport_for(f"http://{MINISTRY}")

    async def post(path: str, body: bytes, headers: dict[str, str]) -> int:
        async with httpx.AsyncClient(transport=transport) as c:
            r = await c.post(f"http://{MINISTRY}{path}", content=body, headers=headers)
            return r.status_code

    envelope = {
        "content-type": "application/vnd.pakn.envelope",
        "pakn-header-length": str(len(deep[:200_000])),
    }
    status = asyncio.run(post("/v1/messages", deep[:200_000], envelope))
    assert status in (400, 413, 422)
    assert asyncio.run(post("/v1/pull/ack", deep[:200_000], {})) == 422
    assert mesh.nodes[MINISTRY].store.inbox_counts() == {}


def test_attack_concurrent_duplicates_never_process_one_message_twice_at_once(mesh) -> None:  # type: ignore[no-untyped-def]
    """Dedup serialises every delivery of one (sender, id): a copy arriving after the first
    finished, while a second still runs, must wait too (it used to get a fresh lock and run
    beside the second; two accepts of one message then replace each other's part files)."""
    rec = _send(mesh)
    rx = mesh.nodes[MINISTRY].receiver
    active: list[int] = [0]
    peak: list[int] = [0]
    real = rx._receive_locked

    async def slow(*a, **k):  # type: ignore[no-untyped-def]
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        try:
            await asyncio.sleep(0.2)
            return await real(*a, **k)
        finally:
            active[0] -= 1

    rx._receive_locked = slow

    async def one(delay: float) -> bool:
        await asyncio.sleep(delay)

        async def body():  # type: ignore[no-untyped-def]
            for part in rec.parts:
                yield part.read_bytes()

        return (await rx.receive(rec.header, ChunkReader(body()))).accepted

    async def main() -> list[bool]:
        # 1st and 2nd together; the 3rd after the 1st is done, while the 2nd still runs.
        return list(await asyncio.gather(one(0), one(0), one(0.3)))

    assert asyncio.run(main()) == [True, True, True]
    assert peak[0] == 1
    assert rx._locks == {}


@pytest.mark.parametrize("length", [b"1099511627776", b"0", b"12abc"], ids=["1TB", "zero", "nan"])
def test_attack_pull_answer_header_length_checked_before_reading(pull_mesh, length: bytes) -> None:  # type: ignore[no-untyped-def]
    """The hub's Pakn-Header-Length is bounded by the receiver's header limit before a byte
    is buffered (as the push route does); a malformed one is a DeliveryError, not a crash."""
    hub, agency = pull_mesh.nodes[VPCP], pull_mesh.nodes[MINISTRY]

    async def liar(scope, receive, send):  # type: ignore[no-untyped-def]
        await send(
            {"type": "http.response.start", "status": 200,
             "headers": [(b"pakn-header-length", length), (b"content-type", b"x")]}
        )  # fmt: skip
        await send({"type": "http.response.body", "body": b"h" * 300_000})

    hub.app = liar
    with pytest.raises(DeliveryError, match="header length"):
        asyncio.run(agency.pull_once(VPCP))


def test_attack_foreign_receipt_on_get_does_not_block_delivery(mesh) -> None:  # type: ignore[no-untyped-def]
    """The receipt GET is by message id alone: a stored receipt that does not bind our
    message (another sender's message under the same id, or any wrong answer) is no answer;
    the sender POSTs its message (dedup there is on (sender, id)) instead of failing every
    retry until the message is dead."""
    node = mesh.nodes[VPCP]
    other = _send(mesh, b"other")
    assert asyncio.run(node.sender.deliver_one(other)) is OutboxState.ACKNOWLEDGED
    foreign = node.store.outbox(other.message_id).receipt
    rec = _send(mesh)
    node.store.mark_sending(rec.message_id, NOW)
    node.store.retry_later(rec.message_id, next_attempt_at=NOW, error="lost", now=NOW)

    async def wrong(endpoint: str, message_id: str) -> bytes:
        return foreign

    node.http.get_receipt = wrong
    again = node.store.outbox(rec.message_id)
    assert again.attempts == 1
    assert asyncio.run(node.sender.deliver_one(again)) is OutboxState.ACKNOWLEDGED
