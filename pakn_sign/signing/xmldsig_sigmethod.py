"""ds:SignatureMethod: map the URI (and RFC 6931 RSASSA-PSS parameters) to our enum.

HMAC is refused outright, with or without HMACOutputLength: it is not a signature, and
accepting it is what makes key-confusion (CVE-2025-48994 class: an RSA public key used
as an HMAC secret) and truncation (CVE-2009-0217) attacks possible.
"""

from __future__ import annotations

from lxml import etree

from ..errors import InvalidInput, UnsupportedFeature
from .algorithms import DigestAlgorithm, SignatureAlgorithm
from .xmldsig_types import DS

__all__ = ["RSA_PSS", "XMLDSIG_MORE_07", "signature_method"]

XMLDSIG_MORE_07 = "http://www.w3.org/2007/05/xmldsig-more#"
RSA_PSS = XMLDSIG_MORE_07 + "rsa-pss"
"""RFC 6931 §2.3.10 RSASSA-PSS with explicit RSAPSSParams."""
_MGF1 = XMLDSIG_MORE_07 + "MGF1"

_HMAC_MARKERS = ("#hmac-", "hmac-sha", "hmac-md5", "hmac-ripemd160")

_PSS_BY_DIGEST = {
    DigestAlgorithm.SHA256: SignatureAlgorithm.RSA_PSS_SHA256,
    DigestAlgorithm.SHA384: SignatureAlgorithm.RSA_PSS_SHA384,
    DigestAlgorithm.SHA512: SignatureAlgorithm.RSA_PSS_SHA512,
}


def _int_child(params: etree._Element, name: str, default: int) -> int:
    el = params.find(f"{{{XMLDSIG_MORE_07}}}{name}")
    if el is None:
        return default
    text = (el.text or "").strip()
    # ASCII only: str.isdigit() also admits "²" (which int() refuses) and other scripts' digits.
    if len(el) or not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise InvalidInput(f"RSAPSSParams {name} is not a small integer")
    return int(text)


def _digest_child(el: etree._Element | None, default: DigestAlgorithm) -> DigestAlgorithm:
    if el is None:
        return default
    dm = el.find(DS + "DigestMethod")
    if dm is None:
        return default
    return DigestAlgorithm.from_uri(dm.get("Algorithm") or "")


def _pss_params(sm: etree._Element, default: DigestAlgorithm) -> SignatureAlgorithm:
    # RFC 6931 §2.3.10: defaults are SHA-256 (or the URI's hash), MGF1 with the same hash,
    # salt = hash length, trailer field 1. We accept exactly the three "same hash
    # everywhere" profiles.
    params = sm.find(f"{{{XMLDSIG_MORE_07}}}RSAPSSParams")
    if any(isinstance(c.tag, str) and c is not params for c in sm):
        raise UnsupportedFeature("unexpected parameters on an RSASSA-PSS SignatureMethod")
    digest = _digest_child(params, default)
    mgf_digest = digest
    salt = digest.hash.digest_size
    trailer = 1
    if params is not None:
        mgf = params.find(f"{{{XMLDSIG_MORE_07}}}MaskGenerationFunction")
        if mgf is not None:
            if mgf.get("Algorithm") != _MGF1:
                raise UnsupportedFeature(f"PSS mask generation {mgf.get('Algorithm')!r}")
            mgf_digest = _digest_child(mgf, digest)
        salt = _int_child(params, "SaltLength", salt)
        trailer = _int_child(params, "TrailerField", 1)
    alg = _PSS_BY_DIGEST.get(digest)
    if alg is None or mgf_digest is not digest or salt != digest.hash.digest_size or trailer != 1:
        raise UnsupportedFeature(
            "RSASSA-PSS parameters other than (SHA-2, MGF1 same hash, salt = hash length)"
        )
    return alg


def signature_method(sm: etree._Element) -> SignatureAlgorithm:
    """The SignatureAlgorithm of a ds:SignatureMethod element.

    Raises:
        UnsupportedFeature: HMAC (any length), DSA, MD5, SHA-224, RIPEMD-160, unknown
            URIs, unsupported PSS parameters, or any parameter on a plain method.
    """
    uri = sm.get("Algorithm") or ""
    if any(m in uri for m in _HMAC_MARKERS):
        raise UnsupportedFeature(
            f"HMAC signature method {uri!r} is not supported (not a public-key signature)",
            code="xmldsig.hmac",
        )
    if uri == RSA_PSS:
        return _pss_params(sm, DigestAlgorithm.SHA256)
    alg = SignatureAlgorithm.from_uri(uri)
    if not any(isinstance(c.tag, str) for c in sm):
        return alg
    if alg.is_pss and alg.digest is not None:
        # §2.3.11 URIs carry no parameters; if RSAPSSParams is present anyway it must
        # say exactly what the URI says.
        if _pss_params(sm, alg.digest) is alg:
            return alg
        raise UnsupportedFeature(f"RSAPSSParams contradict SignatureMethod {uri!r}")
    raise UnsupportedFeature(f"parameters on SignatureMethod {uri!r}")
