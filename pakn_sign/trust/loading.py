"""Certificates and CRLs from configuration bytes (files named by the caller), PEM or DER.

``load_certificates`` is the one PEM/DER certificate loader of ``trust/``; certificates that
arrive inside signed data go through :func:`pakn_sign.signing.certload.load_der_certificate`.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..errors import ConfigurationError

__all__ = ["load_certificates", "load_crl_der"]


def load_certificates(data: bytes, where: str = "input") -> list[x509.Certificate]:
    """Certificates from a PEM bundle or one DER certificate.

    Raises:
        ConfigurationError: no certificate could be read.
    """
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
        for c in certs:
            _ = c.subject, c.issuer  # decoded lazily: fail here, not in a later report
    except (ValueError, x509.InvalidVersion) as exc:
        raise ConfigurationError(f"no certificate could be read from {where}") from exc
    return certs


def load_crl_der(data: bytes, where: str = "input") -> bytes:
    """One CRL as DER, from PEM or DER input.

    Raises:
        ConfigurationError: not a CRL.
    """
    try:
        if b"-----BEGIN" in data:
            crl = x509.load_pem_x509_crl(data)
        else:
            crl = x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise ConfigurationError(f"no CRL could be read from {where}") from exc
    return crl.public_bytes(serialization.Encoding.DER)
