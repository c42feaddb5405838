"""Signature and digest algorithms: identifiers for XMLDSig (URIs) and JWS (names).

The enum values are the XMLDSig algorithm URIs (RFC 6931, XMLDSig 1.1 §6); ``jws_name``
gives the RFC 7518 / RFC 8037 name. An unknown identifier raises ``UnsupportedFeature``.
"""

from __future__ import annotations

import enum

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ..errors import UnsupportedFeature

__all__ = [
    "DigestAlgorithm",
    "KeyType",
    "PrivateKey",
    "PublicKey",
    "SignatureAlgorithm",
    "default_algorithm",
    "key_type_of",
    "raw_ecdsa_to_der",
    "sign_with_key",
    "verify_with_key",
]


class DigestAlgorithm(enum.Enum):
    """Digest algorithms by XMLDSig URI. SHA-1 exists only to *verify* legacy data."""

    SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
    SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
    SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

    @property
    def hash(self) -> hashes.HashAlgorithm:
        """A fresh cryptography hash object."""
        return _HASHES[self]()

    @property
    def hashlib_name(self) -> str:
        """The name hashlib uses (``sha256``…)."""
        return self.name.lower()

    @property
    def oid(self) -> str:
        """The ASN.1 algorithm OID (for RFC 3161 imprints and CMS)."""
        return _DIGEST_OIDS[self]

    @classmethod
    def from_uri(cls, uri: str) -> DigestAlgorithm:
        """Look up by XMLDSig URI; unknown URIs raise ``UnsupportedFeature``."""
        try:
            return cls(uri)
        except ValueError:
            raise UnsupportedFeature(f"digest algorithm {uri!r} is not supported") from None


_HASHES: dict[DigestAlgorithm, type[hashes.HashAlgorithm]] = {
    DigestAlgorithm.SHA1: hashes.SHA1,
    DigestAlgorithm.SHA256: hashes.SHA256,
    DigestAlgorithm.SHA384: hashes.SHA384,
    DigestAlgorithm.SHA512: hashes.SHA512,
}
_DIGEST_OIDS = {
    DigestAlgorithm.SHA1: "1.3.14.3.2.26",
    DigestAlgorithm.SHA256: "2.16.840.1.101.3.4.2.1",
    DigestAlgorithm.SHA384: "2.16.840.1.101.3.4.2.2",
    DigestAlgorithm.SHA512: "2.16.840.1.101.3.4.2.3",
}


class KeyType(enum.Enum):
    """The public-key family an algorithm is bound to (RFC 7518 §3.1: alg binds key type)."""

    RSA = "RSA"
    EC = "EC"
    ED25519 = "Ed25519"


class SignatureAlgorithm(enum.Enum):
    """Asymmetric signature algorithms by XMLDSig URI. No HMAC: it is not a signature."""

    RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
    RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
    RSA_PSS_SHA256 = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
    RSA_PSS_SHA384 = "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
    RSA_PSS_SHA512 = "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"
    ECDSA_SHA1 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
    ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
    ECDSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
    ED25519 = "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519"

    @property
    def key_type(self) -> KeyType:
        """The key family this algorithm requires."""
        return _KEY_TYPES[self]

    @property
    def digest(self) -> DigestAlgorithm | None:
        """The message digest used, or ``None`` for Ed25519 (hashes internally)."""
        return _DIGESTS[self]

    @property
    def is_pss(self) -> bool:
        """True for RSASSA-PSS (MGF1 with the same hash, salt length = hash length)."""
        return "_PSS_" in self.name

    @property
    def jws_name(self) -> str | None:
        """RFC 7518 / RFC 8037 ``alg`` name, or ``None`` if JWS has none (SHA-1)."""
        return _JWS_NAMES.get(self)

    @classmethod
    def from_uri(cls, uri: str) -> SignatureAlgorithm:
        """Look up by XMLDSig URI; unknown (HMAC, DSA…) raise ``UnsupportedFeature``."""
        try:
            return cls(uri)
        except ValueError:
            raise UnsupportedFeature(f"signature algorithm {uri!r} is not supported") from None

    @classmethod
    def from_jws(cls, name: str) -> SignatureAlgorithm:
        """Look up by JWS ``alg``; ``none``, HS* and unknown names raise ``UnsupportedFeature``."""
        alg = _BY_JWS_NAME.get(name) if isinstance(name, str) else None
        if alg is None:
            raise UnsupportedFeature(f"JWS algorithm {name!r} is not supported")
        return alg


_JWS_NAMES = {
    SignatureAlgorithm.RSA_SHA256: "RS256",
    SignatureAlgorithm.RSA_SHA384: "RS384",
    SignatureAlgorithm.RSA_SHA512: "RS512",
    SignatureAlgorithm.RSA_PSS_SHA256: "PS256",
    SignatureAlgorithm.RSA_PSS_SHA384: "PS384",
    SignatureAlgorithm.RSA_PSS_SHA512: "PS512",
    SignatureAlgorithm.ECDSA_SHA256: "ES256",
    SignatureAlgorithm.ECDSA_SHA384: "ES384",
    SignatureAlgorithm.ECDSA_SHA512: "ES512",
    SignatureAlgorithm.ED25519: "EdDSA",
}

