"""One loader for certificates that arrive inside signed data (KeyInfo, x5c, CMS, DSS).

cryptography's ``load_der_x509_certificate`` raises ``ValueError`` for most malformed
input, but ``x509.InvalidVersion`` (not a ``ValueError``) for a bad version field, and it
decodes names lazily, so invalid UTF-8 in a subject surfaces only when a caller first
compares or prints it. This loader raises ``InvalidInput`` for all of them, up front.
"""

from __future__ import annotations

from cryptography import x509

from ..errors import InvalidInput

__all__ = ["MAX_CERTIFICATE_BYTES", "load_der_certificate"]

MAX_CERTIFICATE_BYTES = 16 * 1024
"""The largest certificate accepted from signed data. Document-signing certificates are
1-3 KB; the limit leaves room for long policy or name lists while keeping what caches of
parsed certificates can be made to hold bounded (OpenSSL caps a whole TLS chain at 100 KB)."""


def load_der_certificate(
    der: bytes, *, what: str = "certificate", code: str | None = None
) -> x509.Certificate:
    """Parse one untrusted DER certificate, names included.

    Args:
        der: the DER bytes.
        what: names the source in the error message (``"X509Certificate"``, ``"x5c[0]"``).
        code: the error code (``None``: ``InvalidInput``'s own).

    Raises:
        InvalidInput: larger than :data:`MAX_CERTIFICATE_BYTES`, not a DER certificate, an
            unknown version, or undecodable names.
    """
    if len(der) > MAX_CERTIFICATE_BYTES:
        raise InvalidInput(
            f"{what} is {len(der)} bytes; certificates over {MAX_CERTIFICATE_BYTES} are refused",
            code=code,
        )
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = cert.subject, cert.issuer  # decoded lazily: fail here, not in a caller
    except (ValueError, x509.InvalidVersion) as exc:
        raise InvalidInput(f"{what} is not a DER certificate: {exc}", code=code) from exc
    return cert
