"""Certificate path validation with pyhanko-certvalidator (RFC 5280 §6, ETSI EN 319 102-1 §5.2.6).

``validate_chain`` builds a fresh ``ValidationContext`` per call from the frozen
:class:`TrustPolicy` (explicit roots, explicit moment, local CRLs/OCSPs, revocation rule,
fetching only if the policy allows it), validates the path at ``at``, checks key usage for
the :class:`KeyPurpose`, and applies the policy's algorithm and key-size constraints to every
certificate of the path. Failures raise our errors carrying an ETSI sub-indication.

Successful results are cached (LRU, thread-safe) under a key that holds every input the
result depends on but the instant: the leaf, the candidate certificates, the policy
fingerprint (anchors, intermediates, CRLs, OCSPs, modes, algorithms…), the purpose and the
extra CRL/OCSP bytes. Each entry holds a time window ``[t0, end)``: from the instant it was
computed at to the first notBefore/notAfter, thisUpdate/nextUpdate or revocation date after
it (``cache_window.py``); a lookup hits only inside it and returns the result dated at the
requested instant. Nothing is cached when the policy fetches over the network.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, TypeVar

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.policy_decl import (
    LEGACY_POLICY_MAP,
    NO_REVOCATION,
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    DisallowWeakAlgorithmsPolicy,
    FreshnessReqType,
    PKIXValidationParams,
    RevocationCheckingPolicy,
)

from ..clock import SystemClock, ensure_aware
from ..errors import (
    InvalidInput,
    UntrustedSigner,
)
from .cache import CacheInfo, IdentityMemo, LRUCache, WindowCache
from .cache_window import key_complete, window_end
from .chain_checks import check_path_crypto, check_purpose, revocation_status
from .cv_glue import map_validation_error, run_async
from .identity import SignerIdentity
from .policy import RevocationMode, TrustPolicy

__all__ = [
    "KeyPurpose",
    "ValidatedChain",
    "build_validation_context",
    "chain_cache_info",
    "clear_chain_cache",
    "map_validation_error",
    "validate_chain",
]

T = TypeVar("T")


class KeyPurpose(enum.Enum):
    """What the leaf key is used for; decides the KeyUsage/EKU check (RFC 5280 §4.2.1.3/.12)."""

    DOCUMENT_SIGNING = "document_signing"
    """KeyUsage digitalSignature or nonRepudiation (policy.key_usage)."""
    TIMESTAMPING = "timestamping"
    """EKU id-kp-timeStamping (RFC 3161 §2.3)."""
    OCSP_SIGNING = "ocsp_signing"
    """EKU id-kp-OCSPSigning (RFC 6960 §4.2.2.2)."""
    TLS_SERVER = "tls_server"
    """EKU id-kp-serverAuth."""
    TLS_CLIENT = "tls_client"
    """EKU id-kp-clientAuth."""
    ANY = "any"
    """Path validation only, no usage check (``cert verify --purpose any``, PKITS)."""


EKU_FOR_PURPOSE = {
    KeyPurpose.TIMESTAMPING: ExtendedKeyUsageOID.TIME_STAMPING,
    KeyPurpose.OCSP_SIGNING: ExtendedKeyUsageOID.OCSP_SIGNING,
    KeyPurpose.TLS_SERVER: ExtendedKeyUsageOID.SERVER_AUTH,
    KeyPurpose.TLS_CLIENT: ExtendedKeyUsageOID.CLIENT_AUTH,
}


@dataclass(frozen=True)
class ValidatedChain:
    """A path that validated: exists only for a success (no ``valid`` flag to forget)."""

    chain: tuple[x509.Certificate, ...]
    """Leaf first, ends at the trust anchor."""
    identity: SignerIdentity
    """The leaf's typed identity."""
    validation_time: dt.datetime
    """The moment the path was validated at."""
    revocation_status: str
    """``good`` (checked), ``not_checked`` (mode OFF), ``not_declared`` (soft/hard-fail and
    the leaf names no CRL/OCSP), ``soft_fail`` (data missing, ignored under SOFT_FAIL)."""
    purpose: KeyPurpose = KeyPurpose.DOCUMENT_SIGNING
    """The purpose the leaf was checked for."""

    @property
    def leaf(self) -> x509.Certificate:
        """The validated end-entity certificate."""
        return self.chain[0]

    @property
    def anchor(self) -> x509.Certificate:
        """The trust anchor the path ends at."""
        return self.chain[-1]


