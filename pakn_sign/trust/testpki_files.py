"""Files of the test PKI: PEM, PKCS#12 and the ``pki.json`` manifest.

Layout under the PKI directory (docs/pki.md)::

    pki.json                     manifest (names, roles, serials, revocations, base URL)
    ca/root.pem ca/root.cer      root certificate (PEM, DER); ca/root.key.pem
    ca/intermediate.pem …        government CA; ca/chain.pem = intermediate + root
    crl/root.crl crl/intermediate.crl   DER CRLs
    certs/<name>.pem             certificate; <name>.key.pem (PKCS#8, unencrypted)
    certs/<name>.chain.pem       certificate + intermediate; <name>.p12 (password-protected)
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ..errors import ConfigurationError
from ..signing.algorithms import PrivateKey
from ..signing.signers import LocalKeySigner

__all__ = [
    "MANIFEST",
    "IssuedCert",
    "Revocation",
    "load_entry",
    "read_manifest",
    "write_entry",
    "write_manifest",
]

MANIFEST = "pki.json"


@dataclass(frozen=True, slots=True)
class IssuedCert:
    """One issued certificate with its key and files.

    ``chain`` holds the issuers above the certificate (intermediate first, root last);
    ``p12_path`` is ``None`` for the CAs, which are kept as PEM only.
    """

    name: str
    role: str
    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...]
    pem_path: Path
    key_path: Path
    chain_path: Path | None
    p12_path: Path | None

    @property
    def serial(self) -> int:
        """The certificate serial number."""
        return self.cert.serial_number

    def signer(self) -> LocalKeySigner:
        """A signer for this certificate; its chain excludes the root (the anchor)."""
        return LocalKeySigner(self.key, [self.cert, *self.chain[:-1]])


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked serial, as listed in the intermediate CRL and answered by OCSP."""

    name: str
    serial: int
    time: dt.datetime
    reason: x509.ReasonFlags

    def to_json(self) -> dict[str, str]:
        """The manifest form (serial in hex)."""
        return {
            "name": self.name,
            "serial": format(self.serial, "x"),
            "time": self.time.isoformat(),
            "reason": self.reason.value,
        }

    @classmethod
    def from_json(cls, r: dict[str, Any]) -> Revocation:
        """Read the manifest form back."""
        return cls(
            str(r["name"]),
            int(r["serial"], 16),
            dt.datetime.fromisoformat(r["time"]),
            x509.ReasonFlags(r["reason"]),
        )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_entry(
    directory: Path,
    name: str,
    role: str,
    cert: x509.Certificate,
    key: PrivateKey,
    chain: tuple[x509.Certificate, ...],
    *,
    password: bytes,
    ca: bool = False,
) -> IssuedCert:
    """Write the PEM (and for end entities PKCS#12 and chain) files of one certificate."""
    sub = directory / ("ca" if ca else "certs")
    sub.mkdir(parents=True, exist_ok=True)
    pem_path, key_path = sub / f"{name}.pem", sub / f"{name}.key.pem"
    pem_path.write_bytes(_pem(cert))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    chain_path = p12_path = None
    if ca:
        (sub / f"{name}.cer").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    else:
        chain_path = sub / f"{name}.chain.pem"
        chain_path.write_bytes(_pem(cert) + b"".join(_pem(c) for c in chain[:-1]))
        p12_path = sub / f"{name}.p12"
        p12_path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                name.encode(),
                key,
                cert,
                list(chain),
                serialization.BestAvailableEncryption(password),
            )
        )
    return IssuedCert(name, role, cert, key, chain, pem_path, key_path, chain_path, p12_path)


def load_entry(
    directory: Path, name: str, role: str, chain: tuple[x509.Certificate, ...], *, ca: bool
) -> IssuedCert:
    """Read one certificate and key written by :func:`write_entry`."""
    sub = directory / ("ca" if ca else "certs")
    pem_path, key_path = sub / f"{name}.pem", sub / f"{name}.key.pem"
    try:
        cert = x509.load_pem_x509_certificate(pem_path.read_bytes())
        # Our own freshly generated keys: skip OpenSSL's slow RSA consistency check.
        key = serialization.load_pem_private_key(
            key_path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read test-PKI entry {name!r}: {exc}") from exc
    if not isinstance(key, PrivateKey):
        raise ConfigurationError(f"unsupported key type in {key_path}")
    chain_path = None if ca else sub / f"{name}.chain.pem"
    p12_path = None if ca else sub / f"{name}.p12"
    return IssuedCert(name, role, cert, key, chain, pem_path, key_path, chain_path, p12_path)


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write ``pki.json`` atomically (the service re-reads it for revocations)."""
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(directory / MANIFEST)


def read_manifest(directory: Path) -> dict[str, Any]:
    """Read ``pki.json``; a missing or malformed manifest is a ``ConfigurationError``."""
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"not a test-PKI directory ({path}): {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != "pakn-sign-test-pki/1":
        raise ConfigurationError(f"{path} is not a pakn-sign test-PKI manifest")
    return data