_BY_JWS_NAME = {jws: alg for alg, jws in _JWS_NAMES.items()}
# Per-member facts as tables (verify and sign look them up several times per signature).
_KEY_TYPES = {
    a: KeyType.RSA
    if a.name.startswith("RSA")
    else KeyType.EC
    if a.name.startswith("ECDSA")
    else KeyType.ED25519
    for a in SignatureAlgorithm
}
_DIGESTS: dict[SignatureAlgorithm, DigestAlgorithm | None] = {
    a: None if a is SignatureAlgorithm.ED25519 else DigestAlgorithm[a.name.rsplit("_", 1)[1]]
    for a in SignatureAlgorithm
}

# --- primitives shared by every format (sign with a key object; verify with a public key) ---


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def key_type_of(key: PublicKey | PrivateKey) -> KeyType:
    """The family of a key; other key types (DSA, X448…) raise ``UnsupportedFeature``."""
    known = _KEY_TYPE_BY_CLASS.get(type(key))
    if known is not None:
        return known
    found = _key_type_by_isinstance(key)
    if key.__class__ is type(key):  # not a proxy (a spec'd mock) posing as another class
        _KEY_TYPE_BY_CLASS[type(key)] = found
    return found


# isinstance against the ABC unions costs ~1 us a call; the answer depends only on the class.
_KEY_TYPE_BY_CLASS: dict[type, KeyType] = {}


def _key_type_by_isinstance(key: PublicKey | PrivateKey) -> KeyType:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return KeyType.RSA
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return KeyType.EC
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return KeyType.ED25519
    raise UnsupportedFeature(f"key type {type(key).__name__} is not supported")


def _pss(alg: SignatureAlgorithm) -> padding.PSS:
    digest = alg.digest
    assert digest is not None
    # RFC 6931 §2.3.10 / RFC 7518 §3.5: MGF1 with the same hash, salt length = hash length.
    return padding.PSS(mgf=padding.MGF1(digest.hash), salt_length=digest.hash.digest_size)


def _ec_size(curve: ec.EllipticCurve) -> int:
    return (curve.key_size + 7) // 8


def sign_with_key(key: PrivateKey, data: bytes, alg: SignatureAlgorithm) -> bytes:
    """Sign ``data`` with a cryptography key. ECDSA output is raw ``r || s`` (XMLDSig 1.1, JWS)."""
    if key_type_of(key) is not alg.key_type:
        raise UnsupportedFeature(f"{alg.name} cannot be used with a {key_type_of(key).value} key")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    digest = alg.digest
    assert digest is not None
    if isinstance(key, rsa.RSAPrivateKey):
        pad = _pss(alg) if alg.is_pss else padding.PKCS1v15()
        return key.sign(data, pad, digest.hash)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest.hash)))
    n = _ec_size(key.curve)
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def verify_with_key(key: PublicKey, signature: bytes, data: bytes, alg: SignatureAlgorithm) -> bool:
    """True iff ``signature`` over ``data`` verifies under ``key`` with exactly ``alg``.

    The algorithm is bound to the key type first (RFC 7518 §3.1; CVE-2025-48994 class):
    an RSA algorithm never runs on an EC key and vice versa. ECDSA takes raw ``r || s``
    of exactly twice the curve size.
    """
    if key_type_of(key) is not alg.key_type:
        return False
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
            return True
        digest = alg.digest
        assert digest is not None
        if isinstance(key, rsa.RSAPublicKey):
            if len(signature) != (key.key_size + 7) // 8:
                return False
            pad = _pss(alg) if alg.is_pss else padding.PKCS1v15()
            key.verify(signature, data, pad, digest.hash)
            return True
        assert isinstance(key, ec.EllipticCurvePublicKey)
        n = _ec_size(key.curve)
        if len(signature) != 2 * n:
            return False
        r = int.from_bytes(signature[:n], "big")
        s = int.from_bytes(signature[n:], "big")
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(digest.hash))
        return True
    except _CryptoInvalidSignature:
        return False


def raw_ecdsa_to_der(signature: bytes) -> bytes:
    """Convert raw ``r || s`` to DER (CMS / PAdES want DER)."""
    n = len(signature) // 2
    return encode_dss_signature(
        int.from_bytes(signature[:n], "big"), int.from_bytes(signature[n:], "big")
    )


def default_algorithm(key: PublicKey) -> SignatureAlgorithm:
    """Our default algorithm for a key: SHA-256 family; SHA-384/512 for larger curves."""
    kt = key_type_of(key)
    if kt is KeyType.ED25519:
        return SignatureAlgorithm.ED25519
    if kt is KeyType.RSA:
        return SignatureAlgorithm.RSA_SHA256
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return {
        256: SignatureAlgorithm.ECDSA_SHA256,
        384: SignatureAlgorithm.ECDSA_SHA384,
        521: SignatureAlgorithm.ECDSA_SHA512,
    }.get(key.curve.key_size, SignatureAlgorithm.ECDSA_SHA256)
