"""Verify one ds:Signature in our strict profile (XMLDSig 1.1 §3.2 core validation).

What is verified is what is used: SignedInfo is canonicalised once, those exact bytes
are checked against SignatureValue, and the references are read from a *re-parse of
those bytes*, never from the original SignedInfo element. Each reference hands back the
exact element that was digested; callers read the document only from there.

Steps (numbered as in the code):
 (1) structure of ds:Signature; no child nodes in DigestValue / SignatureValue
 (2) canonical SignedInfo bytes, re-parsed with the hardened parser
 (3) SignatureMethod (no HMAC, no DSA, no truncation); algorithm allow-list
 (4) key: a caller's resolver, else the leaf X509Certificate of KeyInfo; key policy
 (5) every Reference: same-document URI, profile transforms, allowed digest, digest match
 (6) SignatureValue over the canonical SignedInfo bytes
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from lxml import etree

from ..errors import InvalidInput, InvalidSignature, PolicyViolation, UnsupportedFeature
from .algorithms import (
    DigestAlgorithm,
    PublicKey,
    SignatureAlgorithm,
    key_type_of,
    verify_with_key,
)
from .c14n import C14NMethod, canonicalize
from .transforms import EC_NS, parse_transforms
from .xmldsig_keyinfo import parse_key_info
from .xmldsig_refs import IdIndex, reference_input
from .xmldsig_sigmethod import signature_method
from .xmldsig_types import (
    DS,
    KeyInfoData,
    VerifiedReference,
    VerifiedSignature,
    b64decode_strict,
)

__all__ = ["KeyResolver", "verify_signature"]

KeyResolver = Callable[[KeyInfoData], PublicKey | None]
"""Maps what KeyInfo says to a public key the caller accepts, or ``None`` to refuse."""

_MAX_REFERENCES = 64
_LOCAL = threading.local()
_CRYPTO = "CRYPTO_CONSTRAINTS_FAILURE"


def _elements(el: etree._Element) -> list[etree._Element]:
    """Element children; non-whitespace text between them is malformed."""
    out: list[etree._Element] = []
    if el.text and el.text.strip():
        raise InvalidInput(f"unexpected text in {etree.QName(el).localname}")
    for child in el:
        if isinstance(child.tag, str):
            out.append(child)
        if child.tail and child.tail.strip():
            raise InvalidInput(f"unexpected text in {etree.QName(el).localname}")
    return out


def _expect(children: list[etree._Element], i: int, name: str, where: str) -> etree._Element:
    if i >= len(children) or children[i].tag != DS + name:
        found = etree.QName(children[i]).localname if i < len(children) else "nothing"
        raise InvalidInput(f"{where}: expected ds:{name}, found {found}", code="xmldsig.structure")
    return children[i]


def _leaf_text(el: etree._Element, what: str) -> str:
    # CVE-2025-29775: a comment (or PI, or element) inside a value must not change what is
    # read; any child node at all is refused, so the value is the element's whole text.
    if len(el):
        raise InvalidInput(
            f"{what} contains child nodes (comments are refused)", code="xmldsig.structure"
        )
    return el.text or ""


def _reparse(canonical: bytes) -> etree._Element:
    # Canonical XML that libxml2 wrote from a tree parse_xml already admitted: no DOCTYPE
    # can appear in it and its size and depth are bounded; a fresh hardened parser suffices
    # (parse_xml's Python-level pre-checks would double the cost of a 4 KB verify).
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:  # lxml parsers must not be shared between threads
        parser = _LOCAL.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
    try:
        return etree.fromstring(canonical, parser=parser)
    except etree.XMLSyntaxError as exc:  # pragma: no cover - C14N output is well-formed
        raise InvalidInput(f"canonical SignedInfo does not parse: {exc}") from exc


def _spki(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _leaf_certificate(info: KeyInfoData) -> x509.Certificate:
    """The one certificate that issued none of the others (KeyInfo order is not fixed)."""
    ders = info.certificates_der
    index = _LEAF_INDEX.get(ders)
    if index is None:
        index = _leaf_index(ders, info.certificates)
        if len(_LEAF_INDEX) >= 256:
            _LEAF_INDEX.clear()
        _LEAF_INDEX[ders] = index
    return info.certificates[index]


_LEAF_INDEX: dict[tuple[bytes, ...], int] = {}
"""DERs -> leaf position: a function of the certificates alone, worked out once per chain
(keyed by the DERs only: hashing the certificate objects as well cost more than the rest)."""


def _leaf_index(ders: tuple[bytes, ...], certs: tuple[x509.Certificate, ...]) -> int:
    # A refusal is raised, never stored. Duplicates count once (the last).
    last = {der: i for i, der in enumerate(ders)}
    unique = [certs[i] for i in last.values()]
    leaves = [
        i
        for i in last.values()
        if not any(o is not certs[i] and o.issuer == certs[i].subject for o in unique)
    ]
    if len(leaves) != 1:
        raise InvalidInput(
            f"cannot tell the signing certificate among {len(unique)} KeyInfo certificates",
            code="xmldsig.keyinfo",
        )
    return leaves[0]


def _select_key(
    info: KeyInfoData, resolver: KeyResolver | None
) -> tuple[PublicKey, x509.Certificate | None]:
    if resolver is not None:
        key = resolver(info)
        if key is None:
            raise UnsupportedFeature("no key accepted for this KeyInfo", code="xmldsig.no_key")
        spki = _spki(key)
        cert = next((c for c in info.certificates if _spki_of(c) == spki), None)
        return key, cert
    if not info.certificates:
        raise UnsupportedFeature(
            "KeyInfo has no X509Certificate; KeyValue, KeyName or X509 lookups need a key_resolver",
            code="xmldsig.no_key",
        )
    leaf = _leaf_certificate(info)
    leaf_key = _cert_key(leaf)
    if not isinstance(leaf_key, PublicKey):
        raise UnsupportedFeature(
            f"certificate key type {type(leaf_key).__name__} is not supported",
            code="xmldsig.key_type",
        )
    return leaf_key, leaf


def _cert_key(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    # The certificate parsed, but its SubjectPublicKeyInfo is only read here: an unknown
    # curve or a malformed key raises cryptography's errors, which must not escape.
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UnsupportedFeature(
            f"KeyInfo certificate key cannot be loaded: {exc}", code="xmldsig.key_type"
        ) from exc


def _spki_of(cert: x509.Certificate) -> bytes:
    return _cert_key(cert).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _check_key(alg: SignatureAlgorithm, key: PublicKey, min_rsa_bits: int) -> None:
    # CVE-2025-48994 class: the algorithm is bound to the key type before any crypto runs.
    if key_type_of(key) is not alg.key_type:
        raise InvalidSignature(
            f"{alg.name} cannot verify with a {key_type_of(key).value} key",
            sub_indication="SIG_CRYPTO_FAILURE",
        )
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < min_rsa_bits:
        raise PolicyViolation(
            f"RSA-{key.key_size} key; at least {min_rsa_bits} bits required",
            sub_indication=_CRYPTO,
        )


def _c14n_of(cm: etree._Element) -> tuple[C14NMethod, tuple[str, ...]]:
    method = C14NMethod.from_uri(cm.get("Algorithm") or "")
    prefixes: tuple[str, ...] = ()
    for child in _elements(cm):
        if not method.exclusive or child.tag != f"{{{EC_NS}}}InclusiveNamespaces":
            raise InvalidInput("unexpected content in CanonicalizationMethod")
        prefixes = tuple((child.get("PrefixList") or "").split())
    return method, prefixes


def _verify_reference(
    signature: etree._Element,
    ref: etree._Element,
    allowed_digests: frozenset[DigestAlgorithm],
    id_attributes: Sequence[str],
    index: IdIndex | None,
) -> VerifiedReference:
    parts = _elements(ref)
    i = 0
    transforms = None
    if parts and parts[0].tag == DS + "Transforms":
        transforms, i = parts[0], 1
    dm = _expect(parts, i, "DigestMethod", "ds:Reference")
    dv = _expect(parts, i + 1, "DigestValue", "ds:Reference")
    if len(parts) != i + 2 or len(_elements(dm)):
        raise InvalidInput("unexpected content in ds:Reference", code="xmldsig.structure")
    digest_alg = DigestAlgorithm.from_uri(dm.get("Algorithm") or "")
    if digest_alg not in allowed_digests:
        raise PolicyViolation(f"digest {digest_alg.name} is not allowed", sub_indication=_CRYPTO)
    expected = b64decode_strict(_leaf_text(dv, "DigestValue"), what="DigestValue")
    plan = parse_transforms(transforms)
    uri = ref.get("URI")
    element, data = reference_input(signature, uri, plan, id_attributes, index)
    computed = getattr(hashlib, digest_alg.hashlib_name)(data).digest()
    if not hmac.compare_digest(computed, expected):
        raise InvalidSignature(
            f"digest of Reference {uri!r} does not match",
            sub_indication="HASH_FAILURE",
            location=uri,
        )
    assert uri is not None
    return VerifiedReference(
        uri=uri,
        type=ref.get("Type"),
        id=ref.get("Id"),
        element=element,
        canonical=data,
        digest_algorithm=digest_alg,
        digest_value=computed,
        enveloped=plan.enveloped,
    )


def verify_signature(
    signature: etree._Element,
    *,
    key_resolver: KeyResolver | None = None,
    allowed_algorithms: frozenset[SignatureAlgorithm],
    allowed_digests: frozenset[DigestAlgorithm],
    id_attributes: Sequence[str] = ("Id",),
    expected_references: int | None = None,
    min_rsa_bits: int = 2048,
) -> VerifiedSignature:
    """Verify a ds:Signature element inside an already-parsed document.

    Only cryptography and structure are checked; trust in the returned certificate is
    the caller's job. The document must come from ``parse_xml`` (no DTD-declared IDs).

    Args:
        signature: the ds:Signature element (inside its document).
        key_resolver: maps KeyInfo to an accepted public key (pinning, KeyValue, lookups);
            ``None`` uses the leaf certificate found in KeyInfo/X509Data.
        allowed_algorithms: SignatureMethods accepted (others: ``PolicyViolation``).
        allowed_digests: Reference DigestMethods accepted (others: ``PolicyViolation``).
        id_attributes: attribute names that carry ids for ``#id`` references.
        expected_references: if given, the exact number of References required.
        min_rsa_bits: smallest RSA modulus accepted.

    Raises:
        InvalidInput: malformed structure, bad base64, ambiguous or missing targets.
        UnsupportedFeature: anything outside the profile (HMAC, DSA, XSLT, XPath,
            external URIs, RetrievalMethod, KeyValue-only keys without a resolver…).
        PolicyViolation: an algorithm, digest or key size not allowed
            (``CRYPTO_CONSTRAINTS_FAILURE``).
        InvalidSignature: ``HASH_FAILURE`` (a reference digest) or ``SIG_CRYPTO_FAILURE``
            (the SignatureValue), or a reference count other than ``expected_references``.
    """
    # (1) Signature = SignedInfo, SignatureValue, KeyInfo?, Object* (XMLDSig §4.1).
    if signature.tag != DS + "Signature":
        raise InvalidInput(
            f"expected ds:Signature, found {signature.tag!r}", code="xmldsig.structure"
        )
    children = _elements(signature)
    signed_info = _expect(children, 0, "SignedInfo", "ds:Signature")
    sig_value_el = _expect(children, 1, "SignatureValue", "ds:Signature")
    rest = children[2:]
    key_info_el = rest[0] if rest and rest[0].tag == DS + "KeyInfo" else None
    for obj in rest[1 if key_info_el is not None else 0 :]:
        if obj.tag != DS + "Object":
            raise InvalidInput(f"unexpected {obj.tag!r} in ds:Signature", code="xmldsig.structure")
    for dv in signed_info.iter(DS + "DigestValue"):
        _leaf_text(dv, "DigestValue")
    sig_value = b64decode_strict(_leaf_text(sig_value_el, "SignatureValue"), what="SignatureValue")

    # (2) Canonical SignedInfo, then re-parse exactly those bytes and use only that.
    si_parts = _elements(signed_info)
    method, prefixes = _c14n_of(_expect(si_parts, 0, "CanonicalizationMethod", "ds:SignedInfo"))
    signed_bytes = canonicalize(signed_info, method, inclusive_prefixes=prefixes)
    si = _reparse(signed_bytes)
    parts = _elements(si)
    if _expect(parts, 0, "CanonicalizationMethod", "SignedInfo").get("Algorithm") != method.uri:
        raise InvalidInput(
            "canonical SignedInfo differs from the original", code="xmldsig.structure"
        )

    # (3) SignatureMethod: refuse HMAC/DSA/truncation before looking at any key.
    alg = signature_method(_expect(parts, 1, "SignatureMethod", "ds:SignedInfo"))
    if alg not in allowed_algorithms:
        raise PolicyViolation(
            f"signature algorithm {alg.name} is not allowed", sub_indication=_CRYPTO
        )
    refs = parts[2:]
    if not refs:
        raise InvalidInput("ds:SignedInfo has no ds:Reference", code="xmldsig.structure")
    if len(refs) > _MAX_REFERENCES:
        raise InvalidInput(f"{len(refs)} references; limit {_MAX_REFERENCES}")
    for r in refs:
        _expect([r], 0, "Reference", "ds:SignedInfo")
    if expected_references is not None and len(refs) != expected_references:
        raise InvalidSignature(
            f"expected {expected_references} references, found {len(refs)}",
            sub_indication="FORMAT_FAILURE",
        )

    # (4) The key: never fetched; a resolver decides, else the KeyInfo leaf certificate.
    info = parse_key_info(key_info_el)
    key, cert = _select_key(info, key_resolver)
    _check_key(alg, key, min_rsa_bits)

    # (5) References (ETSI EN 319 102-1 §5.2.7: HASH_FAILURE before SIG_CRYPTO_FAILURE).
    index = (
        IdIndex(signature.getroottree(), id_attributes)
        if any((r.get("URI") or "").startswith("#") for r in refs)
        else None
    )
    verified = tuple(
        _verify_reference(signature, r, allowed_digests, id_attributes, index) for r in refs
    )

    # (6) The SignatureValue over the canonical SignedInfo bytes.
    if not verify_with_key(key, sig_value, signed_bytes, alg):
        raise InvalidSignature(
            "SignatureValue does not verify", sub_indication="SIG_CRYPTO_FAILURE"
        )
    others = tuple(c for c in info.certificates if c is not cert)
    return VerifiedSignature(
        signature=signature,
        algorithm=alg,
        public_key=key,
        certificate=cert,
        other_certificates=others,
        key_info=info,
        references=verified,
        signed_info=signed_bytes,
        signature_value=sig_value,
    )
