"""Generate every key and certificate of the test PKI (called by ``TestPKI.create``).

Validity is relative to the injected ``now``: root −1 y … +20 y, government CA −1 y … +10 y,
end entities −30 d … +2 y (TSA +5 y, OCSP responder +1 y), the expired certificate
−400 d … −35 d; the revoked certificate is revoked at ``now − 1 d`` (keyCompromise).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..clock import ensure_aware
from ..errors import ConfigurationError
from ..signing.algorithms import PrivateKey
from .testpki_build import (
    ALGORITHMS,
    CertProfile,
    Issuer,
    ca_algorithm,
    generate_key,
    issue_certificate,
    self_signed_root,
)
from .testpki_files import IssuedCert, Revocation, write_entry
from .testpki_names import AGENCIES, OFFICIALS, Person, agency_name, person_name, simple_name

__all__ = ["generate"]

_DAY = dt.timedelta(days=1)
_REVOKED = Person("revoked", "Đỗ Văn Hùng", "Hà Nội", "001080000666", "000.00.00.G10")
_EXPIRED = Person("expired", "Vũ Thị Lan", "Hà Nội", "001092000777", "000.00.00.G22")


def generate(
    directory: Path, algorithm: str, now: dt.datetime, base_url: str, password: str
) -> tuple[Any, ...]:
    """Write keys and certificates; return the fields of ``TestPKI`` in declaration order."""
    if algorithm not in ALGORITHMS:
        raise ConfigurationError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    now = ensure_aware(now, name="now").astimezone(dt.UTC).replace(microsecond=0)
    base = base_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigurationError(f"base URL must be http(s)://…, got {base_url!r}")
    directory.mkdir(parents=True, exist_ok=True)
    pw = password.encode()
    ca_alg = ca_algorithm(algorithm)

    root_key = generate_key(ca_alg)
    root_cert = self_signed_root(
        root_key,
        simple_name("PAKN-SIGN TEST ROOT CA"),
        not_before=now - 365 * _DAY,
        not_after=now + 20 * 365 * _DAY,
    )
    root = write_entry(directory, "root", "root", root_cert, root_key, (), password=pw, ca=True)
    root_issuer = Issuer(
        root_cert, root_key, crl_url=f"{base}/crl/root.crl", ca_issuers_url=f"{base}/ca/root.cer"
    )
    int_key = generate_key(ca_alg)
    int_cert = issue_certificate(
        root_issuer,
        int_key.public_key(),
        simple_name("PAKN-SIGN TEST GOVERNMENT CA"),
        CertProfile.INTERMEDIATE,
        not_before=now - 365 * _DAY,
        not_after=now + 10 * 365 * _DAY,
    )
    inter = write_entry(
        directory,
        "intermediate",
        "intermediate",
        int_cert,
        int_key,
        (root_cert,),
        password=pw,
        ca=True,
    )
    (directory / "ca" / "chain.pem").write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (int_cert, root_cert))
    )
    issuer = Issuer(
        int_cert,
        int_key,
        crl_url=f"{base}/crl/intermediate.crl",
        ocsp_url=f"{base}/ocsp",
        ca_issuers_url=f"{base}/ca/intermediate.cer",
    )
    chain = (int_cert, root_cert)

    def issue(
        name: str,
        role: str,
        subject: x509.Name,
        profile: CertProfile,
        key_alg: str,
        *,
        start: dt.datetime = now - 30 * _DAY,
        end: dt.datetime = now + 730 * _DAY,
        key: PrivateKey | None = None,
    ) -> IssuedCert:
        key = key if key is not None else generate_key(key_alg)
        tls = profile in (CertProfile.TLS_SERVER, CertProfile.TLS_CLIENT)
        cert = issue_certificate(
            issuer,
            key.public_key(),
            subject,
            profile,
            not_before=start,
            not_after=end,
            dns_names=("localhost",) if tls else (),
            ip_addresses=("127.0.0.1",) if tls else (),
        )
        return write_entry(directory, name, role, cert, key, chain, password=pw)

    signing = CertProfile.SIGNING
    officials = {
        k: issue(k, "personal", person_name(p), signing, algorithm) for k, p in OFFICIALS.items()
    }
    agencies = {
        code: issue(f"seal-{code}", "organisation", agency_name(a), signing, algorithm)
        for code, a in AGENCIES.items()
    }
    tsa = issue(
        "tsa",
        "tsa",
        simple_name("PAKN-SIGN TEST TSA"),
        CertProfile.TSA,
        ca_alg,
        end=now + 5 * 365 * _DAY,
    )
    ocsp = issue(
        "ocsp",
        "ocsp",
        simple_name("PAKN-SIGN TEST OCSP"),
        CertProfile.OCSP,
        ca_alg,
        end=now + 365 * _DAY,
    )
    tls: dict[str, IssuedCert] = {}
    for code, a in AGENCIES.items():
        # One key per agency node for its server and client certificate: the same machine
        # holds both, so sharing the key gives an attacker nothing extra (and halves keygen).
        node_key = generate_key(ca_alg)
        for side, profile in (
            ("server", CertProfile.TLS_SERVER),
            ("client", CertProfile.TLS_CLIENT),
        ):
            tls[f"{code}-{side}"] = issue(
                f"tls-{code}-{side}",
                f"tls-{side}",
                simple_name(f"{code} node", a.name),
                profile,
                ca_alg,
                key=node_key,
            )
    revoked = issue("revoked", "personal", person_name(_REVOKED), signing, algorithm)
    expired = issue(
        "expired",
        "personal",
        person_name(_EXPIRED),
        signing,
        algorithm,
        start=now - 400 * _DAY,
        end=now - 35 * _DAY,
    )
    revocations = (
        Revocation("revoked", revoked.serial, now - _DAY, x509.ReasonFlags.key_compromise),
    )
    return (
        directory,
        algorithm,
        base,
        password,
        now,
        root,
        inter,
        officials,
        agencies,
        tsa,
        ocsp,
        tls,
        revoked,
        expired,
        revocations,
    )
