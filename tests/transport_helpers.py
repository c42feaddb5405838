"""Helpers for transport tests: a test PKI, a signed directory, nodes wired in-process."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization

from pakn_sign.clock import Clock
from pakn_sign.transport.directory import Directory, sign_directory
from pakn_sign.transport.node import Node, NodeConfig, TLSFiles
from pakn_sign.transport.sealing import cert_sha256
from pakn_sign.transport.wire import DirectoryDocument, PartnerEntry
from pakn_sign.trust.testpki import TestPKI

VPCP = "000.00.00.G22"
MINISTRY = "000.00.00.G10"
PROVINCE = "000.00.00.H41"


class MutableClock:
    """A test clock that moves only when told to."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += dt.timedelta(**kw)


def tls_b64(pki: TestPKI, code: str, side: str) -> str:
    cert = pki.tls[f"{code}-{side}"].cert
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def directory_doc(
    pki: TestPKI,
    *,
    now: dt.datetime,
    endpoints: dict[str, str],
    version: int = 1,
    lifetime: dt.timedelta = dt.timedelta(days=30),
    extra_pins: dict[str, Sequence[str]] | None = None,
    limits: dict[str, int] | None = None,
) -> DirectoryDocument:
    partners = []
    for code, endpoint in endpoints.items():
        pins = [cert_sha256(pki.agencies[code].cert), *((extra_pins or {}).get(code, ()))]
        partners.append(
            PartnerEntry(
                agency_code=code,
                name=f"Cơ quan {code}",
                endpoint=endpoint,
                signing_cert_sha256=pins,
                tls_certificates=[tls_b64(pki, code, "server"), tls_b64(pki, code, "client")],
                **(limits or {}),
            )
        )
    return DirectoryDocument(
        version=version,
        issued_at=now - dt.timedelta(hours=1),
        expires_at=now + lifetime,
        issuer=VPCP,
        partners=partners,
    )


def signed_directory(pki: TestPKI, **kw: object) -> bytes:
    doc = directory_doc(pki, **kw)  # type: ignore[arg-type]
    return sign_directory(doc, pki.agencies[VPCP].signer())


def vpcp_pins(pki: TestPKI) -> frozenset[str]:
    return frozenset({cert_sha256(pki.agencies[VPCP].cert)})


@dataclass
class Mesh:
    """In-process nodes talking through httpx.ASGITransport (real protocol, no sockets)."""

    nodes: dict[str, Node]

    def transport_for(self, endpoint: str) -> httpx.AsyncBaseTransport | None:
        code = endpoint.removeprefix("http://").split("/")[0]
        node = self.nodes.get(code)
        return None if node is None else httpx.ASGITransport(app=node.app)


def make_mesh(
    pki: TestPKI, base: Path, clock: Clock, codes: Sequence[str], directory: bytes
) -> Mesh:
    mesh = Mesh({})
    for code in codes:
        d = Directory(vpcp_pins(pki))
        d.update(directory, now=clock.now())
        mesh.nodes[code] = Node(
            NodeConfig(
                agency_code=code,
                data_dir=base / code,
                signer=pki.agencies[code].signer(),
                directory=d,
                tls=TLSFiles(
                    pki.tls[f"{code}-client"].pem_path, pki.tls[f"{code}-client"].key_path
                ),
                clock=clock,
                transport_for=mesh.transport_for,
            )
        )
    return mesh
