"""``pakn-sign redrive``: dead outbox messages are listed and sent again, same id and bytes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from pakn_sign.cli._demo_setup import MINISTRY, VPCP
from pakn_sign.cli.main import main
from pakn_sign.transport.config import load_node_file
from pakn_sign.transport.states import OutboxState
from pakn_sign.transport.testbed import Testbed, build_testbed, effects, serve_process


@pytest.fixture
def dead(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Testbed, str]:
    """A testbed whose VPCP node holds one dead message (receiver down, one attempt allowed)."""
    bed = build_testbed(tmp_path, retry={"base": 0.01, "cap": 0.01, "max_attempts": 1})
    doc = tmp_path / "p.xml"
    doc.write_bytes(b"<p>phan anh</p>")
    assert main(["send", "--config", str(bed.configs[VPCP]), "--to", MINISTRY, str(doc)]) == 5
    out, err = capsys.readouterr()
    message_id = out.strip()
    assert "is dead; `pakn-sign redrive` re-queues it" in err
    return bed, message_id


def _row(bed: Testbed, message_id: str):  # type: ignore[no-untyped-def]
    node = load_node_file(bed.configs[VPCP]).build()
    try:
        return node.store.outbox(message_id)
    finally:
        asyncio.run(node.aclose())


def test_list_shows_the_dead_message(dead, capsys) -> None:  # type: ignore[no-untyped-def]
    bed, message_id = dead
    assert main(["redrive", "--config", str(bed.configs[VPCP]), "--list"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{message_id}\t{MINISTRY}\t1\t")
    assert "1 dead" in err


def test_not_dead_message_is_refused_and_nothing_changes(dead, capsys) -> None:  # type: ignore[no-untyped-def]
    bed, message_id = dead
    rc = main(["redrive", "--config", str(bed.configs[VPCP]), message_id, "no-such-id"])
    assert rc == 1
    assert "no-such-id is unknown" in capsys.readouterr().err
    assert _row(bed, message_id).state is OutboxState.DEAD  # the valid one was not touched


def test_usage_errors(dead) -> None:  # type: ignore[no-untyped-def]
    bed, message_id = dead
    cfg = str(bed.configs[VPCP])
    assert main(["redrive", "--config", cfg]) == 2
    assert main(["redrive", "--config", cfg, "--list", message_id]) == 2


def test_redrive_delivers_the_same_id_and_bytes_once(dead, capsys) -> None:  # type: ignore[no-untyped-def]
    bed, message_id = dead
    before = _row(bed, message_id)
    assert main(["redrive", "--config", str(bed.configs[VPCP]), "--all"]) == 0
    assert f"{message_id}: queued" in capsys.readouterr().err
    after = _row(bed, message_id)
    assert (after.state, after.attempts) == (OutboxState.QUEUED, 0)
    assert (after.header, after.envelope_digest) == (before.header, before.envelope_digest)
    assert main(["redrive", "--config", str(bed.configs[VPCP]), "--list"]) == 0
    assert capsys.readouterr().out == ""

    rx = serve_process(bed, MINISTRY).start(ready="READY")
    try:
        node = load_node_file(bed.configs[VPCP]).build()

        async def deliver() -> OutboxState:
            try:
                rec = node.store.outbox(message_id)
                assert rec is not None
                return await node.sender.deliver_one(rec)
            finally:
                await node.aclose()

        assert asyncio.run(deliver()) is OutboxState.ACKNOWLEDGED
        # The receipt comes after the durable commit; the handler's effect follows it.
        for _ in range(300):
            applied, _ = effects(bed.data_dir(MINISTRY))
            if applied:
                break
            time.sleep(0.05)
    finally:
        rx.stop()
    assert applied == {(VPCP, message_id): 1}
