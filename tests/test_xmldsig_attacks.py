"""Attacks on the XMLDSig core engine, one named test each.

Each wrapping test shows that the engine either refuses, or that the element handed back
in ``VerifiedReference.element`` (the only place callers may read the document from) is
the genuinely signed one, with the unsigned content out of reach through it.
"""

from __future__ import annotations

import base64
import builtins
import copy
import hashlib
import hmac
import socket
from typing import Any

import pytest
from conftest import xmldsig_signer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import (
    ConfigurationError,
    InvalidInput,
    InvalidSignature,
    PolicyViolation,
    UnsupportedFeature,
)
from pakn_sign.signing.algorithms import SignatureAlgorithm, sign_with_key
from pakn_sign.signing.c14n import EXC_C14N, C14NMethod, canonicalize
from pakn_sign.signing.xmldsig import (
    DEFAULT_DIGESTS,
    DEFAULT_SIGNATURE_ALGORITHMS,
    DS,
    DS_NS,
    KeyInfoData,
    ReferenceSpec,
    VerifiedSignature,
    build_signature,
    find_signatures,
    verify_signature,
)

P = "urn:pakn-sign:pakn:1"
NS = {"ds": DS_NS, "p": P}
DOC = (
    f'<p:Signed xmlns:p="{P}"><p:Answer Id="pakn-doc"><p:Text>Chấp thuận</p:Text>'
    "<p:Amount>100</p:Amount></p:Answer></p:Signed>"
)
EXC = C14NMethod.from_uri(EXC_C14N)


def _sign(doc: str = DOC, kind: str = "rsa2048", **kw: Any) -> bytes:
    root = etree.fromstring(doc.encode())
    refs = kw.pop("references", [ReferenceSpec("#pakn-doc")])
    build_signature(root, xmldsig_signer(kind), references=refs, signature_id="sig-1", **kw)
    return etree.tostring(root, encoding="UTF-8")


def _verify(data: bytes, **kw: Any) -> VerifiedSignature:
    doc = parse_xml(data)
    kw.setdefault("allowed_algorithms", DEFAULT_SIGNATURE_ALGORITHMS)
    kw.setdefault("allowed_digests", DEFAULT_DIGESTS)
    return verify_signature(find_signatures(doc)[0], **kw)


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    assert len(found) == 1
    el = found[0]
    assert isinstance(el, etree._Element)
    return el


def _resign(
    root: etree._Element,
    kind: str = "rsa2048",
    alg: SignatureAlgorithm | None = None,
    key: Any = None,
) -> bytes:
    """Re-sign SignedInfo as a (legitimate but weak) signer would, bypassing our new-signature
    policy: used to build SHA-1 / short-key / confusion inputs."""
    sig = _one(root, "//ds:Signature")
    si = sig[0]
    if alg is not None:
        si[1].set("Algorithm", alg.value)
    signing_key = key if key is not None else xmldsig_signer(kind)._key
    value = sign_with_key(signing_key, canonicalize(si, EXC), alg or SignatureAlgorithm.RSA_SHA256)
    sig[1].text = base64.b64encode(value).decode()
    return etree.tostring(root, encoding="UTF-8")


def _redigest(root: etree._Element, uri: str, digest_uri: str, hashname: str) -> None:
    ref = _one(root, f'//ds:Reference[@URI="{uri}"]')
    target = _one(root, f'//*[@Id="{uri[1:]}"]')
    ref.find(DS + "DigestMethod").set("Algorithm", digest_uri)
    data = canonicalize(target, EXC, with_comments=False)
    ref.find(DS + "DigestValue").text = base64.b64encode(
        hashlib.new(hashname, data).digest()
    ).decode()


# --- signature wrapping -----------------------------------------------------------------


def test_attack_wrapping_duplicated_id() -> None:
    root = _tree(_sign())
    evil = etree.SubElement(root, f"{{{P}}}Answer", Id="pakn-doc")
    etree.SubElement(evil, f"{{{P}}}Text").text = "Từ chối"
    with pytest.raises(InvalidInput, match="exactly once"):
        _verify(etree.tostring(root))
    root.insert(0, evil)  # before the genuine one: still ambiguous, never "first wins"
    with pytest.raises(InvalidInput, match="exactly once"):
        _verify(etree.tostring(root))