_REVOCATION: dict[RevocationMode, RevocationCheckingPolicy] = {
    RevocationMode.OFF: NO_REVOCATION,
    RevocationMode.SOFT_FAIL: LEGACY_POLICY_MAP["soft-fail"],
    RevocationMode.HARD_FAIL: LEGACY_POLICY_MAP["hard-fail"],
    RevocationMode.REQUIRE: REQUIRE_REVINFO,
}
_CACHE: WindowCache[ValidatedChain] = WindowCache(maxsize=2048)
MAX_CANDIDATES = 64
"""Untrusted certificates accepted per call (path building is combinatorial)."""
MAX_REVINFO = 64
"""Extra CRLs plus OCSP responses accepted per call."""
MAX_REVINFO_BYTES = 16 * 1024 * 1024
"""Total size of the extra CRLs and OCSP responses per call."""


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


# SHA-256 of each certificate's DER for cache keys (public_bytes re-encodes: ~10 us a call).
_DIGESTS: IdentityMemo[x509.Certificate, bytes] = IdentityMemo(lambda c: sha256(_der(c)).digest())
# asn1crypto parses lazily and memoises (names, hashes, CRL entries): reusing the parsed
# object for the same DER saves most of a cold validation. Keyed by the full DER.
_ASN1: LRUCache[asn1_x509.Certificate] = LRUCache(maxsize=4096)
_CRLS: LRUCache[asn1_crl.CertificateList] = LRUCache(maxsize=256)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return _ASN1.get_or_load(_der(cert), asn1_x509.Certificate.load)


def _asn1_crl(der: bytes, *, extra: bool = False) -> asn1_crl.CertificateList:
    # A CRL that came with a signature (anyone may add one to a B-LT signature's unsigned
    # properties) is kept only up to 256 KiB; the policy's own CRLs always are.
    if extra and len(der) > 256 * 1024:
        return asn1_crl.CertificateList.load(bytes(der))
    return _CRLS.get_or_load(bytes(der), asn1_crl.CertificateList.load)


def build_validation_context(
    policy: TrustPolicy,
    *,
    moment: dt.datetime,
    candidates: Sequence[x509.Certificate] = (),
    extra_crls: Sequence[bytes] = (),
    extra_ocsps: Sequence[bytes] = (),
) -> ValidationContext:
    """A fresh certvalidator context from ``policy`` (used by ``validate_chain`` and PKITS).

    Anchors only from the policy; fetching only when ``policy.allow_fetching``; the
    algorithm floor (hash, RSA/DSA size) from the policy; no time tolerance, so ±1 s around
    notBefore/notAfter decides.
    """
    weak = {"md2", "md5"} | (set() if policy.unsafe_sha1 else {"sha1"})
    algo_policy = DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
        weak_hash_algos=frozenset(weak),
        rsa_key_size_threshold=policy.min_rsa_bits,
        dsa_key_size_threshold=1024 if policy.unsafe_legacy_keys else 1 << 20,
    )
    off = policy.revocation is RevocationMode.OFF
    ctx = ValidationContext(
        trust_roots=[_asn1(c) for c in policy.anchors],
        other_certs=[_asn1(c) for c in (*policy.intermediates, *candidates)],
        moment=moment,
        allow_fetching=policy.allow_fetching and not off,
        crls=[]
        if off
        else [*map(_asn1_crl, policy.crls), *(_asn1_crl(b, extra=True) for b in extra_crls)],
        ocsps=[] if off else [*policy.ocsps, *extra_ocsps],
        # DEFAULT freshness (usable from thisUpdate to nextUpdate, not retroactive): the
        # cache window (cache_window.py) bounds exactly these thresholds.
        revinfo_policy=CertRevTrustPolicy(
            _REVOCATION[policy.revocation], freshness_req_type=FreshnessReqType.DEFAULT
        ),
        time_tolerance=dt.timedelta(0),
        algorithm_usage_policy=algo_policy,
    )
    # Never trust certvalidator 0.33's unchecked CRL issuer records (test_crl_issuer_recursion)
    ctx.revinfo_manager.check_crl_issuer = lambda certificate_list: None  # type: ignore[method-assign]
    return ctx


