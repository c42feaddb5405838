"""``pakn-sign directory create | show``: the signed partner directory."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..clock import SystemClock
from ..errors import ConfigurationError
from ..signing.signers import Signer
from ..transport.directory import Directory, sign_directory
from ..transport.sealing import cert_sha256
from ..transport.wire import DirectoryDocument, PartnerEntry
from ._signer_options import signer_options

__all__ = ["command"]


def _certs(base: Path, paths: list[str]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for p in paths:
        path = Path(p) if Path(p).is_absolute() else base / p
        try:
            out += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"certificate file {path}: {exc}") from exc
    return out


def _entry(base: Path, spec: dict[str, Any]) -> PartnerEntry:
    signing = _certs(base, spec["signing_certs"])
    tls = _certs(base, spec.get("tls_certs", []))
    extra = {k: spec[k] for k in ("max_message_bytes", "max_part_bytes", "pull") if k in spec}
    return PartnerEntry(
        agency_code=spec["agency_code"],
        name=spec["name"],
        endpoint=spec.get("endpoint"),
        signing_cert_sha256=[cert_sha256(c) for c in signing],
        tls_certificates=[
            base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in tls
        ],
        **extra,
    )


@click.group("directory")
def command() -> None:
    """Create, sign and show the partner directory (signed by VPCP)."""


@command.command("create")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--version", "version", type=int, required=True, help="Must grow on every issue.")
@click.option("--days", type=int, default=30, show_default=True, help="Validity.")
@click.option("--issuer", default="000.00.00.G22", show_default=True)
@signer_options()
def create(spec: str, output: str, version: int, days: int, issuer: str, signer: Signer) -> None:
    """Build a directory from SPEC (JSON list of partners) and sign it with the key given.

    Each partner: {"agency_code", "name", "endpoint", "signing_certs": [PEM…],
    "tls_certs": [PEM…], optional "max_message_bytes", "max_part_bytes", "pull"}.
    """
    base = Path(spec).parent
    try:
        partners = json.loads(Path(spec).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigurationError(f"{spec}: not JSON: {exc}") from exc
    now = SystemClock().now()
    doc = DirectoryDocument(
        version=version,
        issued_at=now,
        expires_at=now + dt.timedelta(days=days),
        issuer=issuer,
        partners=[_entry(base, p) for p in partners],
    )
    Path(output).write_bytes(sign_directory(doc, signer))
    click.echo(f"OK: directory v{version} with {len(doc.partners)} partners -> {output}", err=True)


@command.command("show")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--issuer-cert",
    "issuer_certs",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Pinned VPCP certificate(s).",
)
@click.option("--at", "at", default=None, help="Validation time (ISO 8601); default now.")
def show(file: str, issuer_certs: tuple[str, ...], at: str | None) -> None:
    """Verify a directory against the pinned issuer and print it as JSON."""
    pins = {cert_sha256(c) for c in _certs(Path("."), list(issuer_certs))}
    when = dt.datetime.fromisoformat(at) if at else SystemClock().now()
    d = Directory(pins)
    doc = d.update(Path(file).read_bytes(), now=when)
    click.echo(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2))
