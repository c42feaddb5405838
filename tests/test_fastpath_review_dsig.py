"""Adversarial review of the verification fast paths (2/3): XMLDSig.

The SignedInfo regular expression (``xmldsig_siquick``) against the re-parse of the same
canonical octets; strict XML base64 against an independent decoder; the KeyInfo
X509Certificate text memo and the per-certificate memo against fresh computation.
Each fast answer must be the strict answer (same result, or same error class, code,
message and sub-indication); see tests/test_fastpath_review.py for the method.
"""

from __future__ import annotations

import base64
import functools
import re

import pytest
from conftest import xmldsig_signer
from cryptography.hazmat.primitives import serialization
from fastpath_helpers import error_outcome
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from pakn_sign.codec.xmlcodec import NS
from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import InvalidInput, PaknSignError
from pakn_sign.signing import xmldsig_keyinfo, xmldsig_verify
from pakn_sign.signing.algorithms import SignatureAlgorithm, sign_with_key
from pakn_sign.signing.c14n import C14NMethod, canonicalize
from pakn_sign.signing.xades_certref import PerCertificate
from pakn_sign.signing.xmldsig import (
    DEFAULT_DIGESTS,
    DEFAULT_SIGNATURE_ALGORITHMS,
    DS,
    ReferenceSpec,
    build_signature,
    verify_signature,
)
from pakn_sign.signing.xmldsig_siquick import read_signed_info
from pakn_sign.signing.xmldsig_types import b64decode_strict

# == SignedInfo read by regular expression ===========================================

_SI_DOC = (
    f'<p:Signed xmlns:p="{NS}"><p:Answer Id="pakn-doc"><p:Text>Chấp thuận &amp; ký</p:Text>'
    "</p:Answer></p:Signed>"
)
_EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
_INCL = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_ENV = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_EC = 'xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#"'


@functools.cache
def _si_signed() -> bytes:
    root = etree.fromstring(_SI_DOC.encode())
    refs = [ReferenceSpec("#pakn-doc", type="urn:t")]
    build_signature(root, xmldsig_signer("rsa2048"), signature_id="sig-1", references=refs)
    return etree.tostring(root)


def _si_canonical(signed_info: etree._Element) -> bytes:
    method, prefixes = xmldsig_verify._c14n_of(signed_info[0])
    return canonicalize(signed_info, method, inclusive_prefixes=prefixes)


def _si_variant(edits: list[tuple[str, str]]) -> bytes:
    """The signed document with SignedInfo edited (regex, replacement) and signed again over
    the canonical form its own CanonicalizationMethod names."""
    sig = _signature_of(etree.fromstring(_si_signed()))
    text = etree.tostring(sig[0]).decode()  # declares ds: itself
    for pattern, repl in edits:
        text = re.sub(pattern, repl, text, count=0 if pattern.startswith("(?#all)") else 1)
    # spliced as text: moving an element between trees would let lxml re-prefix it
    doc = re.sub(
        "<ds:SignedInfo>.*</ds:SignedInfo>", lambda _m: text, _si_signed().decode(), flags=re.S
    )
    try:
        root = etree.fromstring(doc.encode())
    except etree.XMLSyntaxError:
        raise _Malformed from None
    sig = _signature_of(root)
    try:
        si = _si_canonical(sig[0])
    except PaknSignError:
        return etree.tostring(root)  # left unsigned: refused before the signature either way
    value = sign_with_key(xmldsig_signer("rsa2048")._key, si, SignatureAlgorithm.RSA_SHA256)
    sig[1].text = base64.b64encode(value).decode()
    return etree.tostring(root)


class _Malformed(Exception):
    """Edits that together make the SignedInfo text not well-formed."""


def _signature_of(root: etree._Element) -> etree._Element:
    sig = root.find(DS + "Signature")
    assert sig is not None
    return sig


def _si_outcome(data: bytes) -> tuple[object, ...]:
    """Every field of verify_signature's result (elements by their path), or the error."""
    root = parse_xml(data).getroot()
    path = root.getroottree().getpath
    allowed = {"allowed_digests": DEFAULT_DIGESTS}
    try:
        v = verify_signature(
            _signature_of(root), allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS, **allowed
        )
    except PaknSignError as exc:
        return error_outcome(exc)
    refs = [(r.uri, r.type, r.id, path(r.element), r.canonical) for r in v.references]
    digests = [(r.enveloped, r.digest_algorithm, r.digest_value) for r in v.references]
    serial = v.certificate.serial_number if v.certificate else None
    return ("ok", v.algorithm, v.signed_info, v.signature_value, serial, refs, digests)


