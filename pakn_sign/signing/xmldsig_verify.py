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
from collections.abc import Sequence

from lxml import etree

from ..errors import InvalidInput, InvalidSignature, PolicyViolation
from .algorithms import (
    DigestAlgorithm,
    SignatureAlgorithm,
    verify_with_key,
)
from .c14n import C14NMethod, canonicalize
from .transforms import EC_NS, parse_transforms, plan_of_uris
from .xmldsig_keyinfo import parse_key_info
from .xmldsig_keysel import KeyResolver, check_key, select_key
from .xmldsig_refs import IdIndex, reference_input
from .xmldsig_sigmethod import signature_method
from .xmldsig_siquick import QuickReference, QuickSignedInfo, read_signed_info
from .xmldsig_types import (
    DS,
    VerifiedReference,
    VerifiedSignature,
    b64decode_strict,
)

__all__ = ["KeyResolver", "verify_signature"]


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
    return _digest_reference(
        signature,
        QuickReference(
            ref.get("URI"),
            ref.get("Type"),
            ref.get("Id"),
            None,
            dm.get("Algorithm") or "",
            _leaf_text(dv, "DigestValue"),
        ),
        transforms,
        allowed_digests,
        id_attributes,
        index,
    )


def _digest_reference(
    signature: etree._Element,
    ref: QuickReference,
    transforms: etree._Element | None,
    allowed_digests: frozenset[DigestAlgorithm],
    id_attributes: Sequence[str],
    index: IdIndex | None,
) -> VerifiedReference:
    # The checks of one structurally sound Reference, in the order of ETSI EN 319 102-1
    # §5.2.7 (digest algorithm, then the digest); ``transforms`` is the ds:Transforms
    # element, else ``ref.transforms`` (URIs of childless Transforms) applies.
    digest_alg = DigestAlgorithm.from_uri(ref.digest_method)
    if digest_alg not in allowed_digests:
        raise PolicyViolation(f"digest {digest_alg.name} is not allowed", sub_indication=_CRYPTO)
    expected = b64decode_strict(ref.digest_value, what="DigestValue")
    if transforms is not None or ref.transforms is None:
        plan = parse_transforms(transforms)
    else:
        plan = plan_of_uris(ref.transforms)
    uri = ref.uri
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
        type=ref.type,
        id=ref.id,
        element=element,
        canonical=data,
        digest_algorithm=digest_alg,
        digest_value=computed,
        enveloped=plan.enveloped,
    )


def _signed_info_tree(
    signed_bytes: bytes, method: C14NMethod, allowed: frozenset[SignatureAlgorithm]
) -> tuple[SignatureAlgorithm, list[etree._Element]]:
    """Steps (2)-(3) on the re-parsed canonical SignedInfo: the algorithm and References."""
    si = _reparse(signed_bytes)
    parts = _elements(si)
    if _expect(parts, 0, "CanonicalizationMethod", "SignedInfo").get("Algorithm") != method.uri:
        raise InvalidInput(
            "canonical SignedInfo differs from the original", code="xmldsig.structure"
        )
    # (3) SignatureMethod: refuse HMAC/DSA/truncation before looking at any key.
    alg = signature_method(_expect(parts, 1, "SignatureMethod", "ds:SignedInfo"))
    _check_method(alg, allowed)
    refs = parts[2:]
    _check_count(len(refs))
    for r in refs:
        _expect([r], 0, "Reference", "ds:SignedInfo")
    return alg, refs


def _signed_info_quick(
    quick: QuickSignedInfo, method: C14NMethod, allowed: frozenset[SignatureAlgorithm]
) -> tuple[SignatureAlgorithm, list[etree._Element], int]:
    """Steps (2)-(3) from :func:`read_signed_info` (same checks, same order)."""
    if quick.c14n_uri != method.uri:
        raise InvalidInput(
            "canonical SignedInfo differs from the original", code="xmldsig.structure"
        )
    _check_method(quick.algorithm, allowed)
    _check_count(len(quick.references))
    return quick.algorithm, [], len(quick.references)


def _check_method(alg: SignatureAlgorithm, allowed: frozenset[SignatureAlgorithm]) -> None:
    if alg not in allowed:
        raise PolicyViolation(
            f"signature algorithm {alg.name} is not allowed", sub_indication=_CRYPTO
        )


def _check_count(n: int) -> None:
    if not n:
        raise InvalidInput("ds:SignedInfo has no ds:Reference", code="xmldsig.structure")
    if n > _MAX_REFERENCES:
        raise InvalidInput(f"{n} references; limit {_MAX_REFERENCES}")


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
    quick = read_signed_info(signed_bytes)
    if quick is None:
        alg, refs = _signed_info_tree(signed_bytes, method, allowed_algorithms)
        count = len(refs)
    else:  # the usual shape, read from the same canonical bytes (xmldsig_siquick)
        alg, refs, count = _signed_info_quick(quick, method, allowed_algorithms)
    if expected_references is not None and count != expected_references:
        raise InvalidSignature(
            f"expected {expected_references} references, found {count}",
            sub_indication="FORMAT_FAILURE",
        )

    # (4) The key: never fetched; a resolver decides, else the KeyInfo leaf certificate.
    info = parse_key_info(key_info_el)
    key, cert = select_key(info, key_resolver)
    check_key(alg, key, min_rsa_bits)

    # (5) References (ETSI EN 319 102-1 §5.2.7: HASH_FAILURE before SIG_CRYPTO_FAILURE).
    uris = [r.get("URI") for r in refs] if quick is None else [r.uri for r in quick.references]
    index = (
        IdIndex(signature.getroottree(), id_attributes)
        if any((u or "").startswith("#") for u in uris)
        else None
    )
    if quick is None:
        verified = tuple(
            _verify_reference(signature, r, allowed_digests, id_attributes, index) for r in refs
        )
    else:
        verified = tuple(
            _digest_reference(signature, r, None, allowed_digests, id_attributes, index)
            for r in quick.references
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
