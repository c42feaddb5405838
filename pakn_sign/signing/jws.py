"""JWS JSON serialisation over exact payload bytes, strict by construction (RFC 7515 §7.2).

Signing puts ``alg`` and ``x5c`` (the signer's chain) in the protected header. Verifying takes
the algorithm from the caller's allow-list, binds it to the type (and curve) of ``x5c[0]``'s
key, and checks the signature with that key only: whether the chain is trusted is the caller's
job (``pakn_sign.trust.paths.validate_chain``). ``none``, HMAC and keys named by the message
(``jwk``/``jku``/``x5u``) are refused; see ``jws_parse`` for the structural rules and
``jws_jwk`` for the explicit-key test layer.
"""

from __future__ import annotations

import functools
import hashlib
from base64 import b64encode
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import InvalidInput, InvalidSignature, PolicyViolation, UnsupportedFeature
from .algorithms import KeyType, PublicKey, SignatureAlgorithm, key_type_of, verify_with_key
from .b64 import b64_decode_strict, b64url_decode, b64url_encode
from .certload import load_der_certificate
from .jws_json import dumps_compact, loads_strict_json
from .jws_parse import DEFAULT_UNPROTECTED, JWSLimits, ParsedJWS, check_header, parse_jws
from .signers import Signer

__all__ = [
    "DEFAULT_JWS_ALGORITHMS",
    "JWSLimits",
    "JWSVerified",
    "add_signature",
    "algorithm_from_header",
    "build_signature",
    "certificates_of",
    "check_key_for_algorithm",
    "sign_flattened",
    "sign_general",
    "verify_flattened",
    "verify_general",
    "x5c_for",
]

DEFAULT_JWS_ALGORITHMS = frozenset(
    SignatureAlgorithm[name]
    for name in ("RSA_SHA256", "RSA_PSS_SHA256", "ECDSA_SHA256", "ECDSA_SHA384", "ED25519")
)
"""A sensible allow-list for callers without a ``TrustPolicy`` at hand."""

_CURVE_FOR = {  # RFC 7518 §3.4: each ES* name fixes the curve, not only the hash.
    SignatureAlgorithm.ECDSA_SHA256: "secp256r1",
    SignatureAlgorithm.ECDSA_SHA384: "secp384r1",
    SignatureAlgorithm.ECDSA_SHA512: "secp521r1",
}
# Key family by the member's URI: a str hashes in C, a member by Python's Enum.__hash__.
_KEY_TYPE_BY_URI = {a.value: a.key_type for a in SignatureAlgorithm}
_MAX_CHAIN = 10
_BY_THUMB: dict[str, tuple[tuple[str, ...], tuple[tuple[x509.Certificate, ...], str]]] = {}
_LIMITS = JWSLimits()


@dataclass(frozen=True, slots=True)
class JWSVerified:
    """One signature that verified, and exactly what it covers."""

    payload: bytes
    """The exact signed payload bytes."""
    protected: dict[str, Any]
    """The decoded protected header."""
    certificates: tuple[x509.Certificate, ...]
    """``x5c`` decoded, leaf first: a chain *candidate*; trust is the caller's decision."""
    algorithm: SignatureAlgorithm
    header: dict[str, Any] = field(default_factory=dict)
    """The unprotected header (not covered by the signature)."""
    signature: bytes = b""
    """The raw signature value."""
    protected_b64: str = ""
    """The protected header as sent."""
    signature_b64: str = ""
    """The signature value as sent (base64url)."""
    index: int = 0
    """Position in the ``signatures`` array (0 for flattened)."""


def algorithm_from_header(
    protected: Mapping[str, Any], allowed: Iterable[SignatureAlgorithm]
) -> SignatureAlgorithm:
    """RFC 7515 §4.1.1: ``alg`` must be on the caller's allow-list, never trusted as sent."""
    name = protected.get("alg")
    if not isinstance(name, str):
        raise InvalidInput("'alg' is missing from the protected header", location="/protected/alg")
    if name.lower() == "none":
        raise UnsupportedFeature(
            "'alg: none' is refused (unsecured JWS)", location="/protected/alg"
        )
    if name.upper().startswith("HS"):
        raise UnsupportedFeature(
            f"{name} is a MAC, not a signature: refused", location="/protected/alg"
        )
    alg = SignatureAlgorithm.from_jws(name)
    # A set is asked as is: a frozenset per call hashes every member (Enum.__hash__, Python).
    if alg not in (allowed if isinstance(allowed, set | frozenset) else frozenset(allowed)):
        raise PolicyViolation(
            f"algorithm {name} is not in the allowed set",
            location="/protected/alg",
            sub_indication="CRYPTO_CONSTRAINTS_FAILURE",
        )
    return alg


