"""Adapters between pakn_sign and pyHanko: our ``Signer`` and ``TimestampAuthority``.

pyHanko's ``SimpleSigner`` re-parses the private key on every signature (OpenSSL's RSA
key check, ~55 ms) and its default ``sign_pdf`` signs twice to size ``/Contents``
(DESIGN.md §9). The bridge holds our signer (which holds its key object or token
session) and :func:`reserve_bytes` sizes the placeholder up front, so one PDF signature
costs one ``sign_raw`` call.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.signers.pdf_cms import Signer as PyHankoSigner
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import ConfigurationError, SigningError
from .algorithms import DigestAlgorithm, KeyType, SignatureAlgorithm, raw_ecdsa_to_der
from .signers import Signer, check_new_signature_algorithm

__all__ = [
    "PyHankoSignerBridge",
    "TSAStamper",
    "as_timestamper",
    "asn1_certificate",
    "md_algorithm",
    "reserve_bytes",
]

_ECDSA_MECH = {
    DigestAlgorithm.SHA256: "sha256_ecdsa",
    DigestAlgorithm.SHA384: "sha384_ecdsa",
    DigestAlgorithm.SHA512: "sha512_ecdsa",
}
_RSA_MECH = {
    DigestAlgorithm.SHA256: "sha256_rsa",
    DigestAlgorithm.SHA384: "sha384_rsa",
    DigestAlgorithm.SHA512: "sha512_rsa",
}


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The asn1crypto view of a cryptography certificate (DER, no PEM round trip)."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def md_algorithm(alg: SignatureAlgorithm) -> str:
    """pyHanko's digest name for ``alg``; Ed25519 uses SHA-512 (RFC 8419 §3)."""
    digest = alg.digest
    return "sha512" if digest is None else digest.hashlib_name


def _mechanism(alg: SignatureAlgorithm) -> algos.SignedDigestAlgorithm:
    digest = alg.digest
    if alg.key_type is KeyType.ED25519:
        return algos.SignedDigestAlgorithm({"algorithm": "ed25519"})
    if digest is None or digest is DigestAlgorithm.SHA1:
        raise ConfigurationError(f"{alg.name} is not used for new PDF signatures")
    if alg.key_type is KeyType.EC:
        return algos.SignedDigestAlgorithm({"algorithm": _ECDSA_MECH[digest]})
    if not alg.is_pss:
        return algos.SignedDigestAlgorithm({"algorithm": _RSA_MECH[digest]})
    # RFC 4055 §3.1: RSASSA-PSS-params with MGF1 over the same hash, salt = hash length.
    name = digest.hashlib_name
    params = algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": name},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": name}},
            "salt_length": hashlib.new(name).digest_size,
        }
    )
    return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})


class PyHankoSignerBridge(PyHankoSigner):
    """A pyHanko ``Signer`` that signs through our :class:`~pakn_sign.signing.signers.Signer`.

    The CMS SignerInfo wants DER ``ECDSA-Sig-Value`` (RFC 5753 §2.1.1), so raw ``r || s``
    from ``sign_raw`` is converted here; format code still never sees a key.
    """

    def __init__(self, signer: Signer, algorithm: SignatureAlgorithm | None = None):
        chain = list(signer.certificate_chain)
        if not chain:
            raise ConfigurationError("the signer has no certificate")
        self.algorithm = algorithm or signer.default_algorithm
        # Checked here as well as in LocalKeySigner: a third-party Signer has no such rule.
        check_new_signature_algorithm(self.algorithm, chain[0].public_key())  # type: ignore[arg-type]
        self.pakn_signer = signer
        self.md_algorithm = md_algorithm(self.algorithm)
        certs = [asn1_certificate(c) for c in chain[1:]]
        registry = SimpleCertificateStore.from_certs(certs)  # type: ignore[no-untyped-call]
        super().__init__(
            signing_cert=asn1_certificate(chain[0]),
            cert_registry=registry,
            signature_mechanism=_mechanism(self.algorithm),
            embed_roots=True,
        )
        self._raw_size = _raw_signature_size(chain[0], self.algorithm)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        """Sign the DER SignedAttributes with our signer (never touching the key here)."""
        if digest_algorithm != self.md_algorithm:
            raise SigningError(
                f"pyHanko asked for {digest_algorithm}; the signer uses {self.md_algorithm}"
            )
        if dry_run:  # size estimation only: never wake a token or a remote service for it
            return b"\x00" * self._raw_size
        raw = self.pakn_signer.sign_raw(data, self.algorithm)
        if self.algorithm.key_type is KeyType.EC:
            return raw_ecdsa_to_der(raw)
        return raw


