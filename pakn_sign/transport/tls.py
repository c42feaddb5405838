"""TLS contexts that pin the peer: the partner's certificates from the directory are the
ONLY trust anchors (OpenSSL partial-chain mode), so a certificate merely issued by the
same CA is refused. Verification cannot be switched off except through ``unsafe_``."""

from __future__ import annotations

import base64
import ssl
import warnings
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..errors import ConfigurationError

__all__ = [
    "UnsafeTLSWarning",
    "client_context",
    "server_context",
    "unsafe_unverified_client_context",
]


class UnsafeTLSWarning(UserWarning):
    """Emitted on every use of an ``unsafe_`` TLS option."""


def _pem_of(certs_b64: Iterable[str]) -> str:
    out = []
    for item in certs_b64:
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(item, validate=True))
        except ValueError as exc:
            raise ConfigurationError(f"pinned TLS certificate is not DER: {exc}") from exc
        out.append(cert.public_bytes(serialization.Encoding.PEM).decode())
    if not out:
        raise ConfigurationError("no TLS certificate pinned for this peer")
    return "".join(out)


def _base(purpose: ssl.Purpose, cert: Path, key: Path, password: bytes | None) -> ssl.SSLContext:
    # A bare context, never ``create_default_context()``: that one loads the OS trust store,
    # and any publicly trusted certificate for the peer's name would then pass (no pinning).
    protocol = (
        ssl.PROTOCOL_TLS_CLIENT if purpose is ssl.Purpose.SERVER_AUTH else ssl.PROTOCOL_TLS_SERVER
    )
    ctx = ssl.SSLContext(protocol)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION
    ctx.load_cert_chain(str(cert), str(key), password=password)
    # Pins are leaf certificates: accept them as anchors without their CA (RFC 5280 path
    # building would otherwise demand the issuer).
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_context(
    *, cert: Path, key: Path, pinned_server_certs: Iterable[str], password: bytes | None = None
) -> ssl.SSLContext:
    """Client side of mutual TLS: present our certificate, accept only the pinned server."""
    ctx = _base(ssl.Purpose.SERVER_AUTH, cert, key, password)
    ctx.load_verify_locations(cadata=_pem_of(pinned_server_certs))
    ctx.check_hostname = True
    return ctx


def server_context(
    *, cert: Path, key: Path, pinned_client_certs: Iterable[str], password: bytes | None = None
) -> ssl.SSLContext:
    """Server side: present our certificate; require a client certificate that is pinned."""
    ctx = _base(ssl.Purpose.CLIENT_AUTH, cert, key, password)
    ctx.load_verify_locations(cadata=_pem_of(pinned_client_certs))
    return ctx


def unsafe_unverified_client_context(*, cert: Path, key: Path) -> ssl.SSLContext:
    """A client context that does NOT verify the server. Warns on every use; tests only."""
    warnings.warn(
        "TLS server verification is OFF (unsafe_unverified_client_context)",
        UnsafeTLSWarning,
        stacklevel=2,
    )
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
