"""The VPCP hub's handler: forward a verified petition once, even when re-run after a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from pakn_sign.cli._demo_setup import MINISTRY, PORTAL, VPCP, build_world, demo_petition
from pakn_sign.clock import FixedClock
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.transport.config import load_node_file
from pakn_sign.transport.handlers import handler_for, header_of
from pakn_sign.transport.receiver import ChunkReader
from pakn_sign.transport.sender import OutgoingPart

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


async def _chunks(paths: list[str]) -> Any:
    for p in paths:
        yield Path(p).read_bytes()


def test_hub_forwards_once_even_when_the_handler_runs_again(tmp_path: Path) -> None:
    world = build_world(tmp_path, algorithm="p256", now=NOW)
    # Revocation is checked against the PKI's live service in the demo; here it is off.
    for code in (PORTAL, VPCP):
        cfg = world.configs[code]
        cfg.write_text(
            cfg.read_text(encoding="utf-8")
            .replace('"revocation": "soft"', '"revocation": "off"')
            .replace('"allow_fetching": true', '"allow_fetching": false'),
            encoding="utf-8",
        )
    portal = load_node_file(world.configs[PORTAL]).build(clock=FixedClock(NOW))
    hub_file = load_node_file(world.configs[VPCP])
    hub = hub_file.build(clock=FixedClock(NOW))
    petition = sign_xml(demo_petition(NOW), world.pki.signer("citizen"), role="personal", at=NOW)
    out = portal.sender.submit(
        recipient=VPCP, parts=[OutgoingPart("petition.xml", "application/xml", petition)]
    )
    outcome = asyncio.run(
        hub.receiver.receive(out.header, ChunkReader(_chunks([p.path for p in out.parts])))
    )
    assert outcome.accepted
    (rec,) = hub.store.lease(NOW, duration=dt.timedelta(seconds=30))
    handle = handler_for(hub_file)
    assert handle is not None
    asyncio.run(handle(hub, rec))
    # A crash before the handler's completion: the message is leased and handled again,
    # later. The forwarding must not be queued a second time.
    hub.config.clock = FixedClock(NOW + dt.timedelta(minutes=5))
    asyncio.run(handle(hub, rec))
    assert hub.store.outbox_counts() == {"queued": 1}
    (fwd,) = hub.store.due(NOW + dt.timedelta(hours=1))
    assert fwd.recipient == MINISTRY
    names = [p.name for p in fwd.parts]
    assert names == ["petition.xml", "classification.xml", "forwarding.xml"]
    # The citizen's petition travels unchanged; the trace gains VPCP's hop.
    assert Path(fwd.parts[0].path).read_bytes() == petition
    trace = [(t.organ_id, t.action) for t in header_of_outbox(fwd).trace]
    assert trace == [(PORTAL, "sent"), (VPCP, "forwarded")]
    asyncio.run(portal.aclose())
    asyncio.run(hub.aclose())


def header_of_outbox(rec: Any) -> Any:
    class _R:
        header = rec.header

    return header_of(_R())  # type: ignore[arg-type]