def _cache_key(
    leaf: x509.Certificate,
    policy: TrustPolicy,
    candidates: Sequence[x509.Certificate],
    purpose: KeyPurpose,
    extra_crls: Sequence[bytes],
    extra_ocsps: Sequence[bytes],
) -> tuple[Any, ...]:
    # No instant: the entry's window decides (WindowCache). The purpose by its value: a str
    # hashes in C, a member by Python's Enum.__hash__ (the key is hashed twice).
    return (
        _DIGESTS(leaf),
        tuple(map(_DIGESTS, candidates)) if candidates else (),
        policy.fingerprint,
        purpose._value_,
        _digests(extra_crls),
        _digests(extra_ocsps),
    )


def _digests(items: Sequence[bytes]) -> tuple[bytes, ...]:
    # Most signatures carry no revocation data: no hashing, one shared empty tuple.
    return tuple(hashlib.sha256(b).digest() for b in items) if items else ()


def validate_chain(
    leaf: x509.Certificate,
    *,
    policy: TrustPolicy,
    candidates: Sequence[x509.Certificate] = (),
    at: dt.datetime | None = None,
    purpose: KeyPurpose = KeyPurpose.DOCUMENT_SIGNING,
    extra_crls: Sequence[bytes] = (),
    extra_ocsps: Sequence[bytes] = (),
    pkix_params: PKIXValidationParams | None = None,
) -> ValidatedChain:
    """Validate ``leaf`` to one of ``policy.anchors`` at ``at``.

    Args:
        leaf: the end-entity certificate.
        policy: anchors, intermediates, revocation data and rules, algorithm constraints.
        candidates: more untrusted certificates for path building (e.g. from the signature).
        at: validation time; ``None`` means ``policy.validation_time`` or else now.
        purpose: the KeyUsage/EKU the leaf must allow.
        extra_crls, extra_ocsps: DER revocation data found with the signature (B-LT).
        pkix_params: RFC 5280 §6.1.1 policy inputs (PKITS); never cached.

    Raises:
        InvalidInput: more than ``MAX_CANDIDATES`` candidates or too much revocation data;
            unreadable revocation data.
        UntrustedSigner: NO_CERTIFICATE_CHAIN_FOUND, REVOKED, NOT_YET_VALID,
            CHAIN_CONSTRAINTS_FAILURE (path checks, key usage).
        IndeterminateError: TRY_LATER (revocation status unavailable), OUT_OF_BOUNDS_NO_POE.
        PolicyViolation: CRYPTO_CONSTRAINTS_FAILURE (algorithm or key size in the path).
    """
    # Certificates and revocation data found in a signature are attacker-supplied: bound
    # them before certvalidator builds paths over them.
    if len(candidates) > MAX_CANDIDATES:
        raise InvalidInput(f"{len(candidates)} candidate certificates exceed {MAX_CANDIDATES}")
    extras = (*extra_crls, *extra_ocsps)
    if extras and (len(extras) > MAX_REVINFO or sum(map(len, extras)) > MAX_REVINFO_BYTES):
        raise InvalidInput(
            f"revocation data exceeds {MAX_REVINFO} items / {MAX_REVINFO_BYTES} bytes"
        )
    if at is not None:
        moment = ensure_aware(at, name="at")
    elif policy.validation_time is not None:
        moment = policy.validation_time
    else:
        moment = SystemClock().now()
    # Never cache network-dependent results, PKITS-style PKIX inputs, unsafe policies (their
    # warnings must fire on every use), or policies the fingerprint may not stand for.
    cacheable = key_complete(policy) and not (
        policy.allow_fetching
        or pkix_params is not None
        or policy.unsafe_sha1
        or policy.unsafe_legacy_keys
    )
    key = _cache_key(leaf, policy, candidates, purpose, extra_crls, extra_ocsps)
    if cacheable:
        hit = _CACHE.get_at(key, moment)  # only if t0 <= moment < end
        if hit is not None:
            t0, _, r = hit  # the same success, dated at the instant asked for
            if moment == t0 and moment.tzinfo is r.validation_time.tzinfo:
                return r
            return ValidatedChain(r.chain, r.identity, moment, r.revocation_status, r.purpose)
    result = _validate_uncached(
        leaf, policy, candidates, moment, purpose, extra_crls, extra_ocsps, pkix_params
    )
    if cacheable:  # from t0 on, never before: what was used at t0 may not be valid earlier
        t0 = moment.astimezone(dt.UTC)
        end = window_end(t0, result.chain, policy, candidates, extra_crls, extra_ocsps)
        if end is not None:
            _CACHE.put(key, (t0, end, result))
    return result