def _raw_signature_size(cert: x509.Certificate, alg: SignatureAlgorithm) -> int:
    key: Any = cert.public_key()
    if alg.key_type is KeyType.RSA:
        return (int(key.key_size) + 7) // 8
    if alg.key_type is KeyType.EC:
        n = (int(key.curve.key_size) + 7) // 8
        return 2 * n + 9  # DER SEQUENCE of two INTEGERs, worst case
    return 64


def reserve_bytes(signer: Signer, *, timestamped: bool, extra: int = 0) -> int:
    """Bytes to reserve for ``/Contents`` (hex doubles them; pyHanko wants the doubled size).

    Certificates + signature + CMS overhead (~1.5 KB), plus ~8 KB for a timestamp token
    with its TSA chain. Too small raises in pyHanko; the caller then retries larger.
    """
    certs = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in signer.certificate_chain)
    size = certs + 512 + 2048 + (8192 if timestamped else 0) + extra
    return 2 * size


class TSAStamper(TimeStamper):
    """A pyHanko ``TimeStamper`` over our RFC 3161 client (``signing.timestamps``).

    pyHanko hands over a digest (of the signature value, or of the document's ByteRange
    for a document timestamp), so the token is requested for that imprint directly.
    """

    def __init__(self, tsa: Any):
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._tsa = tsa

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        try:
            digest = DigestAlgorithm[md_algorithm.upper()]
        except KeyError:
            raise ConfigurationError(f"unsupported timestamp digest {md_algorithm}") from None
        token = _token_for_imprint(self._tsa, bytes(message_digest), digest)
        return cms.ContentInfo.load(token)


def _token_for_imprint(tsa: Any, imprint: bytes, digest: DigestAlgorithm) -> bytes:
    from . import timestamps as ts

    request_digest = getattr(tsa, "request_digest", None)
    if callable(request_digest):
        return bytes(request_digest(imprint, digest=digest))
    nonce = secrets.randbits(63)
    body = ts.build_timestamp_request(imprint, digest, nonce)
    if isinstance(tsa, ts.HttpTimestampAuthority):
        response = tsa._post(body)
    elif isinstance(tsa, ts.LocalTimestampAuthority):
        from .timestamps_token import respond_to_request

        response = respond_to_request(
            body,
            tsa._signer,
            gen_time=tsa._clock.now(),
            serial=next(tsa._serials),
            policy_oid=tsa._policy,
        )
    else:
        raise ConfigurationError(
            f"{type(tsa).__name__} cannot timestamp a precomputed digest "
            "(give an HttpTimestampAuthority, a LocalTimestampAuthority or a TSA URL)"
        )
    return ts.token_from_response(response, imprint=imprint, digest=digest, nonce=nonce)


def as_timestamper(tsa: object | None) -> TimeStamper | None:
    """A pyHanko TimeStamper from a URL, one of our TSAs, or a pyHanko TimeStamper."""
    if tsa is None or isinstance(tsa, TimeStamper):
        return tsa
    if isinstance(tsa, str):
        from .timestamps import HttpTimestampAuthority

        return TSAStamper(HttpTimestampAuthority(tsa))
    return TSAStamper(tsa)