def test_attack_wrapping_signed_content_moved_into_object() -> None:
    root = _tree(_sign())
    genuine = _one(root, "p:Answer")
    sig = _one(root, "ds:Signature")
    obj = etree.SubElement(sig, DS + "Object")
    obj.append(genuine)  # the signed element hides inside the Signature…
    evil = etree.Element(f"{{{P}}}Answer")  # …and an unsigned one takes its place
    etree.SubElement(evil, f"{{{P}}}Text").text = "Từ chối"
    root.insert(0, evil)
    result = _verify(etree.tostring(root))
    ref = result.references[0]
    assert ref.element.get("Id") == "pakn-doc"
    assert ref.element.getparent().tag == DS + "Object"  # the caller sees where it really is
    assert "Chấp thuận".encode() in ref.canonical
    assert "Từ chối".encode() not in ref.canonical


def test_attack_wrapping_in_foreign_wrapper() -> None:
    root = _tree(_sign())
    genuine = _one(root, "p:Answer")
    wrapper = etree.SubElement(root, "{urn:evil}Wrapper")
    wrapper.append(genuine)
    root.insert(0, etree.fromstring(f'<p:Answer xmlns:p="{P}"><p:Text>Từ chối</p:Text></p:Answer>'))
    result = _verify(etree.tostring(root))
    assert result.references[0].element.getparent().tag == "{urn:evil}Wrapper"
    assert b"Wrapper" not in result.references[0].canonical


def test_attack_wrapping_extra_unsigned_content_beside_signed() -> None:
    root = _tree(_sign())
    genuine = _one(root, "p:Answer")
    etree.SubElement(genuine.getparent(), f"{{{P}}}Note").text = "unsigned"
    genuine.addnext(etree.fromstring(f'<p:Amount xmlns:p="{P}">999</p:Amount>'))
    result = _verify(etree.tostring(root))
    ref = result.references[0]
    assert b"unsigned" not in ref.canonical
    assert b"999" not in ref.canonical
    assert [c.text for c in ref.element.iter(f"{{{P}}}Amount")] == ["100"]
    # Unsigned content *inside* the signed element breaks the digest.
    etree.SubElement(_one(root, "p:Answer"), f"{{{P}}}Note").text = "unsigned"
    with pytest.raises(InvalidSignature) as err:
        _verify(etree.tostring(root))
    assert err.value.sub_indication == "HASH_FAILURE"


def test_attack_wrapping_second_reference_added() -> None:
    root = _tree(_sign())
    etree.SubElement(root, f"{{{P}}}Answer", Id="evil")
    si = _one(root, "//ds:SignedInfo")
    si.append(copy.deepcopy(si[2]))
    si[-1].set("URI", "#evil")
    _redigest(root, "#evil", "http://www.w3.org/2001/04/xmlenc#sha256", "sha256")
    with pytest.raises(InvalidSignature) as err:
        _verify(etree.tostring(root))
    assert err.value.sub_indication == "SIG_CRYPTO_FAILURE"
    with pytest.raises(InvalidSignature) as err:
        _verify(etree.tostring(root), expected_references=1)
    assert err.value.sub_indication == "FORMAT_FAILURE"


