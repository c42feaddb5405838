"""``pakn-sign pki init|serve|revoke``: a test PKI for tests and demos, never for production."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
import urllib.parse
from pathlib import Path
from types import FrameType

import click
from cryptography import x509

from ..clock import Clock, FixedClock, SystemClock
from ..errors import ConfigurationError
from ..trust.testpki import DEFAULT_BASE_URL, DEFAULT_PASSWORD, TestPKI
from ..trust.testpki_build import ALGORITHMS

__all__ = ["command"]


def _time(value: str | None, what: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{what}: not an ISO-8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise click.BadParameter(f"{what}: give a timezone (e.g. 2026-11-20T09:30:00Z)")
    return parsed


@click.group("pki")
def command() -> None:
    """Create and serve a TEST PKI (root, government CA, officials, agencies, TSA, OCSP)."""


@command.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHMS),
    default="rsa2048",
    show_default=True,
    help="Key type of the document-signing certificates.",
)
@click.option(
    "--base-url",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Where `pki serve` will listen; written into CRL DP and AIA OCSP URLs.",
)
@click.option(
    "--password", default=DEFAULT_PASSWORD, show_default=True, help="Password of the .p12 files."
)
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Reference time for validity periods (ISO-8601; default: the real clock).",
)
def init_cmd(
    directory: Path, algorithm: str, base_url: str, password: str, now_text: str | None
) -> None:
    """Write a test PKI into DIRECTORY (it must be empty or absent)."""
    if directory.exists() and any(directory.iterdir()):
        raise ConfigurationError(f"{directory} is not empty", location=str(directory))
    now = _time(now_text, "--now") or SystemClock().now()
    pki = TestPKI.create(
        directory, algorithm=algorithm, now=now, base_url=base_url, password=password
    )
    click.echo(f"test PKI written to {pki.directory} ({algorithm}); FOR TESTS ONLY")
    click.echo(f"base URL {pki.base_url}: run `pakn-sign pki serve {directory}` to match it")
    click.echo(f"p12 password: {password!r}")
    for name, item in sorted(pki.all().items()):
        click.echo(f"  {name:28} {item.cert.subject.rfc4514_string()}")


@command.command("serve")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port (default: the one in the PKI's base URL).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--at",
    "at_text",
    default=None,
    help="Freeze the service clock (token genTime, OCSP thisUpdate) at this time.",
)
def serve_cmd(directory: Path, port: int | None, host: str, at_text: str | None) -> None:
    """Serve the TSA (/tsa), OCSP (/ocsp) and CRLs (/crl/…) of DIRECTORY over HTTP."""
    from ..trust.pki_service import PKIService

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s pki-serve %(message)s"
    )
    pki = TestPKI.load(directory)
    if port is None:
        port = urllib.parse.urlsplit(pki.base_url).port or 80
    at = _time(at_text, "--at")
    clock: Clock = FixedClock(at) if at is not None else SystemClock()
    service = PKIService(directory, host=host, port=port, clock=clock)
    if service.url != pki.base_url:
        click.echo(
            f"warning: certificates point at {pki.base_url}, serving {service.url}", err=True
        )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.start()
    # The readiness line: fixtures and scripts wait for it on stdout.
    click.echo(f"pki serve ready on {service.url}")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    service.shutdown()
    click.echo("pki serve stopped", err=True)


@command.command("revoke")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("name")
@click.option(
    "--at", "at_text", default=None, help="Revocation time (ISO-8601; default: the real clock)."
)
@click.option(
    "--reason",
    type=click.Choice([r.value for r in x509.ReasonFlags]),
    default="keyCompromise",
    show_default=True,
)
def revoke_cmd(directory: Path, name: str, at_text: str | None, reason: str) -> None:
    """Revoke NAME (e.g. official-g22, 000.00.00.G10): re-issue the CRL and OCSP state."""
    pki = TestPKI.load(directory)
    at = _time(at_text, "--at") or SystemClock().now()
    rev = pki.revoke(name, at=at, reason=x509.ReasonFlags(reason))
    click.echo(f"revoked {rev.name} serial {rev.serial:x} at {rev.time.isoformat()} ({reason})")
