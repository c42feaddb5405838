"""``pakn-sign cert show FILE`` and ``pakn-sign cert verify CERT --trust PEM …`` (DESIGN.md §7).

``cert verify`` exits 0 TOTAL_PASSED, 1 TOTAL_FAILED, 3 INDETERMINATE, 2 usage error, 4 an
unreadable certificate. ``--ocsp-url`` asks that responder (RFC 6960 over HTTP POST) here, in
the CLI, and hands the response to the library as local data: the library never opens sockets.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from ..errors import InvalidInput, TransportError
from ..trust.cert_report import certificate_info, certificate_report, load_certificate
from ..trust.loading import load_certificates
from ..trust.paths import KeyPurpose
from ..trust.report import Indication
from .cmd_verify import build_policy, parse_at, read_input, write_report
from .main import EXIT_FAILED, EXIT_INDETERMINATE, EXIT_OK

__all__ = ["command"]

_EXIT = {
    Indication.TOTAL_PASSED: EXIT_OK,
    Indication.TOTAL_FAILED: EXIT_FAILED,
    Indication.INDETERMINATE: EXIT_INDETERMINATE,
}
_OCSP_MAX = 1 << 20
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("cert")
def command() -> None:
    """Show and verify X.509 certificates (chứng thư số)."""


@command.command("show")
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show(file: Path, as_json: bool) -> None:
    """Identity, key, usages and validity of every certificate in FILE (PEM or DER)."""
    data = read_input(file)
    try:
        certs = load_certificates(data, str(file))
    except ValueError as exc:  # ConfigurationError is a ValueError: here it is bad input
        raise InvalidInput(f"{file} holds no readable certificate") from exc
    infos = [certificate_info(c) for c in certs]
    if as_json:
        click.echo(json.dumps(infos if len(infos) > 1 else infos[0], ensure_ascii=False, indent=2))
        return
    for info in infos:
        ident = info["identity"]
        key = info["key"]
        lines = [
            f"Subject:   {info['subject']}",
            f"Issuer:    {info['issuer']}",
            f"Serial:    {info['serial']}",
            f"Kind:      {ident['kind']}",
            *[f"  {k}: {v}" for k, v in ident["identifiers"].items()],
            f"Key:       {key['type']} {key.get('bits', '?')}"
            + (f" ({key['curve']})" if "curve" in key else ""),
            f"Signed by: {info['signature_algorithm']}",
            f"Usage:     {', '.join(info['key_usage']) or '-'}",
            f"Ext usage: {', '.join(info['extended_key_usage']) or '-'}",
            f"CA:        {'yes' if info['ca'] else 'no'}",
            f"Valid:     {info['not_before']} .. {info['not_after']}",
            f"CRL:       {', '.join(info['crl_urls']) or '-'}",
            f"OCSP:      {', '.join(info['ocsp_urls']) or '-'}",
            f"SHA-256:   {info['sha256']}",
        ]
        click.echo("\n".join(lines) + "\n")


def fetch_ocsp(url: str, cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """POST an OCSP request for ``cert`` to ``url`` and return the DER response.

    RFC 5019 §2.1.1: the CertID hash is SHA-1 (an identifier, not a signature).

    Raises:
        TransportError: network failure or a non-OCSP answer.
    """
    import httpx

    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    try:
        resp = httpx.post(
            url,
            content=request,
            headers={"Content-Type": "application/ocsp-request"},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        raise TransportError(f"OCSP responder {url} unreachable: {exc}") from exc
    if resp.status_code != 200 or len(resp.content) > _OCSP_MAX:
        raise TransportError(f"OCSP responder {url} answered HTTP {resp.status_code}")
    return resp.content


def _issuer_of(cert: x509.Certificate, pool: list[x509.Certificate]) -> x509.Certificate:
    for cand in pool:
        if cand.subject == cert.issuer:
            try:
                cert.verify_directly_issued_by(cand)
            except (ValueError, TypeError, CryptoInvalidSignature):
                continue  # same name, other key: try the next candidate
            return cand
    raise click.UsageError("--ocsp-url needs the issuer certificate (--untrusted or --trust)")


@command.command("verify")
@click.argument("cert", type=_FILE)
@click.option("--trust", multiple=True, type=_FILE, help="Trust anchor PEM (repeatable).")
@click.option("--untrusted", multiple=True, type=_FILE, help="Intermediate CA PEM bundle.")
@click.option("--crl", multiple=True, type=_FILE, help="CRL file, PEM or DER (repeatable).")
@click.option("--ocsp-url", help="Ask this OCSP responder about CERT.")
@click.option(
    "--revocation",
    type=click.Choice(["off", "soft", "hard", "require"]),
    default="hard",
    show_default=True,
    help="What missing revocation data means.",
)
@click.option(
    "--purpose",
    type=click.Choice([p.value for p in KeyPurpose]),
    default=KeyPurpose.DOCUMENT_SIGNING.value,
    show_default=True,
    help="The key usage CERT must allow.",
)
@click.option("--at", "at_text", metavar="ISO-8601", help="Validation time (default now).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Write HTML.")
@click.pass_context
def verify(
    ctx: click.Context,
    cert: Path,
    trust: tuple[Path, ...],
    untrusted: tuple[Path, ...],
    crl: tuple[Path, ...],
    ocsp_url: str | None,
    revocation: str,
    purpose: str,
    at_text: str | None,
    as_json: bool,
    html: Path | None,
) -> None:
    """Validate CERT to a trust anchor at --at; exit 0 / 1 / 3 by the ETSI indication."""
    leaf = load_certificate(read_input(cert))
    policy = build_policy(trust, untrusted, crl, revocation, ())
    at = parse_at(at_text)
    ocsps: tuple[bytes, ...] = ()
    if ocsp_url:
        issuer = _issuer_of(leaf, [*policy.intermediates, *policy.anchors])
        ocsps = (fetch_ocsp(ocsp_url, leaf, issuer),)
    report = certificate_report(
        leaf, policy=policy, at=at, purpose=KeyPurpose(purpose), extra_ocsps=ocsps
    )
    write_report(report, as_json=as_json, html=html)
    sub = f" / {report.sub_indication.value}" if report.sub_indication else ""
    verdict = "OK" if report.indication is Indication.TOTAL_PASSED else "FAIL"
    click.echo(f"{verdict}: {report.indication.value}{sub}", err=True)
    ctx.exit(_EXIT[report.indication])