def test_attack_wrapping_manifest_reference() -> None:
    manifest = etree.Element(DS + "Manifest", Id="m", nsmap={"ds": DS_NS})
    ref = etree.SubElement(manifest, DS + "Reference", URI="#pakn-doc")
    etree.SubElement(ref, DS + "DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    etree.SubElement(ref, DS + "DigestValue").text = base64.b64encode(b"\0" * 32).decode()
    with pytest.raises(UnsupportedFeature, match="Manifest"):  # we never sign one
        _sign(references=[ReferenceSpec("#m")], objects=[copy.deepcopy(manifest)])
    # A signer that did sign a Manifest: its inner Reference is wrong and would never be
    # checked by core validation, so the engine refuses the whole signature.
    root = _tree(_sign())
    etree.SubElement(_one(root, "ds:Signature"), DS + "Object").append(manifest)
    _one(root, "//ds:SignedInfo/ds:Reference").set("URI", "#m")
    _redigest(root, "#m", "http://www.w3.org/2001/04/xmlenc#sha256", "sha256")
    with pytest.raises(UnsupportedFeature, match="Manifest"):
        _verify(_resign(root))


def test_attack_wrapping_signature_in_unexpected_location() -> None:
    root = _tree(_sign())
    sig = _one(root, "ds:Signature")
    holder = etree.SubElement(root, "{urn:evil}Holder")
    holder.append(sig)  # moved out of its place: still the same signed scope
    result = _verify(etree.tostring(root))
    assert result.references[0].element.get("Id") == "pakn-doc"
    assert result.signature.getparent().tag == "{urn:evil}Holder"  # visible to the caller
    # Moved *into* the signed element, it changes the signed bytes.
    _one(root, "p:Answer").append(sig)
    with pytest.raises(InvalidSignature) as err:
        _verify(etree.tostring(root))
    assert err.value.sub_indication == "HASH_FAILURE"


def test_attack_wrapping_nested_signatures() -> None:
    # Organisation signature covers the document and the personal signature (#sig-1).
    root = _tree(_sign())
    org = build_signature(
        root,
        xmldsig_signer("p256"),
        references=[ReferenceSpec("#pakn-doc"), ReferenceSpec("#sig-1")],
        signature_id="sig-2",
    )
    data = etree.tostring(root)
    sigs = find_signatures(parse_xml(data))
    outer = verify_signature(
        sigs[1],
        allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS,
        allowed_digests=DEFAULT_DIGESTS,
    )
    assert [r.element.get("Id") for r in outer.references] == ["pakn-doc", "sig-1"]
    # An attacker's own signature nested in the personal signature's (unsigned) Object:
    # the outer signature then no longer matches, and each Signature uses only its own
    # SignedInfo (direct child), never the first one found below it.
    personal = _one(root, "ds:Signature[@Id='sig-1']")
    obj = etree.SubElement(personal, DS + "Object")
    build_signature(
        obj,
        xmldsig_signer("ed25519"),
        references=[ReferenceSpec("#pakn-doc")],
        signature_id="evil-sig",
    )
    assert org is not None
    tampered = find_signatures(parse_xml(etree.tostring(root)))
    with pytest.raises(InvalidSignature) as err:
        verify_signature(
            tampered[-1],
            allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS,
            allowed_digests=DEFAULT_DIGESTS,
        )
    assert err.value.sub_indication == "HASH_FAILURE"
    inner = verify_signature(
        tampered[0],
        allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS,
        allowed_digests=DEFAULT_DIGESTS,
    )
    assert inner.signature.get("Id") == "sig-1"
    assert inner.algorithm.name == "RSA_SHA256"


def test_attack_wrapping_id_on_other_element_than_model_root() -> None:
    # A reader that takes "the first p:Answer" would read the attacker's element; the
    # engine hands back the element that carries the signed Id.
    root = _tree(_sign())
    root.insert(0, etree.fromstring(f'<p:Answer xmlns:p="{P}"><p:Text>Từ chối</p:Text></p:Answer>'))
    result = _verify(etree.tostring(root))
    element = result.references[0].element
    assert element is not result.signature.getroottree().getroot()[0]
    assert element.findtext(f"{{{P}}}Text") == "Chấp thuận"


def test_attack_wrapping_id_attribute_confusion() -> None:
    root = _tree(_sign())
    evil = etree.SubElement(root, f"{{{P}}}Answer", ID="pakn-doc")
    evil.set("{http://www.w3.org/XML/1998/namespace}id", "pakn-doc")
    # Only the caller's attribute names count: ID / xml:id are ignored by default…
    assert _verify(etree.tostring(root)).references[0].element.get("Id") == "pakn-doc"
    # …and when both names are allowed, the value is ambiguous and refused.
    with pytest.raises(InvalidInput, match="exactly once"):
        _verify(etree.tostring(root), id_attributes=("Id", "ID"))
    with pytest.raises(ConfigurationError):
        _verify(etree.tostring(root), id_attributes=("Id or 1=1",))


# --- comments, PIs, DigestValue ------------------------------------------------------------


def test_attack_comment_injection_in_signed_text() -> None:
    root = _tree(_sign())
    text = _one(root, "p:Answer/p:Text")
    text.text = "Chấp"
    text.append(etree.Comment("x"))
    text[0].tail = " thuận"
    result = _verify(etree.tostring(root))
    # Comments are not signed (C14N without comments): the canonical text comes back
    # whole, so a reader of ``canonical`` never sees a truncated "Chấp".
    assert "<p:Text>Chấp thuận</p:Text>".encode() in result.references[0].canonical
    assert b"<!--" not in result.references[0].canonical


def test_attack_pi_injection_in_signed_text() -> None:
    root = _tree(_sign())
    text = _one(root, "p:Answer/p:Text")
    text.text = "Chấp"
    text.append(etree.ProcessingInstruction("evil", "x"))
    text[0].tail = " thuận"
    with pytest.raises(InvalidSignature) as err:  # PIs are part of the signed bytes
        _verify(etree.tostring(root))
    assert err.value.sub_indication == "HASH_FAILURE"


def test_attack_comment_inside_digest_value() -> None:
    # CVE-2025-29775: a comment must not change the value read, nor pass.
    root = _tree(_sign())
    dv = _one(root, "//ds:DigestValue")
    value = dv.text
    dv.text = ""
    dv.append(etree.Comment("x"))
    dv[0].tail = value
    with pytest.raises(InvalidInput, match="comments are refused"):
        _verify(etree.tostring(root))


def test_attack_comment_inside_signature_value() -> None:
    root = _tree(_sign())
    sv = _one(root, "//ds:SignatureValue")
    sv.append(etree.Comment("x"))
    with pytest.raises(InvalidInput, match="comments are refused"):
        _verify(etree.tostring(root))


def test_attack_lax_base64() -> None:
    root = _tree(_sign())
    sv = _one(root, "//ds:SignatureValue")
    sv.text = sv.text[:10] + "!*" + sv.text[10:]  # a lax decoder drops these silently
    with pytest.raises(InvalidInput, match="base64"):
        _verify(etree.tostring(root))


def test_attack_base64_non_zero_trailing_bits() -> None:
    # XML Schema base64Binary: the unused bits of the last character are zero, so one value
    # has one encoding. 256 signature bytes end in "x==" where only 2 bits of x are used.
    root = _tree(_sign())
    sv = _one(root, "//ds:SignatureValue")
    text = "".join(sv.text.split())
    assert text.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sv.text = text[:-3] + alphabet[alphabet.index(text[-3]) | 1] + "=="
    assert base64.b64decode(sv.text) == base64.b64decode(text)  # a lax decoder: same bytes
    with pytest.raises(InvalidInput, match="base64") as err:
        _verify(etree.tostring(root))
    assert err.value.code == "xmldsig.base64"
    # Whitespace between characters stays allowed (base64Binary, XMLDSig 1.1 §4.5.4.1).
    sv.text = "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"
    _verify(etree.tostring(root))


# --- keys ------------------------------------------------------------------------------------


def test_attack_keyinfo_substitution() -> None:
    root = _tree(_sign())
    own = xmldsig_signer("p256").certificate_chain[0]
    cert = _one(root, "//ds:X509Certificate")
    cert.text = base64.b64encode(own.public_bytes(serialization.Encoding.DER)).decode()
    with pytest.raises(InvalidSignature) as err:
        _verify(etree.tostring(root))
    assert err.value.sub_indication == "SIG_CRYPTO_FAILURE"
    # Re-signed by the attacker, it verifies *as the attacker*: the certificate handed
    # back is theirs (trust is the next layer), and a pinning resolver refuses it.
    forged = _resign(root, alg=SignatureAlgorithm.ECDSA_SHA256, key=xmldsig_signer("p256")._key)
    assert _verify(forged).certificate == own
    genuine = xmldsig_signer("rsa2048").certificate_chain[0]

    def pinned(info: KeyInfoData) -> Any:
        return genuine.public_key() if genuine in info.certificates else None

    with pytest.raises(UnsupportedFeature, match="no key accepted"):
        _verify(forged, key_resolver=pinned)


def test_attack_embedded_keyvalue_key() -> None:
    attacker = rsa.generate_private_key(65537, 2048)
    root = _tree(_sign())
    key_info = _one(root, "//ds:KeyInfo")
    for child in list(key_info):
        key_info.remove(child)
    kv = etree.SubElement(etree.SubElement(key_info, DS + "KeyValue"), DS + "RSAKeyValue")
    nums = attacker.public_key().public_numbers()
    etree.SubElement(kv, DS + "Modulus").text = base64.b64encode(
        nums.n.to_bytes(256, "big")
    ).decode()
    etree.SubElement(kv, DS + "Exponent").text = base64.b64encode(b"\x01\x00\x01").decode()
    forged = _resign(root, key=attacker)
    # A bare KeyValue is never trusted without a resolver that vouches for it.
    with pytest.raises(UnsupportedFeature, match="key_resolver"):
        _verify(forged)
    # Beside the genuine X509Certificate, the KeyValue is ignored: the certificate's key rules.
    root2 = _tree(_sign())
    _one(root2, "//ds:KeyInfo").append(copy.deepcopy(kv.getparent()))
    forged2 = _resign(root2, key=attacker)
    with pytest.raises(InvalidSignature):
        _verify(forged2)


def test_attack_hmac_asymmetric_confusion() -> None:
    # CVE-2025-48994 class: an HMAC "signature" keyed with the signer's public key.
    root = _tree(_sign())
    _one(root, "//ds:SignatureMethod").set(
        "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
    )
    pem = xmldsig_signer("rsa2048").certificate_chain[0].public_bytes(serialization.Encoding.PEM)
    si = canonicalize(_one(root, "//ds:SignedInfo"), EXC)
    _one(root, "//ds:SignatureValue").text = base64.b64encode(
        hmac.new(pem, si, "sha256").digest()
    ).decode()
    with pytest.raises(UnsupportedFeature) as err:
        _verify(etree.tostring(root))
    assert err.value.code == "xmldsig.hmac"


def test_attack_algorithm_key_type_confusion() -> None:
    root = _tree(_sign())  # RSA certificate, SignatureMethod switched to ECDSA
    _one(root, "//ds:SignatureMethod").set("Algorithm", SignatureAlgorithm.ECDSA_SHA256.value)
    with pytest.raises(InvalidSignature, match="cannot verify with a RSA key"):
        _verify(etree.tostring(root))


def test_attack_truncated_hmac() -> None:
    # CVE-2009-0217: HMACOutputLength below the hash size.
    root = _tree(_sign())
    sm = _one(root, "//ds:SignatureMethod")
    sm.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
    etree.SubElement(sm, DS + "HMACOutputLength").text = "40"
    _one(root, "//ds:SignatureValue").text = "AAAAAAA="
    with pytest.raises(UnsupportedFeature):
        _verify(etree.tostring(root))


def test_attack_sha1_downgrade() -> None:
    root = _tree(_sign())
    forged = _resign(root, alg=SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(PolicyViolation) as err:
        _verify(forged)
    assert err.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"
    assert (
        _verify(forged, allowed_algorithms=frozenset(SignatureAlgorithm)).algorithm.name
        == "RSA_SHA1"
    )
    root = _tree(_sign())
    _redigest(root, "#pakn-doc", "http://www.w3.org/2000/09/xmldsig#sha1", "sha1")
    with pytest.raises(PolicyViolation, match="SHA1"):
        _verify(_resign(root))
    with pytest.raises(ConfigurationError):  # and we never make one
        _sign(algorithm=SignatureAlgorithm.RSA_SHA1)


def test_attack_rsa1024_downgrade() -> None:
    weak = xmldsig_signer("rsa1024")
    with pytest.raises(ConfigurationError):
        _sign(kind="rsa1024")
    root = _tree(_sign())
    _one(root, "//ds:X509Certificate").text = base64.b64encode(
        weak.certificate_chain[0].public_bytes(serialization.Encoding.DER)
    ).decode()
    forged = _resign(root, key=weak._key)
    with pytest.raises(PolicyViolation, match="RSA-1024") as err:
        _verify(forged)
    assert err.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"
    assert _verify(forged, min_rsa_bits=1024).public_key.key_size == 1024


def test_attack_zero_signatures() -> None:
    # CVE-2025-40934 class: a stripped signature is an error, never an unsigned pass.
    root = _tree(_sign())
    root.remove(_one(root, "ds:Signature"))
    with pytest.raises(InvalidInput) as err:
        find_signatures(parse_xml(etree.tostring(root)))
    assert err.value.code == "xmldsig.no_signature"
    with pytest.raises(InvalidInput, match="expected ds:Signature"):
        verify_signature(
            root, allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS, allowed_digests=DEFAULT_DIGESTS
        )
    root = _tree(_sign())
    si = _one(root, "//ds:SignedInfo")
    for ref in si.findall(DS + "Reference"):
        si.remove(ref)
    with pytest.raises(InvalidInput, match="no ds:Reference"):
        _verify(etree.tostring(root))


# --- dereferencing, transforms, DTDs ---------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "http://attacker.example/x.xml",
        "file:///etc/passwd",
        "../../secret.xml",
        "urn:x:y",
        "#xpointer(/)",
        "//attacker.example/x",
    ],
)
def test_attack_external_reference_uri(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _tree(_sign())
    _one(data, "//ds:Reference").set("URI", uri)
    signed = etree.tostring(data)
    touched: list[str] = []

    def no_open(*a: Any, **k: Any) -> Any:
        touched.append(f"open {a[:1]}")
        raise AssertionError("file access during verification")

    def no_connect(*a: Any, **k: Any) -> Any:
        touched.append("connect")
        raise AssertionError("network access during verification")

    monkeypatch.setattr(builtins, "open", no_open)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(socket, "create_connection", no_connect)
    monkeypatch.setattr(socket, "getaddrinfo", no_connect)
    with pytest.raises(UnsupportedFeature):
        _verify(signed)
    assert touched == []


@pytest.mark.parametrize(
    ("algorithm", "inner"),
    [
        (
            "http://www.w3.org/TR/1999/REC-xslt-19991116",
            '<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/>',
        ),
        (
            "http://www.w3.org/TR/1999/REC-xpath-19991116",
            f'<ds:XPath xmlns:ds="{DS_NS}">not(ancestor-or-self::ds:Signature)</ds:XPath>',
        ),
        (
            "http://www.w3.org/2002/06/xmldsig-filter2",
            '<XPath xmlns="http://www.w3.org/2002/06/xmldsig-filter2" Filter="union">/</XPath>',
        ),
        ("http://www.w3.org/2000/09/xmldsig#base64", ""),
        ("http://www.w3.org/2001/04/xmldsig-more/xptr", ""),
    ],
    ids=["xslt", "xpath", "xpath-filter2", "base64", "xpointer"],
)
def test_attack_xslt_and_xpath_transforms(algorithm: str, inner: str) -> None:
    root = _tree(_sign())
    transforms = _one(root, "//ds:Transforms")
    t = etree.Element(DS + "Transform", Algorithm=algorithm)
    if inner:
        t.append(etree.fromstring(inner))
    transforms.insert(0, t)
    with pytest.raises(UnsupportedFeature) as err:
        _verify(etree.tostring(root))
    assert err.value.code == "xmldsig.transform"


def test_attack_retrieval_method_never_dereferenced() -> None:
    root = _tree(_sign())
    etree.SubElement(
        _one(root, "//ds:KeyInfo"), DS + "RetrievalMethod", URI="http://attacker.example/k"
    )
    with pytest.raises(UnsupportedFeature, match="RetrievalMethod"):
        _verify(etree.tostring(root))


def test_attack_enveloped_transform_on_enveloping_object() -> None:
    obj = etree.Element(DS + "Object", Id="obj", nsmap={"ds": DS_NS})
    obj.text = "payload"
    root = etree.fromstring(DOC.encode())
    build_signature(
        root,
        xmldsig_signer("p256"),
        references=[ReferenceSpec("#obj")],
        signature_id="s",
        objects=[obj],
    )
    ref = _one(root, "//ds:Reference")
    ref[0].insert(
        0,
        etree.Element(
            DS + "Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"
        ),
    )
    with pytest.raises(InvalidSignature) as err:
        _verify(etree.tostring(root))
    assert err.value.sub_indication == "HASH_FAILURE"


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE p:Signed [<!ENTITY x "Từ chối">]>',
        '<!DOCTYPE p:Signed SYSTEM "http://attacker.example/x.dtd">',
        '<!DOCTYPE p:Signed [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        "<!DOCTYPE p:Signed [<!ATTLIST p:Answer Id ID #IMPLIED>]>",
    ],
    ids=["internal-entity", "external-dtd", "external-entity", "dtd-declared-id"],
)
def test_attack_dtd_and_entities_in_signed_input(prolog: str) -> None:
    signed = _sign().decode()
    with pytest.raises(InvalidInput) as err:
        _verify((prolog + signed).encode())
    assert err.value.code == "input.dtd_forbidden"


