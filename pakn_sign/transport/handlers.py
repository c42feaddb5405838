"""Business handlers for the node roles (DESIGN.md §6 hub; docs/transport.md).

- ``hub`` (VPCP): a petition from the portal is verified, classified and forwarded
  UNCHANGED to the competent agency together with VPCP's signed Classification and
  Forwarding; answers and status notices from agencies are verified and relayed unchanged
  to where the conversation started. Every hop adds a trace entry.
- ``agency-demo``: answers a forwarded petition automatically (status 03, then an Answer
  signed by the official and sealed by the agency). Real agencies plug their own handler.
- ``portal`` / ``agency``: verify what arrives and keep it (the application leases it).

Handlers are idempotent per (sender, message id): the outgoing message id is derived from
the incoming one, and a message already in the outbox is not submitted again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..models import (
    Answer,
    Classification,
    DocumentRef,
    Forwarding,
    Official,
    Petition,
    StatusNotice,
)
from ..models.common import Deadline
from ..models.handling import EdxmlStatus
from ..models.intake import ClassificationCode
from ..signing.b64 import b64url_decode
from ..signing.sign_xml import sign_xml
from ..signing.timestamps import HttpTimestampAuthority
from ..trust.policy import RevocationMode, TrustPolicy
from ..verify import verify
from .config import NodeFile
from .node import Node
from .sender import OutgoingPart
from .serve import Handler
from .store import InboxRecord, PartRef
from .wire import EnvelopeHeader, ReplyRef, TraceEntry, parse_wire

__all__ = ["handler_for", "policy_from_config"]


def policy_from_config(nf: NodeFile) -> TrustPolicy:
    """The node's TrustPolicy for verifying documents (``trust`` in the config file)."""
    t = nf.raw.get("trust")
    if not t:
        raise ConfigurationError(f"{nf.path}: a {nf.role} node needs a 'trust' section")
    return TrustPolicy.from_pem_files(
        [nf.resolve(p) for p in t["anchors"]],
        intermediates=[nf.resolve(p) for p in t.get("intermediates", [])],
        crls=[nf.resolve(p) for p in t.get("crls", [])],
        revocation=RevocationMode(t.get("revocation", "soft")),
        allow_fetching=bool(t.get("allow_fetching", False)),
    )


def _source(part: PartRef) -> bytes | Path:
    """Forward a part as stored: inline bytes, or the spooled file (streamed, not loaded)."""
    return part.data if part.data is not None else Path(part.location)


def header_of(rec: InboxRecord) -> EnvelopeHeader:
    """The (already verified) envelope header of a stored message."""
    return parse_wire(
        EnvelopeHeader, b64url_decode(json.loads(rec.header)["payload"]), what="header"
    )


def derived_id(incoming: str, purpose: str, at: dt.datetime) -> str:
    """A UUIDv7-shaped id fixed by (incoming id, purpose, the incoming message's signed
    creation time): a handler re-run after a crash derives the same id, so nothing is sent
    twice (never pass the current time here)."""
    from .ids import uuid7

    seed = hashlib.sha256(f"{incoming}/{purpose}".encode()).digest()[:10]
    return str(uuid7(at, rand=seed))


def _doc_id(organ: str, at: dt.datetime, seed: str, notation: str) -> str:
    number = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % 90000 + 10000
    return f"{organ},{at:%Y/%m/%d},{number}/{notation}"


def _ref(doc: Any) -> DocumentRef:
    # DocumentRef binds the document's content (canonical JSON digest), whatever its format.
    return DocumentRef.of(doc)


async def _submit_once(node: Node, mid: str, **kw: Any) -> None:
    # On the store worker: the outbox COMMIT never blocks the node's event loop.
    if node.store.outbox(mid) is None:
        await node.sender.submit_async(message_id=mid, **kw)


def _trace(header: EnvelopeHeader) -> list[TraceEntry]:
    return list(header.trace)


def make_hub(nf: NodeFile) -> Handler:
    policy = policy_from_config(nf)
    routes: dict[str, str] = nf.raw.get("routes", {})
    answer_days = int(nf.raw.get("answer_days", 20))

    async def handle(node: Node, rec: InboxRecord) -> None:
        header = header_of(rec)
        now = node.config.clock.now()
        me = node.config.agency_code
        parts = {p.name: p.read_bytes() for p in rec.parts}
        results = {name: verify(data, policy=policy) for name, data in parts.items()}
        petitions = [(n, r) for n, r in results.items() if isinstance(r.document, Petition)]
        if petitions:
            name, result = petitions[0]
            petition = result.document
            assert isinstance(petition, Petition)
            agency = routes.get(str(petition.sector), routes.get("default"))
            if agency is None:
                raise ConfigurationError("the hub has no route for this petition")
            cls_doc = Classification(
                document_id=_doc_id(me, now, rec.message_id + "/c", "VPCP-PL"),
                case_id=petition.case_id,
                petition=_ref(petition),
                issuer=me,
                issued_at=now,
                classification=ClassificationCode.ADMIN_BEHAVIOUR,
                sector=petition.sector or "TNMT",
                competent_agency=agency,
                reason="Phản ánh về hành vi hành chính; chuyển cơ quan có thẩm quyền.",
            )
            cls_signed = sign_xml(cls_doc, node.config.signer, role="organisation", at=now)
            fwd = Forwarding(
                document_id=_doc_id(me, now, rec.message_id + "/f", "VPCP-PAKN"),
                case_id=petition.case_id,
                petition=_ref(petition),
                classification=_ref(cls_doc),
                issuer=me,
                issued_at=now,
                to_agency=agency,
                answer_due=Deadline(
                    due_on=(now + dt.timedelta(days=answer_days)).date(),
                    rule="answer",
                    legal_source="Quyết định 574/QĐ-TTg",
                ),
            )
            fwd_signed = sign_xml(fwd, node.config.signer, role="organisation", at=now)
            mid = derived_id(rec.message_id, "forward", header.created_at)
            await _submit_once(
                node,
                mid,
                recipient=agency,
                conversation_id=header.conversation_id,
                subject=f"Chuyển PAKN {petition.document_id}",
                parts=[
                    OutgoingPart(name, "application/xml", parts[name]),
                    OutgoingPart("classification.xml", "application/xml", cls_signed),
                    OutgoingPart("forwarding.xml", "application/xml", fwd_signed),
                ],
                trace=_trace(header),
                action="forwarded",
            )
            return
        # From an agency: relay unchanged to where the conversation started.
        origin = node.store.inbox_by_id(header.conversation_id)
        if origin is None:
            raise ConfigurationError(f"no conversation {header.conversation_id} to relay to")
        mid = derived_id(rec.message_id, "relay", header.created_at)
        await _submit_once(
            node,
            mid,
            recipient=origin.sender,
            conversation_id=header.conversation_id,
            subject=header.subject,
            in_reply_to=header.in_reply_to,
            parts=[OutgoingPart(p.name, p.media_type, _source(p)) for p in rec.parts],
            trace=_trace(header),
            action="relayed",
        )

    return handle