def _si_both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, object, object]:
    sig = _signature_of(parse_xml(data).getroot())
    try:
        quick = read_signed_info(_si_canonical(sig[0])) is not None
    except PaknSignError:
        quick = False
    fast = _si_outcome(data)
    with monkeypatch.context() as m:
        m.setattr(xmldsig_verify, "read_signed_info", lambda _b: None)
        slow = _si_outcome(data)
    return quick, fast, slow


_REF = r"<ds:Reference "
_CM = r'(<ds:CanonicalizationMethod Algorithm=")[^"]*("/?>)'
_SI_EDITS: dict[str, tuple[list[tuple[str, str]], bool]] = {
    # name: (edits, whether the quick reader takes the canonical SignedInfo)
    "gt_in_type": ([(r'Type="urn:t"', 'Type="urn:a>b"')], True),
    "char_ref_in_type": ([(r'Type="urn:t"', 'Type="urn:&#x41;"')], True),
    "amp_in_type": ([(r'Type="urn:t"', 'Type="urn:a&amp;b"')], False),
    "quote_in_type": ([(r'Type="urn:t"', 'Type="urn:&quot;x"')], False),
    "apostrophe_and_vietnamese_in_type": ([(r'Type="urn:t"', "Type=\"urn:'ệ'\"")], True),
    "tab_char_ref_in_type": ([(r'Type="urn:t"', 'Type="urn:&#9;"')], False),
    "gt_in_reference_id": ([(_REF, '<ds:Reference Id="r>1" ')], True),
    "attributes_in_reverse_order": (
        [
            (
                r'<ds:Reference URI="#pakn-doc" Type="urn:t"',
                '<ds:Reference Type="urn:t" URI="#pakn-doc" Id="r"',
            )
        ],
        True,
    ),
    "xml_lang_on_reference": ([(_REF, '<ds:Reference xml:lang="vi" ')], False),
    "foreign_attribute_on_reference": ([(_REF, '<ds:Reference xmlns:f="urn:f" f:a="1" ')], False),
    "unused_namespace_on_signed_info": (
        [(r"<ds:SignedInfo ", '<ds:SignedInfo xmlns:u="urn:u" ')],
        True,
    ),
    "id_on_signed_info": ([(r"<ds:SignedInfo ", '<ds:SignedInfo Id="si" ')], False),
    "ds_redeclared_same_uri": (
        [(r"<ds:DigestMethod ", f'<ds:DigestMethod xmlns:ds="{DS[1:-1]}" ')],
        True,
    ),
    "ds_redeclared_other_uri_on_digest_method": (
        [(r"<ds:DigestMethod [^>]*/>", '<ds:DigestMethod xmlns:ds="urn:evil" Algorithm="x"/>')],
        False,
    ),
    "cdata_digest_value": ([(r"(<ds:DigestValue>)([^<]*)", r"\1<![CDATA[\2]]>")], True),
    "tab_char_ref_in_digest_value": ([(r"(<ds:DigestValue>)", r"\1&#9;")], True),
    "cr_char_ref_in_digest_value": ([(r"(<ds:DigestValue>)", r"\1&#13;")], False),
    "element_in_digest_value": ([(r"(<ds:DigestValue>)", r"\1<ds:X/>")], False),
    "comment_in_digest_value": ([(r"(<ds:DigestValue>)", r"\1<!--c-->")], True),
    "inclusive_c14n_method": ([(_CM, rf"\g<1>{_INCL}\2")], False),
    "exclusive_with_comments_and_comment": (
        [(_CM, rf"\g<1>{_EXC}WithComments\2"), (r"(<ds:SignatureMethod [^>]*/>)", r"\1<!--c-->")],
        False,
    ),
    "prefix_list_on_c14n_method": (
        [
            (
                r'(<ds:CanonicalizationMethod Algorithm="[^"]*")/>',
                rf'\1><ec:InclusiveNamespaces {_EC} PrefixList="p"/></ds:CanonicalizationMethod>',
            )
        ],
        False,
    ),
    "empty_prefix_list_on_c14n_method": (
        [
            (
                r'(<ds:CanonicalizationMethod Algorithm="[^"]*")/>',
                rf'\1><ec:InclusiveNamespaces {_EC} PrefixList=""/></ds:CanonicalizationMethod>',
            )
        ],
        False,
    ),
    "prefix_list_on_transform": (
        [
            (
                r'(<ds:Transform Algorithm="[^"]*")/>',
                rf'\1><ec:InclusiveNamespaces {_EC} PrefixList="p"/></ds:Transform>',
            )
        ],
        False,
    ),
    "enveloped_after_c14n": (
        [(r"(</ds:Transforms>)", rf'<ds:Transform Algorithm="{_ENV}"/>\1')],
        True,
    ),
    "no_uri": ([(r' URI="#pakn-doc"', "")], True),
    "empty_uri": ([(r'URI="#pakn-doc"', 'URI=""')], True),
    "whitespace_in_transforms": ([(r"(<ds:Transforms>)", "\\1\n ")], False),
    "pi_in_signed_info": ([(r"(<ds:SignatureMethod [^>]*/>)", r"\1<?x y?>")], False),
    "second_reference": ([(r"(<ds:Reference .*</ds:Reference>)", r"\1\1")], True),
    "gt_in_digest_method": ([(r'(<ds:DigestMethod Algorithm=")[^"]*', r"\1urn:a>b")], True),
    "ecdsa_method_with_rsa_key": (
        [(r'(SignatureMethod Algorithm=")[^"]*', r"\g<1>" + SignatureAlgorithm.ECDSA_SHA256.value)],
        True,
    ),
    "second_signed_info": ([(r"(<ds:SignedInfo .*</ds:SignedInfo>)", r"\1\1")], True),
    "unknown_child_in_reference": ([(r"(<ds:DigestMethod )", r"<ds:Foo/>\1")], False),
    "transforms_after_digest_method": (
        [(r"(<ds:Transforms>.*</ds:Transforms>)(<ds:DigestMethod [^>]*/>)", r"\2\1")],
        False,
    ),
    "unprefixed_signed_info": (
        [("(?#all)<(/?)ds:", r"<\1"), (r"xmlns:ds=", "xmlns=")],
        False,
    ),
}


