"""``pakn-sign redrive``: list dead outbox messages and send them again, same id and bytes.

A message is dead after too many attempts or past its maximum age (docs/transport.md §4).
Re-driving re-queues it with its attempts reset; the serving node's worker then delivers it.
The id and bytes stay those frozen at submission, so the receiver's dedup still holds.
"""

from __future__ import annotations

import asyncio
import json

import click

from ..clock import SystemClock
from ..errors import StoreError
from ..transport.config import load_node_file
from ..transport.states import OutboxState
from ..transport.store import Store

__all__ = ["command", "dead_message_ids"]


def dead_message_ids(store: Store) -> list[str]:
    """Ids of the outbox messages that are dead now, oldest death first.

    Read from the audit log's ``sent.dead`` events (each death is appended there in the same
    transaction), then checked against the outbox: a re-driven message is no longer dead.
    """
    seen: dict[str, None] = {}
    for rec in store.audit_records():
        event = json.loads(rec.record)
        if event.get("event") == "sent.dead":
            seen.pop(event["message_id"], None)
            seen[event["message_id"]] = None
    dead = []
    for message_id in seen:
        row = store.outbox(message_id)
        if row is not None and row.state is OutboxState.DEAD:
            dead.append(message_id)
    return dead


@click.command("redrive")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Node configuration file (JSON; docs/transport.md).",
)
@click.option("--all", "all_dead", is_flag=True, help="Re-drive every dead message.")
@click.option("--list", "list_only", is_flag=True, help="Only list the dead messages.")
@click.argument("message_ids", nargs=-1)
def command(
    config_path: str, all_dead: bool, list_only: bool, message_ids: tuple[str, ...]
) -> None:
    """Re-queue dead outbox messages (MESSAGE_IDS, or --all); --list shows them.

    Every named message is checked first: if one is unknown or not dead, exit 1 and
    nothing is changed.
    """
    if list_only and (all_dead or message_ids):
        raise click.UsageError("--list takes no message ids and no --all")
    if not list_only and not all_dead and not message_ids:
        raise click.UsageError("name MESSAGE_IDS, or use --all or --list")
    node = load_node_file(config_path).build()
    try:
        store = node.store
        dead = dead_message_ids(store)
        if list_only:
            for message_id in dead:
                row = store.outbox(message_id)
                assert row is not None
                click.echo(f"{message_id}\t{row.recipient}\t{row.attempts}\t{row.last_error or ''}")
            click.echo(f"{len(dead)} dead", err=True)
            return
        targets = dead if all_dead else list(message_ids)
        now = SystemClock().now()
        for message_id in targets:
            row = store.outbox(message_id)
            if row is None or row.state is not OutboxState.DEAD:
                state = "unknown" if row is None else row.state.value
                raise StoreError(
                    f"only dead messages re-drive; {message_id} is {state}", location=message_id
                )
        for message_id in targets:
            store.redrive(message_id, now)
            click.echo(f"{message_id}: {OutboxState.QUEUED.value}", err=True)
    finally:
        asyncio.run(node.aclose())