def check_key_for_algorithm(key: PublicKey, alg: SignatureAlgorithm) -> None:
    """Bind ``alg`` to the key: family (RFC 7518 §3.1), ES* curve (§3.4), RSA ≥ 2048 (§3.3)."""
    # key_type_of (memoised per key class) answers as isinstance against the key ABCs would.
    kind = key_type_of(key)
    if kind is not _KEY_TYPE_BY_URI[alg._value_]:
        raise InvalidSignature(
            f"{alg.jws_name} cannot be used with a {kind.value} key",
            sub_indication="SIG_CRYPTO_FAILURE",
        )
    curve = cast(ec.EllipticCurvePublicKey, key).curve.name if kind is KeyType.EC else None
    if curve is not None and curve != _CURVE_FOR.get(alg):
        raise InvalidSignature(
            f"{alg.jws_name} requires {_CURVE_FOR.get(alg)}, key is on {curve}",
            sub_indication="SIG_CRYPTO_FAILURE",
        )
    bits = cast(rsa.RSAPublicKey, key).key_size if kind is KeyType.RSA else None
    if bits is not None and bits < 2048:
        raise PolicyViolation(
            f"RSA-{bits} is below 2048 bits", sub_indication="CRYPTO_CONSTRAINTS_FAILURE"
        )


def certificates_of(protected: Mapping[str, Any], where: str = "") -> tuple[x509.Certificate, ...]:
    """``x5c`` decoded (strict base64, DER), leaf first; ``x5t#S256`` checked if present."""
    x5c = protected.get("x5c")
    if not isinstance(x5c, list) or not x5c or len(x5c) > _MAX_CHAIN:
        raise InvalidInput(f"'x5c' must hold 1..{_MAX_CHAIN} certificates", location=f"{where}/x5c")
    for i, item in enumerate(x5c):
        if not isinstance(item, str):
            raise InvalidInput("'x5c' entries must be strings", location=f"{where}/x5c/{i}")
    chain, thumb = tuple(x5c), protected.get("x5t#S256")
    hit = _BY_THUMB.get(thumb) if type(thumb) is str else None  # no hash of 4 KB of x5c
    certs, leaf_thumb = hit[1] if hit and hit[0] == chain else _decode_x5c(chain, where)
    if thumb == leaf_thumb and not (hit and hit[0] == chain):  # a mismatch is never kept
        if len(_BY_THUMB) >= 256:  # bounded: attacker-chosen thumbprints only refill it
            _BY_THUMB.clear()
        _BY_THUMB[thumb] = (chain, (certs, leaf_thumb))
    if thumb is not None and thumb != leaf_thumb:
        raise InvalidSignature(
            "'x5t#S256' does not match x5c[0]",
            location=f"{where}/x5t#S256",
            sub_indication="FORMAT_FAILURE",
        )
    return certs


@functools.lru_cache(maxsize=256)
def _decode_x5c(x5c: tuple[str, ...], where: str) -> tuple[tuple[x509.Certificate, ...], str]:
    """(certificates, leaf ``x5t#S256``) for exact ``x5c`` strings; cached per signer chain.

    Same strings, same DER (failures raise and are not cached); certificates are immutable,
    so a hit is a fresh decode's answer, and hands ``validate_chain`` the same objects.
    """
    certs, ders = [], []
    for i, item in enumerate(x5c):
        der = b64_decode_strict(item, where=f"{where}/x5c/{i}")
        ders.append(der)
        try:
            certs.append(load_der_certificate(der, what="'x5c' entry"))
        except InvalidInput as exc:
            raise InvalidInput(exc.message, location=f"{where}/x5c/{i}") from exc
    return tuple(certs), b64url_encode(hashlib.sha256(ders[0]).digest())