@pytest.mark.parametrize("name", list(_SI_EDITS))
def test_attack_signed_info_quick_reader_variants(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    edits, takes = _SI_EDITS[name]
    quick, fast, slow = _si_both(_si_variant(edits), monkeypatch)
    assert fast == slow
    assert quick is takes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(_SI_EDITS)), min_size=2, max_size=4))
def test_signed_info_quick_reader_equals_reparse_on_combined_edits(names: list[str]) -> None:
    try:
        data = _si_variant([e for n in names for e in _SI_EDITS[n][0]])
    except _Malformed:
        assume(False)
    with pytest.MonkeyPatch.context() as mp:
        _, fast, slow = _si_both(data, mp)
    assert fast == slow


_XML_VALUE = st.text(
    st.characters(
        codec="utf-8",
        exclude_categories=("Cs",),
        exclude_characters="\ufffe\uffff" + "".join(map(chr, [*range(9), 11, 12, *range(14, 32)])),
    ),
    max_size=10,
) | st.sampled_from(["\t\n\r", ">", "]]>", '"', "'", "&", "<", "&amp;", " "])


@settings(max_examples=200, deadline=None)
@given(type_=_XML_VALUE, ref_id=_XML_VALUE, digest=_XML_VALUE)
def test_signed_info_reader_reads_what_the_reparse_reads_from_any_canonical_values(
    type_: str, ref_id: str, digest: str
) -> None:
    """Any attribute and DigestValue text in the SignedInfo tree: the reader, when it takes
    the canonical octets at all, reads exactly what parsing them gives."""
    sig = _signature_of(etree.fromstring(_si_signed()))
    ref = sig[0].find(DS + "Reference")
    assert ref is not None
    ref.set("Type", type_)
    ref.set("Id", ref_id)
    ref.find(DS + "DigestValue").text = digest  # type: ignore[union-attr]
    canonical = _si_canonical(sig[0])
    quick = read_signed_info(canonical)
    if quick is None:
        assert any(c in type_ + ref_id for c in '&<"\t\n\r') or any(c in digest for c in "&<>\r")
        return
    refs = etree.fromstring(canonical).findall(f"{DS}Reference")
    assert [(r.uri, r.type, r.id, r.digest_value) for r in quick.references] == [
        (r.get("URI"), r.get("Type"), r.get("Id"), r.findtext(f"{DS}DigestValue") or "")
        for r in refs
    ]
    assert (quick.references[0].type, quick.references[0].id) == (type_, ref_id)


def test_c14n_escapes_what_the_quick_reader_relies_on() -> None:
    """read_signed_info takes values free of ``& < "`` as their own text. That holds only
    because Canonical XML (§2.2) escapes TAB, LF and CR in attribute values and ``>`` and
    CR in text, so a parser never normalises anything in them: pinned for every method."""
    from pakn_sign.signing import c14n

    el = etree.fromstring('<ds:b xmlns:ds="urn:u"/>')
    el.set("T", "1\t2\n3\r4 >")
    el.text = "x\ry>]]>\tz"
    for uri in (c14n.C14N10, c14n.C14N11, c14n.EXC_C14N, c14n.EXC_C14N_COMMENTS):
        assert canonicalize(el, C14NMethod.from_uri(uri)) == (
            b'<ds:b xmlns:ds="urn:u" T="1&#x9;2&#xA;3&#xD;4 >">x&#xD;y&gt;]]&gt;\tz</ds:b>'
        )


