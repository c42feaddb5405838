"""Verify an RFC 3161 TimeStampToken over exactly the given bytes.

The order follows RFC 3161 §2.4.2 and RFC 5652 §5.6, with one rule learnt from
CVE-2025-52556 (rfc3161-client ≤ 1.0.2 validated the chain of an embedded certificate but
never checked the token's signature against it) and CVE-2026-33753 (the leaf was picked
from the certificate bag by a heuristic): the TSA certificate is the one the signed
ESSCertID(v2) attribute names, the SignerInfo must name the same certificate, the
signature is checked with *that* certificate's key, and *that* certificate's chain is
validated. Nothing else in the bag is ever used as the signer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID

from ..errors import (
    InvalidInput,
    InvalidSignature,
    PaknSignError,
    UnsupportedFeature,
    UntrustedSigner,
)
from .algorithms import DigestAlgorithm, SignatureAlgorithm, verify_with_key
from .certload import load_der_certificate

if TYPE_CHECKING:
    from ..trust.policy import TrustPolicy

__all__ = ["MAX_TOKEN_BYTES", "TimestampInfo", "verify_timestamp"]

MAX_TOKEN_BYTES = 256 * 1024
_DIGESTS = {
    "sha1": DigestAlgorithm.SHA1,
    "sha256": DigestAlgorithm.SHA256,
    "sha384": DigestAlgorithm.SHA384,
    "sha512": DigestAlgorithm.SHA512,
}
# What asn1crypto (lazy parsing) and cryptography (key loading) raise on malformed input.
_FOREIGN = (ValueError, TypeError, KeyError, AttributeError, IndexError, UnsupportedAlgorithm)
_FAMILIES = {"rsassa_pkcs1v15": "RSA", "rsassa_pss": "RSA_PSS", "ecdsa": "ECDSA"}


@dataclass(frozen=True, slots=True)
class TimestampInfo:
    """A verified timestamp: exists only for a token that passed every check."""

    time: dt.datetime
    """genTime: the TSA's proof that the data existed then."""
    tsa_certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """The TSA's validated chain, TSA certificate first, ending at the anchor."""
    digest: DigestAlgorithm
    """The imprint algorithm named in the token."""
    serial: int
    token: bytes
    policy_oid: str = ""
    nonce: int | None = None


def _fail(message: str, **kw: Any) -> InvalidSignature:
    return InvalidSignature(message, code="verify.timestamp_invalid", **kw)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _parse(token: bytes, max_bytes: int) -> tuple[cms.SignedData, cms.SignerInfo, bytes]:
    if len(token) > max_bytes:
        raise InvalidInput(f"timestamp token larger than {max_bytes} bytes")
    try:
        info = cms.ContentInfo.load(token, strict=True)
        if info["content_type"].native != "signed_data":
            raise InvalidInput("timestamp token is not CMS SignedData")
        sd = info["content"]
        encap = sd["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise InvalidInput("SignedData does not encapsulate a TSTInfo")
        econtent = bytes(encap["content"].contents)
        signer_infos = list(sd["signer_infos"])
    except PaknSignError:
        raise
    except _FOREIGN as exc:
        raise InvalidInput(f"malformed timestamp token: {exc}") from exc
    if len(signer_infos) != 1:
        # RFC 3161 §2.4.2: the token is signed by exactly one TSA.
        raise InvalidInput(f"timestamp token has {len(signer_infos)} SignerInfos, expected 1")
    return sd, signer_infos[0], econtent


def _attr(signer_info: cms.SignerInfo, name: str) -> Any | None:
    """The single value of signed attribute ``name``; duplicates are refused."""
    found = [a for a in signer_info["signed_attrs"] if a["type"].native == name]
    if not found:
        return None
    if len(found) > 1 or len(found[0]["values"]) != 1:
        raise _fail(f"signed attribute {name} must occur once with one value")
    return found[0]["values"][0]


def _bound_certificate(
    signer_info: cms.SignerInfo, certificates: Sequence[x509.Certificate]
) -> x509.Certificate:
    """The one certificate ESSCertID(v2) names, which the SignerInfo must also name."""
    v2 = _attr(signer_info, "signing_certificate_v2")
    v1 = _attr(signer_info, "signing_certificate")
    if v2 is not None:
        ess = v2["certs"][0]
        hash_name = ess["hash_algorithm"]["algorithm"].native
    elif v1 is not None:
        ess, hash_name = v1["certs"][0], "sha1"  # RFC 2634 ESSCertID: SHA-1 as identifier
    else:
        raise _fail("token has no signingCertificate(V2) attribute: TSA certificate not bound")
    if hash_name not in _DIGESTS:
        raise UnsupportedFeature(f"ESSCertID hash {hash_name} is not supported")
    want = bytes(ess["cert_hash"].native)
    matches = {_der(c): c for c in certificates if hashlib.new(hash_name, _der(c)).digest() == want}
    if len(matches) != 1:
        raise _fail(
            "no certificate matches the token's ESSCertID"
            if not matches
            else "several certificates match the token's ESSCertID",
            sub_indication="NO_SIGNING_CERTIFICATE_FOUND",
        )
    cert = next(iter(matches.values()))
    issuer_serial = ess["issuer_serial"]
    if issuer_serial.native is not None:
        issuers = [n.chosen for n in issuer_serial["issuer"] if n.name == "directory_name"]
        if (
            issuer_serial["serial_number"].native != cert.serial_number
            or len(issuers) != 1
            or issuers[0].hashable != _asn1(cert).issuer.hashable  # RFC 5280 §7.1 matching
        ):
            raise _fail("ESSCertID issuerSerial does not match the certificate it hashes")
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        names_it = sid.chosen["serial_number"].native == cert.serial_number and (
            sid.chosen["issuer"].dump() == _issuer_der(cert)
        )
    else:
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            ski = b""
        names_it = bytes(sid.chosen.native) == ski
    if not names_it:
        raise _fail("SignerInfo names a different certificate than ESSCertID")
    return cert


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_der(cert))