def make_demo_agency(nf: NodeFile) -> Handler:
    policy = policy_from_config(nf)
    from ..signing.signer_loader import load_signer

    o = nf.raw["official"]
    official = load_signer(p12=nf.resolve(o["p12"]), password=o.get("password"))
    tsa = HttpTimestampAuthority(nf.raw["tsa_url"]) if nf.raw.get("tsa_url") else None
    official_info = Official(
        full_name=o["full_name"], position=o["position"], competence=o.get("competence")
    )

    async def handle(node: Node, rec: InboxRecord) -> None:
        header = header_of(rec)
        now = node.config.clock.now()
        me = node.config.agency_code
        parts = {p.name: p.read_bytes() for p in rec.parts}
        fwd_bytes = parts.get("forwarding.xml")
        if fwd_bytes is None:
            return
        fwd = verify(fwd_bytes, policy=policy, expect=Forwarding).document
        assert isinstance(fwd, Forwarding)
        for data in parts.values():
            verify(data, policy=policy)  # the petition and classification, signatures intact
        reply = ReplyRef(message_id=rec.message_id, envelope_digest=rec.envelope_digest)

        async def reply_once(purpose: str, subject: str, name: str, data: bytes) -> None:
            await _submit_once(
                node,
                derived_id(rec.message_id, purpose, header.created_at),
                recipient=header.sender,
                conversation_id=header.conversation_id,
                in_reply_to=reply,
                subject=subject,
                parts=[OutgoingPart(name, "application/xml", data)],
                trace=_trace(header),
            )

        notice = StatusNotice(
            document_id=_doc_id(me, now, rec.message_id + "/s", "BNNMT-VP"),
            case_id=fwd.case_id,
            response_for=_ref(fwd),
            issuer=me,
            issued_at=now,
            status=EdxmlStatus.ACCEPTED,
            description="Đã tiếp nhận, vào sổ văn bản đến.",
        )
        notice_signed = sign_xml(notice, node.config.signer, role="organisation", at=now)
        await reply_once("status-03", "Trạng thái 03", "status.xml", notice_signed)
        # The answer is written after the notice: its time must be strictly later.
        answer_at = max(node.config.clock.now(), now + dt.timedelta(milliseconds=1))
        answer = Answer(
            document_id=_doc_id(me, now, rec.message_id + "/a", "BNNMT-PC"),
            case_id=fwd.case_id,
            forwarding=_ref(fwd),
            issuer=me,
            issued_at=answer_at,
            official=official_info,
            text=(
                "Bộ đã xem xét phản ánh. Việc cấp giấy chứng nhận quyền sử dụng đất chậm do "
                "thiếu hồ sơ đo đạc; Sở Nông nghiệp và Môi trường đã chỉ đạo hoàn thành "
                "trong 10 ngày làm việc."
            ),
        )
        personal = sign_xml(answer, official, role="personal", at=answer_at)
        # The seal carries a signature timestamp when the node has a TSA (XAdES B-T).
        sealed = sign_xml(
            personal,
            node.config.signer,
            role="organisation",
            at=answer_at,
            level="B-T" if tsa else "B-B",
            tsa=tsa,
        )
        await reply_once("answer", "Trả lời PAKN", "answer.xml", sealed)

    return handle


def make_keeper(nf: NodeFile) -> Handler:
    """Verify every part on arrival; the message then waits for the application."""
    policy = policy_from_config(nf) if nf.raw.get("trust") else None

    async def handle(node: Node, rec: InboxRecord) -> None:
        if policy is not None:
            for p in rec.parts:
                verify(p.read_bytes(), policy=policy)

    return handle


def _make_counting(nf: NodeFile) -> Handler:
    # The fault-injection tests' idempotent handler (pakn_sign/transport/testbed.py).
    from .testbed import make_counting

    return make_counting(nf)


def handler_for(nf: NodeFile) -> Handler | None:
    """The handler for the node's ``role``."""
    makers = {
        "hub": make_hub,
        "agency-demo": make_demo_agency,
        "portal": make_keeper,
        "agency": make_keeper,
        "counting": _make_counting,
    }
    maker = makers.get(nf.role)
    if maker is None:
        raise ConfigurationError(f"unknown node role {nf.role!r}; known: {sorted(makers)}")
    return maker(nf)
