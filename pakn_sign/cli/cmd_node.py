"""``pakn-sign serve | send | status | audit``: run and operate an exchange node."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import click

from ..errors import DeliveryError
from ..transport.config import load_node_file
from ..transport.faults import FaultInjector
from ..transport.handlers import handler_for
from ..transport.sealing import cert_sha256
from ..transport.sender import OutgoingPart
from ..transport.serve import run_node
from ..transport.states import OutboxState

__all__ = ["commands"]

_config = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Node configuration file (JSON; docs/transport.md).",
)


@click.command("serve")
@_config
@click.option("--port", type=int, default=None, help="Overrides the config's port.")
def serve(config_path: str, port: int | None) -> None:
    """Run a node: HTTPS inbox (mutual TLS), outbox worker and inbox handler."""
    nf = load_node_file(config_path)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format=f"%(asctime)s {nf.raw['agency_code']} %(levelname)s %(name)s: %(message)s",
    )
    node = nf.build(faults=FaultInjector.from_env())
    handler = handler_for(nf)

    def ready() -> None:
        click.echo(f"READY {nf.raw['agency_code']} on port {port or nf.port}", err=True)

    run_node(node, host=nf.host, port=port or nf.port, handler=handler, on_ready=ready)


@click.command("send")
@_config
@click.option("--to", "recipient", required=True, help="Recipient agency code.")
@click.option("--subject", default="", help="Subject line (signed).")
@click.option("--conversation", default=None, help="Conversation id (default: the message id).")
@click.option("--media-type", default="application/xml", show_default=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def send(
    config_path: str,
    recipient: str,
    subject: str,
    conversation: str | None,
    media_type: str,
    files: tuple[str, ...],
) -> int:
    """Queue FILES as one signed message to --to and try to deliver it now.

    Prints the message id. Exit 0 when acknowledged; 5 when it stays queued for retry.
    """
    nf = load_node_file(config_path)
    node = nf.build(faults=FaultInjector.from_env())
    parts = [OutgoingPart(Path(f).name, media_type, Path(f)) for f in files]
    rec = node.sender.submit(
        recipient=recipient, parts=parts, subject=subject, conversation_id=conversation
    )
    click.echo(rec.message_id)
    state = asyncio.run(_deliver(node, rec.message_id))
    click.echo(f"{rec.message_id}: {state.value}", err=True)
    if state is OutboxState.ACKNOWLEDGED:
        return 0
    if state is OutboxState.REJECTED:
        return 1
    if state is OutboxState.DEAD:
        raise DeliveryError(
            f"message {rec.message_id} is dead; `pakn-sign redrive` re-queues it",
            location=rec.message_id,
        )
    raise DeliveryError(f"message {rec.message_id} is {state.value}; the node will retry it")


async def _deliver(node, message_id: str) -> OutboxState:  # type: ignore[no-untyped-def]
    try:
        rec = node.store.outbox(message_id)
        return await node.sender.deliver_one(rec)  # type: ignore[no-any-return]
    finally:
        await node.aclose()


@click.command("status")
@_config
@click.argument("message_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(config_path: str, message_id: str | None, as_json: bool) -> None:
    """Outbox and inbox counts, or one message's state transitions."""
    node = load_node_file(config_path).build()
    try:
        data: dict[str, object]
        if message_id is None:
            data = {"outbox": node.store.outbox_counts(), "inbox": node.store.inbox_counts()}
        else:
            rows = node.store.transitions(message_id)
            inbox = node.store.inbox_by_id(message_id)
            if inbox is not None:
                rows += node.store.transitions(f"{inbox.sender}/{message_id}")
            data = {
                "message_id": message_id,
                "transitions": [
                    {
                        "box": t.box,
                        "from": t.from_state,
                        "to": t.to_state,
                        "at": t.at.isoformat(),
                        "detail": t.detail,
                    }
                    for t in rows
                ],
            }
    finally:
        asyncio.run(node.aclose())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for k, v in data.items():
            click.echo(f"{k}: {v}")


@click.group("audit")
def audit() -> None:
    """Inspect and verify the node's hash-chained audit log."""


@audit.command("verify")
@_config
def audit_verify(config_path: str) -> None:
    """Recompute the chain and check every signed checkpoint (exit 1 on any change)."""
    node = load_node_file(config_path).build()
    try:
        pins = frozenset({cert_sha256(node.config.signer.certificate_chain[0])})
        n = node.verify_audit(pins)
        cps = len(node.store.checkpoints())
    finally:
        asyncio.run(node.aclose())
    click.echo(f"OK: {n} records, {cps} signed checkpoints", err=True)


@audit.command("checkpoint")
@_config
def audit_checkpoint(config_path: str) -> None:
    """Sign the current head of the chain."""
    node = load_node_file(config_path).build()
    try:
        cp = node.checkpoint()
    finally:
        asyncio.run(node.aclose())
    click.echo("empty log" if cp is None else f"checkpoint at {cp.seq}: {cp.head.hex()}", err=True)


commands = (serve, send, status, audit)