def _unsupported_curve_cert() -> bytes:
    # The P-256 certificate with its curve OID changed to one cryptography cannot load:
    # it parses, but public_key() raises cryptography's UnsupportedAlgorithm.
    der = xmldsig_signer("p256").certificate_chain[0].public_bytes(serialization.Encoding.DER)
    p256 = bytes.fromhex("06082a8648ce3d030107")
    assert der.count(p256) == 1
    return der.replace(p256, bytes.fromhex("06082a8648ce3d030109"))


def test_attack_keyinfo_certificate_with_unloadable_key() -> None:
    root = _tree(_sign(kind="p256"))
    _one(root, "//ds:X509Certificate").text = base64.b64encode(_unsupported_curve_cert()).decode()
    with pytest.raises(UnsupportedFeature) as err:
        _verify(etree.tostring(root))
    assert err.value.code == "xmldsig.key_type"
    # Beside the genuine certificate, with a resolver that compares keys: still our error.
    root2 = _tree(_sign(kind="p256"))
    extra = etree.Element(DS + "X509Certificate")
    _one(root2, "//ds:X509Data").insert(0, extra)
    extra.text = base64.b64encode(_unsupported_curve_cert()).decode()
    genuine = xmldsig_signer("p256").certificate_chain[0].public_key()
    with pytest.raises(UnsupportedFeature) as err:
        _verify(etree.tostring(root2), key_resolver=lambda info: genuine)
    assert err.value.code == "xmldsig.key_type"


