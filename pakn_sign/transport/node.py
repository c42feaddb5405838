"""A node: one agency's outbox, inbox, directory, spool and keys, wired together.

This is the I/O shell (files, SQLite, the clock, the fault variable); the protocol logic
lives in ``sender``, ``receiver``, ``sealing`` and ``directory``.
"""

from __future__ import annotations

import datetime as dt
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import AwareDatetime

from ..clock import Clock, SystemClock
from ..errors import ConfigurationError, DeliveryError
from ..signing.signers import Signer
from .audit import AuditRecord, Checkpoint, verify_chain
from .backoff import RetryPolicy
from .client import HTTPTransport, url_scheme
from .directory import Directory
from .faults import FaultInjector
from .receiver import ChunkReader, Receiver
from .sealing import open_sealed, seal
from .sender import Sender
from .server import PULL_TYP, InboxApp
from .spool import Spool
from .store_sqlite import SQLiteStore
from .store_worker import StoreWorker
from .tls import client_context
from .wire import PullRequest, _Wire

__all__ = ["Node", "NodeConfig", "TLSFiles"]

CHECKPOINT_TYP = "pakn-audit-checkpoint+json"


class CheckpointPayload(_Wire):
    """What a checkpoint signs."""

    seq: int
    head: str
    at: AwareDatetime


@dataclass(frozen=True, slots=True)
class TLSFiles:
    """This node's TLS certificates and keys (PEM) for mutual TLS.

    ``cert``/``key`` are presented as a client; ``server_cert``/``server_key`` (default:
    the same) when serving.
    """

    cert: Path
    key: Path
    server_cert: Path | None = None
    server_key: Path | None = None


@dataclass
class NodeConfig:
    """Everything a node needs; ``data_dir`` holds ``node.db`` and ``spool/``."""

    agency_code: str
    data_dir: Path
    signer: Signer
    directory: Directory
    tls: TLSFiles | None = None
    clock: Clock = field(default_factory=SystemClock)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    faults: FaultInjector = field(default_factory=FaultInjector)
    handler_lease: dt.timedelta = dt.timedelta(seconds=60)
    """How long the inbox handler holds a message; after a crash it runs again then."""
    transport_for: Callable[[str], httpx.AsyncBaseTransport | None] | None = None
    pull_from: tuple[str, ...] = ()
    """Hubs to pull messages from (agencies without inbound connectivity)."""


class Node:
    """Sender + Receiver + ASGI app over one store."""

    def __init__(self, config: NodeConfig):
        self.config = config
        # Absolute: part paths are stored in the database and read by other processes.
        config.data_dir = config.data_dir.resolve()
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = SQLiteStore(config.data_dir / "node.db")
        self.spool = Spool(config.data_dir / "spool")
        self.worker = StoreWorker(self.store)  # one thread, batched COMMITs (store_worker.py)
        self.directory = config.directory
        self.receiver = Receiver(
            me=config.agency_code,
            signer=config.signer,
            store=self.store,
            directory=self.directory,
            spool=self.spool,
            clock=config.clock,
            faults=config.faults,
            worker=self.worker,
        )
        self.http = HTTPTransport(ssl_for=self._ssl_for, transport_for=config.transport_for)
        self.sender = Sender(
            me=config.agency_code,
            signer=config.signer,
            store=self.store,
            directory=self.directory,
            spool=self.spool,
            clock=config.clock,
            transport=self.http,
            retry=config.retry,
            faults=config.faults,
            worker=self.worker,
        )
        self.app = InboxApp(self.receiver, directory=self.directory, sender=self.sender)
        self._ssl_cache: dict[tuple[str, ...], ssl.SSLContext] = {}

    def _ssl_for(self, endpoint: str) -> ssl.SSLContext | None:
        if url_scheme(endpoint) != "https":  # HTTPS://, Https:// are https too
            return None
        tls = self.config.tls
        if tls is None:
            raise ConfigurationError("an https endpoint needs this node's TLS certificate")
        pins = tuple(
            cert
            for p in self.directory.partners()
            if p.endpoint and p.endpoint.rstrip("/") == endpoint.rstrip("/")
            for cert in p.tls_certificates
        )
        ctx = self._ssl_cache.get(pins)
        if ctx is None:
            ctx = client_context(cert=tls.cert, key=tls.key, pinned_server_certs=pins)
            self._ssl_cache[pins] = ctx
        return ctx

    async def pull_once(self, hub: str) -> bool:
        """Pull, store, receipt and acknowledge one message held for us at ``hub``.

        Returns False when the hub holds nothing. The pulled bytes go through the same
        ``Receiver`` as a push; an unacknowledged lease simply expires and is pulled again
        (the receiver's dedup replays the same receipt).
        """
        now = self.config.clock.now()
        entry = self.directory.entry(hub, now=now)
        if entry.endpoint is None:
            raise ConfigurationError(f"{hub} has no endpoint to pull from")
        request = seal(
            PullRequest(agency=self.config.agency_code, at=now, nonce=uuid.uuid4().hex),
            self.config.signer,
            typ=PULL_TYP,
        )
        client = self.http._client(entry.endpoint)
        base = entry.endpoint.rstrip("/")
        try:
            async with client.stream("POST", base + "/v1/pull", content=request) as resp:
                if resp.status_code == 204:
                    return False
                if resp.status_code != 200:
                    raise DeliveryError(f"pull from {hub}: HTTP {resp.status_code}")
                size = resp.headers.get("pakn-header-length", "")
                # Bounded before a byte is read, as the push route bounds it (server.py).
                if (
                    not (size.isascii() and size.isdigit())
                    or not 0 < int(size) <= self.receiver.max_header_bytes
                ):
                    raise DeliveryError(f"pull from {hub}: bad header length {size[:20]!r}")
                reader = ChunkReader(resp.aiter_raw())
                header = await reader.read_exact(int(size))
                outcome = await self.receiver.receive(header, reader)
            ack = await client.post(base + "/v1/pull/ack", content=outcome.receipt)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"pull from {hub} failed: {exc}") from exc
        if ack.status_code != 200:
            raise DeliveryError(f"{hub} did not take our receipt: HTTP {ack.status_code}")
        return True

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head of the audit chain (None if the log is empty)."""
        records = self.store.audit_records()
        if not records:
            return None
        last = records[-1]
        payload = CheckpointPayload(seq=last.seq, head=last.hash.hex(), at=self.config.clock.now())
        cp = Checkpoint(last.seq, last.hash, seal(payload, self.config.signer, typ=CHECKPOINT_TYP))
        self.store.add_checkpoint(cp)
        return cp

    def verify_audit(self, pins: frozenset[str]) -> int:
        """Verify the audit chain and every checkpoint against ``pins`` (our seal)."""
        return verify_audit_log(self.store.audit_records(), self.store.checkpoints(), pins)

    async def aclose(self) -> None:
        await self.http.aclose()
        self.worker.close()
        self.store.close()


def verify_audit_log(
    records: list[AuditRecord], checkpoints: list[Checkpoint], pins: frozenset[str]
) -> int:
    """Check the chain and the signed checkpoints; return the number of records verified."""

    def check(cp: Checkpoint) -> dict[str, object]:
        opened = open_sealed(cp.signed, CheckpointPayload, typ=CHECKPOINT_TYP, pinned=pins)
        return {"seq": opened.model.seq, "head": opened.model.head}

    return verify_chain(records, checkpoints, verify_checkpoint=check)