# == Strict base64 and the KeyInfo / per-certificate memos ==========================


def _reference_base64(text: str) -> bytes | None:
    """Independent strict XML base64: XML whitespace removed, then RFC 4648 §4 with
    padding and zero unused bits (§3.5); None for anything else."""
    compact = re.sub(r"[ \t\r\n]", "", text)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    if not compact or len(compact) % 4:
        return None
    body = compact.rstrip("=")
    pad = len(compact) - len(body)
    if pad > 2 or any(c not in alphabet for c in body):
        return None
    bits = "".join(f"{alphabet.index(c):06b}" for c in body)
    used = len(bits) - len(bits) % 8
    if pad and "1" in bits[used:]:
        return None
    return int(bits[:used], 2).to_bytes(used // 8, "big") if used else b""


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from("AQgw/+9z= \n\t\r\u00a0-_é\x00"), max_size=14))
def test_strict_base64_equals_an_independent_decoder(text: str) -> None:
    want = _reference_base64(text)
    try:
        got: bytes | None = b64decode_strict(text, what="X")
    except InvalidInput:
        got = None
    assert got == want


def test_attack_certificate_text_memo_keeps_no_refusal_and_maps_text_to_its_own_der() -> None:
    cert = xmldsig_signer("rsa2048").certificate_chain[0]
    der = cert.public_bytes(serialization.Encoding.DER)
    text = base64.b64encode(der).decode()
    wrapped = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    flipped = text[:40] + ("B" if text[40] == "A" else "A") + text[41:]  # another DER
    for bad in (text + "=", "*" + text, text[:-4] + "A==="):
        for _ in range(2):  # a refusal is not remembered as an answer
            with pytest.raises(InvalidInput):
                xmldsig_keyinfo._cert_der(bad)
    assert xmldsig_keyinfo._cert_der(text) == der
    assert xmldsig_keyinfo._cert_der(wrapped) == der
    assert xmldsig_keyinfo._cert_der(flipped) == base64.b64decode(flipped) != der
    for i in range(600):  # past the bound: cleared, never wrong
        xmldsig_keyinfo._cert_der(base64.b64encode(i.to_bytes(4, "big")).decode())
    assert xmldsig_keyinfo._cert_der(text) == der


def test_attack_keyinfo_text_memo_retains_attacker_megabytes() -> None:
    """A KeyInfo holding 1 MB of base64 that is no certificate: refused, and forgotten."""
    blob = base64.b64encode(bytes(768 * 1024)).decode()
    key_info = etree.fromstring(
        f'<ds:KeyInfo xmlns:ds="{DS[1:-1]}"><ds:X509Data>'
        f"<ds:X509Certificate>{blob}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
    )
    with pytest.raises(InvalidInput):
        xmldsig_keyinfo.parse_key_info(key_info)
    kept = sum(len(k) + len(v) for k, v in xmldsig_keyinfo._DER_OF_TEXT.items())
    assert kept < 64 * 1024


def test_attack_large_keyinfo_certificate_is_not_kept_by_any_memo() -> None:
    """A 14 KB certificate (over the 12 KB memo bound, under the 16 KiB load limit): used
    for this verification, kept by no cache (text, parsed certificate, leaf index)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    from pakn_sign.signing import xmldsig_keysel

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "big")])
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    big = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(when)
        .not_valid_after(when + dt.timedelta(days=1))
        .add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), bytes(14 * 1024)),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    der = big.public_bytes(serialization.Encoding.DER)
    text = base64.b64encode(der).decode()
    key_info = etree.fromstring(
        f'<ds:KeyInfo xmlns:ds="{DS[1:-1]}"><ds:X509Data>'
        f"<ds:X509Certificate>{text}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
    )
    xmldsig_keyinfo._certificate_memo.cache_clear()
    info = xmldsig_keyinfo.parse_key_info(key_info)
    assert info.certificates_der == (der,)
    assert xmldsig_keysel._leaf_certificate(info).serial_number == 7
    assert text not in xmldsig_keyinfo._DER_OF_TEXT
    assert xmldsig_keyinfo._certificate_memo.cache_info().currsize == 0
    assert (der,) not in xmldsig_keysel._LEAF_INDEX


def test_attack_per_certificate_memo_ignores_a_reused_id() -> None:
    """An entry left by a collected certificate whose id is reused must not answer."""
    a = xmldsig_signer("rsa2048").certificate_chain[0]
    b = xmldsig_signer("p256").certificate_chain[0]
    memo: PerCertificate[int] = PerCertificate(lambda c, _arg: c.serial_number, 8)
    memo._memo[(id(b), "x")] = (a, a.serial_number)  # as if ``a`` had lived at id(b)
    assert memo(b, "x") == b.serial_number != a.serial_number
    assert memo(b, "x") == b.serial_number
