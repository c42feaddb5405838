"""``pakn-sign sign IN -o OUT KEYS [--role …] [--level …] [--tsa URL]`` (DESIGN.md §7).

The format follows the input (``_SIGNERS``): XML is signed as XAdES in ``<pakn:Signed>``,
JSON as JAdES, PDF as PAdES; signing an already signed document adds a signature
(organisation over personal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigurationError, UnsupportedFeature
from ..signing.signers import Signer
from ..verify import detect_format
from ._signer_options import signer_options
from .main import EXIT_OK

__all__ = ["command"]

_MAX_INPUT = 64 * 1024 * 1024


def _sign_xades(data: bytes, signer: Signer, opts: dict[str, Any]) -> bytes:
    from ..signing.sign_xml import sign_xml

    return sign_xml(
        data,
        signer,
        role=opts["role"],
        level=opts["level"],
        tsa=opts["tsa"],
        policy=opts["policy"],
        at=opts["at"],
    )


def _sign_jades(data: bytes, signer: Signer, opts: dict[str, Any]) -> bytes:
    from ..signing.jades import sign_json

    return sign_json(
        data, signer, role=opts["role"], level=opts["level"], tsa=opts["tsa"], at=opts["at"]
    )


def _sign_pades(data: bytes, signer: Signer, opts: dict[str, Any]) -> bytes:
    from ..signing.pades import sign_pdf

    return sign_pdf(
        data,
        signer,
        role=opts["role"],
        level=opts["level"],
        tsa=opts["tsa"],
        policy=opts["policy"],
        at=opts["at"],
    )


# Format (from the first bytes) -> signer.
_SIGNERS: dict[str, Callable[[bytes, Signer, dict[str, Any]], bytes]] = {
    "xades": _sign_xades,
    "jades": _sign_jades,
    "pades": _sign_pades,
}


def _policy_for_lt(
    signer: Signer, trust: tuple[Path, ...], crls: tuple[Path, ...], fetch: bool
) -> Any:
    from ..trust.policy import TrustPolicy, load_certificates, load_crl_der

    chain = list(signer.certificate_chain)
    anchors = [c for p in trust for c in load_certificates(p.read_bytes(), str(p))]
    return TrustPolicy.from_anchors(
        anchors or chain[-1:],
        intermediates=chain[1:],
        crls=[load_crl_der(p.read_bytes(), str(p)) for p in crls],
        allow_fetching=fetch,
    )


@click.command("sign")
@click.argument(
    "input_file", metavar="IN", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@signer_options()
@click.option(
    "--role", type=click.Choice(["personal", "organisation"]), default="personal", show_default=True
)
@click.option(
    "--level", type=click.Choice(["B-B", "B-T", "B-LT", "B-LTA"]), default="B-B", show_default=True
)
@click.option("--tsa", metavar="URL", help="RFC 3161 timestamp authority (B-T, B-LT).")
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Root certificate(s) to complete chains for B-LT.",
)
@click.option(
    "--crl",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CRL file(s) to embed for B-LT.",
)
@click.option("--fetch-revocation", is_flag=True, help="B-LT: fetch missing CRL/OCSP data.")
@click.option("--at", "at_text", metavar="ISO-8601", help="Claimed signing time (default now).")
def command(
    input_file: Path,
    output: Path,
    signer: Signer,
    role: str,
    level: str,
    tsa: str | None,
    trust: tuple[Path, ...],
    crl: tuple[Path, ...],
    fetch_revocation: bool,
    at_text: str | None,
) -> int:
    """Sign a PAKN document (or add a signature to a signed one)."""
    with input_file.open("rb") as fh:
        data = fh.read(_MAX_INPUT + 1)
    if len(data) > _MAX_INPUT:
        raise ConfigurationError(f"{input_file} is larger than {_MAX_INPUT} bytes")
    fmt = detect_format(data)
    sign = _SIGNERS.get(fmt)
    if sign is None:
        raise UnsupportedFeature(f"signing {fmt} input is not available in this build")
    authority = None
    if tsa:
        from ..signing.timestamps import HttpTimestampAuthority

        authority = HttpTimestampAuthority(tsa)
    at = None
    if at_text:
        try:
            at = dt.datetime.fromisoformat(at_text)
        except ValueError as exc:
            raise click.BadParameter(f"not ISO-8601: {at_text!r}", param_hint="--at") from exc
    policy = (
        _policy_for_lt(signer, trust, crl, fetch_revocation) if level in ("B-LT", "B-LTA") else None
    )
    out = sign(
        data, signer, {"role": role, "level": level, "tsa": authority, "policy": policy, "at": at}
    )
    output.write_bytes(out)
    click.echo(f"OK: signed {input_file} as {role} ({level}) -> {output}", err=True)
    return EXIT_OK