def _validate_uncached(
    leaf: x509.Certificate,
    policy: TrustPolicy,
    candidates: Sequence[x509.Certificate],
    moment: dt.datetime,
    purpose: KeyPurpose,
    extra_crls: Sequence[bytes],
    extra_ocsps: Sequence[bytes],
    pkix_params: PKIXValidationParams | None,
) -> ValidatedChain:
    try:
        ctx = build_validation_context(
            policy,
            moment=moment,
            candidates=candidates,
            extra_crls=extra_crls,
            extra_ocsps=extra_ocsps,
        )
        asn1_leaf = _asn1(leaf)
    except ValueError as exc:
        raise InvalidInput(f"certificate or revocation data cannot be read: {exc}") from exc

    async def go() -> Any:
        validator = CertificateValidator(asn1_leaf, validation_context=ctx, pkix_params=pkix_params)
        try:
            return await validator.async_validate_path()
        finally:
            await ctx.aclose()  # type: ignore[no-untyped-call]

    try:
        path = run_async(go)
    except (cv_errors.PathError, cv_errors.ValidationError) as exc:
        raise map_validation_error(exc) from exc
    except (ValueError, TypeError) as exc:
        # asn1crypto parses lazily: malformed extensions surface here.
        raise UntrustedSigner(
            f"certificate path could not be processed: {exc}",
            sub_indication="CHAIN_CONSTRAINTS_FAILURE",
            code="verify.chain_invalid",
        ) from exc
    known = {_der(c): c for c in (leaf, *policy.anchors, *policy.intermediates, *candidates)}
    chain: list[x509.Certificate] = []
    for a in reversed(list(path.iter_certs(include_root=True))):
        der = a.dump()
        chain.append(known.get(der) or x509.load_der_x509_certificate(der))
    check_path_crypto(chain, policy)
    check_purpose(leaf, purpose, policy, EKU_FOR_PURPOSE.get(purpose))
    status = revocation_status(
        leaf, policy, bool(ctx.soft_fail_exceptions), extra_crls, extra_ocsps
    )
    identity = SignerIdentity.from_certificate(leaf)
    if purpose is KeyPurpose.DOCUMENT_SIGNING:
        policy.check_signer(identity)
    return ValidatedChain(tuple(chain), identity, moment, status, purpose)


def clear_chain_cache() -> None:
    """Empty the validated-chain cache (tests, or after rotating trust out of band)."""
    _CACHE.clear()


def chain_cache_info() -> CacheInfo:
    """Hits, misses and size of the validated-chain cache."""
    return _CACHE.info()