def test_attack_keyinfo_certificate_with_unparsable_name() -> None:
    # cryptography decodes names lazily: a CN holding invalid UTF-8 loads, and only comparing
    # names (to tell the leaf among several certificates) raises ValueError.
    der = xmldsig_signer("rsa2048").certificate_chain[0].public_bytes(serialization.Encoding.DER)
    cn = b"xmldsig test rsa2048"
    assert der.count(cn) == 2  # issuer and subject
    bad = der.replace(cn, cn.replace(b" ", b"\xff"))
    root = _tree(_sign())
    data = _one(root, "//ds:X509Data")
    data[0].text = base64.b64encode(bad).decode()
    other = xmldsig_signer("p256").certificate_chain[0].public_bytes(serialization.Encoding.DER)
    etree.SubElement(data, DS + "X509Certificate").text = base64.b64encode(other).decode()
    with pytest.raises(InvalidInput) as err:
        _verify(etree.tostring(root))
    assert err.value.code == "xmldsig.keyinfo"


def test_attack_keyinfo_certificate_with_unknown_version() -> None:
    # x509.InvalidVersion is not a ValueError: it must still become InvalidInput.
    der = xmldsig_signer("rsa2048").certificate_chain[0].public_bytes(serialization.Encoding.DER)
    v3 = bytes.fromhex("a003020102")
    assert der.count(v3) == 1
    root = _tree(_sign())
    _one(root, "//ds:X509Certificate").text = base64.b64encode(
        der.replace(v3, bytes.fromhex("a00302015e"))
    ).decode()
    with pytest.raises(InvalidInput, match="not a DER certificate") as err:
        _verify(etree.tostring(root))
    assert err.value.code == "xmldsig.keyinfo"