def _issuer_der(cert: x509.Certificate) -> bytes:
    return bytes(_asn1(cert).issuer.dump())


def _signature_algorithm(signer_info: cms.SignerInfo) -> SignatureAlgorithm:
    sig_alg = signer_info["signature_algorithm"]
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    algo = sig_alg.signature_algo
    if algo == "ed25519":
        if digest_name != "sha512":  # RFC 8419 §3: messageDigest is SHA-512 with Ed25519
            raise UnsupportedFeature(f"token digest {digest_name} with Ed25519 (needs sha512)")
        return SignatureAlgorithm.ED25519
    if algo not in _FAMILIES or digest_name not in _DIGESTS:
        raise UnsupportedFeature(f"token signature algorithm {algo}/{digest_name} is not supported")
    if algo == "rsassa_pss":
        params = sig_alg["parameters"]
        hash_alg = params["hash_algorithm"]["algorithm"].native
        mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
        if not (hash_alg == mgf_hash == digest_name) or params["salt_length"].native != (
            hashlib.new(digest_name).digest_size
        ):
            raise UnsupportedFeature("RSASSA-PSS parameters outside the profile")
    else:
        try:
            named = sig_alg.hash_algo
        except ValueError:
            named = digest_name  # e.g. plain rsaEncryption: the digest field decides
        if named != digest_name:
            raise _fail(f"signature hash {named} differs from digestAlgorithm {digest_name}")
    return SignatureAlgorithm[f"{_FAMILIES[algo]}_{digest_name.upper()}"]


def _check_signature(
    signer_info: cms.SignerInfo, econtent: bytes, cert: x509.Certificate, policy: TrustPolicy
) -> None:
    content_type = _attr(signer_info, "content_type")
    if content_type is None or content_type.native != "tst_info":
        raise _fail("signed contentType attribute is not id-ct-TSTInfo")  # RFC 5652 §11.1
    digest_value = _attr(signer_info, "message_digest")
    if digest_value is None:
        raise _fail("signed messageDigest attribute missing")
    alg = _signature_algorithm(signer_info)
    public = cert.public_key()
    policy.check_algorithm(alg, public)
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if not hmac.compare_digest(
        hashlib.new(digest_name, econtent).digest(), bytes(digest_value.native)
    ):
        raise _fail("messageDigest does not match the TSTInfo", sub_indication="HASH_FAILURE")
    raw_attrs = signer_info["signed_attrs"].dump()
    to_verify = b"\x31" + raw_attrs[1:]  # RFC 5652 §5.4: [0] IMPLICIT re-tagged as SET OF
    signature = bytes(signer_info["signature"].native)
    if isinstance(public, ec.EllipticCurvePublicKey):
        try:
            r, s = decode_dss_signature(signature)
        except ValueError as exc:
            raise _fail("malformed ECDSA signature", sub_indication="SIG_CRYPTO_FAILURE") from exc
        size = (public.curve.key_size + 7) // 8
        if r >= 1 << (8 * size) or s >= 1 << (8 * size):
            raise _fail("ECDSA signature out of range", sub_indication="SIG_CRYPTO_FAILURE")
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if not verify_with_key(public, signature, to_verify, alg):  # type: ignore[arg-type]
        raise _fail(
            "timestamp token signature does not verify with the TSA certificate",
            sub_indication="SIG_CRYPTO_FAILURE",
        )


