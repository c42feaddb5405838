"""Seal and open wire objects: JWS flattened signatures over canonical JSON, with the
signer's certificate pinned by SHA-256 fingerprint (from the partner directory).

Lesson of X-Road / AS2: evidence is worth something only if it is signed by a pinned
key and binds a digest of exactly what was exchanged; TLS alone proves nothing later.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel

from ..errors import UntrustedSigner, VerificationError
from ..signing.algorithms import SignatureAlgorithm
from ..signing.jws import sign_flattened, verify_flattened
from ..signing.signers import Signer
from .wire import canonical_json, parse_wire

__all__ = ["DEFAULT_ALGORITHMS", "Opened", "cert_sha256", "open_sealed", "seal"]

M = TypeVar("M", bound=BaseModel)

DEFAULT_ALGORITHMS = frozenset(
    {
        SignatureAlgorithm.RSA_SHA256,
        SignatureAlgorithm.RSA_SHA384,
        SignatureAlgorithm.RSA_SHA512,
        SignatureAlgorithm.RSA_PSS_SHA256,
        SignatureAlgorithm.ECDSA_SHA256,
        SignatureAlgorithm.ECDSA_SHA384,
        SignatureAlgorithm.ECDSA_SHA512,
        SignatureAlgorithm.ED25519,
    }
)
MAX_SEALED_BYTES = 1024 * 1024


@functools.lru_cache(maxsize=512)
def cert_sha256(cert: x509.Certificate) -> str:
    """Lower-case hex SHA-256 of the certificate's DER (what the directory pins).

    Cached: certificates are immutable and compare by DER, and the JWS layer hands back
    the same objects for the same ``x5c``, so each signer is re-encoded once, not per object.
    """
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True, slots=True)
class Opened(Generic[M]):
    """A verified wire object: the model, the exact signed bytes and the pinned signer."""

    model: M
    payload: bytes
    signer: x509.Certificate
    digest: str
    """SHA-256 hex of the whole sealed object (what receipts bind)."""


def seal(model: BaseModel, signer: Signer, *, typ: str) -> bytes:
    """Sign ``model``'s canonical JSON as JWS flattened JSON with ``typ`` protected.

    RFC 7515 §7.2.2; ``sign_flattened`` builds the protected header (``alg``, ``typ`` and
    the ~3 KB ``x5c`` chain) once per (chain, algorithm, typ), not for every receipt.
    """
    return sign_flattened(canonical_json(model), signer, protected={"typ": typ})


def open_sealed(
    data: bytes,
    cls: type[M],
    *,
    typ: str,
    pinned: Collection[str] | Callable[[M], Collection[str]],
    allowed: frozenset[SignatureAlgorithm] = DEFAULT_ALGORITHMS,
    max_bytes: int = MAX_SEALED_BYTES,
) -> Opened[M]:
    """Verify a sealed object against pinned certificate fingerprints and parse it.

    Raises:
        InvalidSignature: the signature does not verify.
        UntrustedSigner: the signing certificate is not one of ``pinned``.
        VerificationError: wrong ``typ``.
        InvalidInput / SchemaError: malformed, oversized or not a ``cls``.
    """
    verified = verify_flattened(data, allowed=allowed, max_bytes=max_bytes)
    if verified.protected.get("typ") != typ:
        raise VerificationError(
            f"expected a {typ!r} object, found typ {verified.protected.get('typ')!r}",
            code="transport.wrong_type",
        )
    model = parse_wire(cls, verified.payload, what=typ)
    leaf = verified.certificates[0]
    # The pins may depend on who the object claims to be from (the sender's directory entry);
    # the claim is only used to select pins, and the pin check makes it true.
    pins = pinned(model) if callable(pinned) else pinned
    if cert_sha256(leaf) not in pins:
        raise UntrustedSigner(
            f"{typ} is signed by {leaf.subject.rfc4514_string()}, which is not pinned",
            sub_indication="NO_CERTIFICATE_CHAIN_FOUND",
        )
    return Opened(model, verified.payload, leaf, hashlib.sha256(data).hexdigest())