def public_key_of(cert: x509.Certificate) -> PublicKey:
    """The certificate's key if it is RSA, EC or Ed25519; else ``UnsupportedFeature``."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:  # hostile SubjectPublicKeyInfo
        raise UnsupportedFeature(f"the certificate's public key cannot be used: {exc}") from exc
    key_type_of(cast(PublicKey, key))  # UnsupportedFeature otherwise; memoised per class
    return cast(PublicKey, key)


@functools.lru_cache(maxsize=256)
def x5c_for(chain: tuple[x509.Certificate, ...]) -> tuple[tuple[str, ...], str]:
    """(``x5c`` strings, leaf ``x5t#S256``) for a chain; cached (signers reuse their chain)."""
    ders = [der_of(c) for c in chain]
    return tuple(b64encode(d).decode("ascii") for d in ders), b64url_encode(
        hashlib.sha256(ders[0]).digest()
    )


def der_of(cert: x509.Certificate) -> bytes:
    """DER bytes of a certificate."""
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


def verify_parsed(
    parsed: ParsedJWS, index: int, key: PublicKey, alg: SignatureAlgorithm, where: str = ""
) -> None:
    """Check signature ``index`` of ``parsed`` with ``key`` under ``alg``; raise on failure."""
    check_key_for_algorithm(key, alg)
    sig = parsed.signatures[index]
    if not verify_with_key(key, sig.signature, parsed.signing_input(index), alg):
        raise InvalidSignature(
            f"signature {index} does not verify",
            location=f"{where}/signature",
            sub_indication="SIG_CRYPTO_FAILURE",
        )


def _verify_x5c(
    parsed: ParsedJWS, index: int, allowed: Iterable[SignatureAlgorithm]
) -> JWSVerified:
    sig = parsed.signatures[index]
    where = f"/signatures/{index}" if parsed.serialization == "general" else ""
    alg = algorithm_from_header(sig.protected, allowed)
    certs = certificates_of(sig.protected, f"{where}/protected")
    verify_parsed(parsed, index, public_key_of(certs[0]), alg, where)
    return JWSVerified(
        parsed.payload,
        sig.protected,
        certs,
        alg,
        sig.header,
        sig.signature,
        sig.protected_b64,
        sig.signature_b64,
        index,
    )


def verify_flattened(
    data: bytes,
    *,
    allowed: frozenset[SignatureAlgorithm],
    max_bytes: int = _LIMITS.max_bytes,
    limits: JWSLimits | None = None,
    understood: Iterable[str] = ("b64",),
) -> JWSVerified:
    """Verify a flattened JWS JSON object with ``x5c[0]``'s key; return what was signed.

    Raises ``InvalidInput``/``UnsupportedFeature`` for malformed or out-of-profile input,
    ``PolicyViolation`` for an algorithm outside ``allowed``, ``InvalidSignature`` if the
    signature does not verify. The chain in ``certificates`` is *not* validated here.
    """
    lim = limits or JWSLimits(max_bytes=max_bytes)
    parsed = parse_jws(data, limits=lim, understood=understood)
    if parsed.serialization != "flattened":
        raise InvalidInput(f"expected a flattened JWS, found {parsed.serialization}")
    return _verify_x5c(parsed, 0, allowed)


def verify_general(
    data: bytes,
    *,
    allowed: frozenset[SignatureAlgorithm],
    limits: JWSLimits = _LIMITS,
    understood: Iterable[str] = ("b64",),
    unprotected_allowed: Iterable[str] = DEFAULT_UNPROTECTED,
) -> tuple[JWSVerified, ...]:
    """Verify every signature of a general JWS (all must pass; an empty array fails)."""
    parsed = parse_jws(
        data, limits=limits, understood=understood, unprotected_allowed=unprotected_allowed
    )
    if parsed.serialization != "general":
        raise InvalidInput(f"expected a general JWS, found {parsed.serialization}")
    return tuple(_verify_x5c(parsed, i, allowed) for i in range(len(parsed.signatures)))


# --- signing ---------------------------------------------------------------------------


def _sign(signer: Signer, alg: SignatureAlgorithm, data: bytes) -> bytes:
    return signer.sign_raw(data, alg)


def build_signature(
    payload_segment: bytes, protected: Mapping[str, Any], sign: Callable[[bytes], bytes]
) -> dict[str, str]:
    """Encode ``protected``, sign ASCII(protected) || '.' || payload segment (RFC 7515 §5.1)."""
    protected_b64 = b64url_encode(dumps_compact(dict(protected)))
    value = sign(protected_b64.encode("ascii") + b"." + payload_segment)
    return {"protected": protected_b64, "signature": b64url_encode(value)}


def signer_header(
    signer: Signer,
    algorithm: SignatureAlgorithm | None,
    protected: Mapping[str, Any] | None,
    understood: Iterable[str],
) -> tuple[SignatureAlgorithm, dict[str, Any]]:
    """The protected header for ``signer``: ``alg``, extras, ``x5c``; checked as we verify."""
    alg = algorithm or signer.default_algorithm
    if alg.jws_name is None:
        raise UnsupportedFeature(f"{alg.name} has no JWS name")
    extras = dict(protected or {})
    for name in ("alg", "x5c"):
        if name in extras:
            raise InvalidInput(f"protected header {name!r} is set by the signer, not the caller")
    chain = signer.certificate_chain
    check_key_for_algorithm(public_key_of(chain[0]), alg)
    header = {"alg": alg.jws_name, **extras, "x5c": list(x5c_for(tuple(chain))[0])}
    # Never emit what our own verifier would refuse.
    check_header(header, {}, understood=understood, where="/protected")
    return alg, header


def sign_flattened(
    payload: bytes,
    signer: Signer,
    *,
    algorithm: SignatureAlgorithm | None = None,
    protected: Mapping[str, Any] | None = None,
    understood: Iterable[str] = ("b64",),
) -> bytes:
    """Sign ``payload`` as a flattened JWS JSON object (RFC 7515 §7.2.2).

    The protected header always holds ``alg`` and ``x5c`` (the signer's chain); extra
    protected parameters come from ``protected``. Returns compact UTF-8 JSON bytes.
    """
    extras = tuple((protected or {}).items())
    if all(type(v) is str for _, v in extras):
        # The common case (no extras, or string ones such as ``typ``): the header is built,
        # checked and encoded once per (chain, alg, extras); base64url parts need no JSON
        # escaping (byte-identical to dumps_compact of the full object).
        alg = algorithm or signer.default_algorithm
        protected_b64 = _cached_protected(
            tuple(signer.certificate_chain), alg, extras, tuple(understood)
        )
        segment = b64url_encode(payload).encode("ascii")
        value = signer.sign_raw(protected_b64 + b"." + segment, alg)
        return b"".join(
            (b'{"payload":"', segment, b'","protected":"', protected_b64, b'","signature":"',
             b64url_encode(value).encode("ascii"), b'"}')
        )  # fmt: skip
    alg, header = signer_header(signer, algorithm, protected, understood)
    b64 = header.get("b64", True)
    segment = b64url_encode(payload).encode("ascii") if b64 else payload
    entry = build_signature(segment, header, lambda data: signer.sign_raw(data, alg))
    return dumps_compact({"payload": segment.decode("utf-8"), **entry})


class ChainOnly:
    """Just enough of a Signer to build a header from a chain (no key)."""

    def __init__(self, chain: tuple[x509.Certificate, ...], alg: SignatureAlgorithm):
        self.certificate_chain = chain
        self.default_algorithm = alg

    def sign_raw(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:  # pragma: no cover
        raise NotImplementedError


@functools.lru_cache(maxsize=256)
def _cached_protected(
    chain: tuple[x509.Certificate, ...],
    alg: SignatureAlgorithm,
    extras: tuple[tuple[str, str], ...],
    understood: tuple[str, ...],
) -> bytes:
    # A refusal (key/alg mismatch, a header our verifier would refuse) raises: not cached.
    _, header = signer_header(ChainOnly(chain, alg), alg, dict(extras), understood)
    return b64url_encode(dumps_compact(header)).encode("ascii")


def sign_general(
    payload: bytes,
    signers: Sequence[Signer],
    *,
    algorithms: Sequence[SignatureAlgorithm | None] | None = None,
    protected: Sequence[Mapping[str, Any] | None] | None = None,
) -> bytes:
    """Sign ``payload`` once per signer as a general JWS JSON object (RFC 7515 §7.2.1)."""
    if not signers:
        raise InvalidInput("a general JWS needs at least one signer")
    entries = []
    segment = b64url_encode(payload).encode("ascii")
    for i, signer in enumerate(signers):
        alg_i = algorithms[i] if algorithms else None
        alg, header = signer_header(signer, alg_i, protected[i] if protected else None, ())
        entries.append(build_signature(segment, header, functools.partial(_sign, signer, alg)))
    return dumps_compact({"payload": segment.decode("ascii"), "signatures": entries})


def add_signature(
    data: bytes,
    signer: Signer,
    *,
    algorithm: SignatureAlgorithm | None = None,
    protected: Mapping[str, Any] | None = None,
    limits: JWSLimits = _LIMITS,
) -> bytes:
    """Append a signature over the same payload to a general JWS; earlier entries stay as sent."""
    obj = loads_strict_json(data, max_bytes=limits.max_bytes)
    parse_jws(data, limits=limits)  # structure checks; existing signatures are not verified here
    if not isinstance(obj, dict) or "signatures" not in obj:
        raise InvalidInput("add_signature needs a general JWS")
    alg, header = signer_header(signer, algorithm, protected, ())
    segment = obj["payload"].encode("ascii")
    b64url_decode(obj["payload"], where="/payload")
    obj["signatures"].append(build_signature(segment, header, lambda d: signer.sign_raw(d, alg)))
    return dumps_compact(obj)