def _check_tsa_usage(cert: x509.Certificate) -> None:
    # RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, and the extension MUST be critical.
    try:
        ext = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        ext = None
    if ext is None or list(ext.value) != [ExtendedKeyUsageOID.TIME_STAMPING] or not ext.critical:
        raise UntrustedSigner(
            "TSA certificate lacks the critical extendedKeyUsage timeStamping (RFC 3161 §2.3)",
            sub_indication="CHAIN_CONSTRAINTS_FAILURE",
            code="verify.tsa_usage",
        )


def verify_timestamp(
    token: bytes,
    data: bytes,
    *,
    policy: TrustPolicy,
    at: dt.datetime | None = None,
    certificates: Sequence[x509.Certificate] = (),
    max_bytes: int = MAX_TOKEN_BYTES,
) -> TimestampInfo:
    """Verify ``token`` as a timestamp over exactly ``data``.

    Args:
        token: DER TimeStampToken (ContentInfo/SignedData/TSTInfo).
        data: the bytes the imprint must cover (not a digest).
        policy: trust anchors and algorithm rules for the TSA.
        at: when to validate the TSA chain; ``None`` means ``policy.validation_time`` or
            else the token's genTime (RFC 3161 Appendix B: valid when it was issued).
        certificates: more candidates for the TSA certificate when the token omits it.
        max_bytes: larger tokens are refused before parsing.

    Raises:
        InvalidInput: malformed or oversized token.
        InvalidSignature: imprint (``HASH_FAILURE``) or signature (``SIG_CRYPTO_FAILURE``)
            mismatch, or the TSA certificate is not bound by ESSCertID.
        UntrustedSigner: wrong EKU, no path to an anchor, revoked.
        PolicyViolation: algorithm or key refused by the policy.
    """
    sd, signer_info, econtent = _parse(token, max_bytes)
    try:
        embedded = [
            load_der_certificate(c.chosen.dump(), what="timestamp token certificate")
            for c in (sd["certificates"] or [])
            if c.name == "certificate"
        ]
        tst = tsp.TSTInfo.load(econtent, strict=True)
        gen_time = tst["gen_time"].native
        imprint_alg = tst["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint = bytes(tst["message_imprint"]["hashed_message"].native)
        serial = int(tst["serial_number"].native)
        policy_oid = str(tst["policy"].native)
        nonce = tst["nonce"].native
        version = tst["version"].native
        if signer_info["signed_attrs"].native is None:
            raise _fail("token SignerInfo has no signed attributes")
    except PaknSignError:
        raise
    except _FOREIGN as exc:
        raise InvalidInput(f"malformed timestamp token: {exc}") from exc
    if version != "v1" or not isinstance(gen_time, dt.datetime):
        raise InvalidInput("TSTInfo version must be 1 with a genTime")
    try:
        # asn1crypto parses nested fields on first access: malformed attributes surface here.
        cert = _bound_certificate(signer_info, [*embedded, *certificates])
        _check_signature(signer_info, econtent, cert, policy)
    except PaknSignError:
        raise
    except _FOREIGN as exc:
        raise InvalidInput(f"malformed timestamp token: {exc}") from exc
    _check_tsa_usage(cert)
    if not cert.not_valid_before_utc <= gen_time <= cert.not_valid_after_utc:
        # A token dated outside its own certificate's validity proves nothing, whatever
        # time the chain is validated at (RFC 3161 §4: the TSA key must be valid at genTime).
        raise UntrustedSigner(
            f"genTime {gen_time.isoformat()} is outside the TSA certificate's validity",
            sub_indication="OUT_OF_BOUNDS_NO_POE",
            code="verify.timestamp_out_of_validity",
        )
    digest = _DIGESTS.get(imprint_alg)
    allowed = {a.digest for a in policy.allowed_algorithms}
    if digest is None or digest not in allowed:
        raise UnsupportedFeature(f"imprint algorithm {imprint_alg} is not allowed")
    if not hmac.compare_digest(hashlib.new(digest.hashlib_name, data).digest(), imprint):
        raise _fail("timestamp imprint does not match the data", sub_indication="HASH_FAILURE")
    from ..trust.paths import KeyPurpose, validate_chain

    moment = at if at is not None else (policy.validation_time or gen_time)
    validated = validate_chain(
        cert,
        policy=policy,
        candidates=embedded,
        at=moment,
        purpose=KeyPurpose.TIMESTAMPING,
    )
    return TimestampInfo(
        time=gen_time,
        tsa_certificate=cert,
        chain=validated.chain,
        digest=digest,
        serial=serial,
        token=token,
        policy_oid=policy_oid,
        nonce=nonce,
    )
