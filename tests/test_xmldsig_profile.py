"""The XMLDSig profile in detail: canonicalisation, transforms, structure, RSA-PSS params.

C14N is checked against the merlin set's published intermediate outputs
(``signature-*-c14n-N.txt``: the canonical octets of each Reference, then of SignedInfo),
which exercises C14N 1.0 and the enveloped-signature transform independently of DSA.
"""

from __future__ import annotations

import base64

import pytest
from conftest import require_vectors, xmldsig_signer
from lxml import etree

from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import ConfigurationError, InvalidInput, InvalidSignature, UnsupportedFeature
from pakn_sign.signing.algorithms import SignatureAlgorithm, sign_with_key
from pakn_sign.signing.c14n import C14N10, C14N11, EXC_C14N, C14NMethod, canonicalize
from pakn_sign.signing.transforms import TransformPlan, parse_transforms
from pakn_sign.signing.xmldsig import (
    DEFAULT_DIGESTS,
    DEFAULT_SIGNATURE_ALGORITHMS,
    DS,
    DS_NS,
    ReferenceSpec,
    VerifiedSignature,
    build_signature,
    find_signatures,
    verify_signature,
)
from pakn_sign.signing.xmldsig_refs import reference_input

P = "urn:pakn-sign:pakn:1"
DOC = (
    f'<p:Signed xmlns:p="{P}"><p:Answer Id="pakn-doc"><p:Text>Chấp thuận</p:Text>'
    "</p:Answer></p:Signed>"
)
MERLIN = "xmldsig/merlin-xmldsig-twenty-three"
MERLIN_FILES = [
    "signature-enveloped-dsa",
    "signature-enveloping-b64-dsa",
    "signature-enveloping-dsa",
    "signature-enveloping-hmac-sha1",
    "signature-enveloping-hmac-sha1-40",
    "signature-enveloping-rsa",
    "signature-external-b64-dsa",
    "signature-external-dsa",
]


def _verify(data: bytes, **kw: object) -> VerifiedSignature:
    return verify_signature(
        find_signatures(parse_xml(data))[0],
        allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS,
        allowed_digests=DEFAULT_DIGESTS,
        **kw,  # type: ignore[arg-type]
    )


def _sign(**kw: object) -> etree._Element:
    root = etree.fromstring(DOC.encode())
    kw.setdefault("references", [ReferenceSpec("#pakn-doc")])
    build_signature(root, xmldsig_signer("rsa2048"), signature_id="sig-1", **kw)  # type: ignore[arg-type]
    return root


# --- canonicalisation against published outputs ----------------------------------------------


@pytest.mark.parametrize("name", MERLIN_FILES)
def test_merlin_c14n_outputs(name: str) -> None:
    folder = require_vectors(MERLIN)
    doc = parse_xml((folder / f"{name}.xml").read_bytes())
    sig = find_signatures(doc)[0]
    signed_info = sig[0]
    refs = signed_info.findall(DS + "Reference")
    method = C14NMethod.from_uri(signed_info[0].get("Algorithm") or "")
    expected_si = folder / f"{name}-c14n-{len(refs)}.txt"
    if not expected_si.exists():  # single-file sets name the SignedInfo output -0
        expected_si = folder / f"{name}-c14n-0.txt"
    assert canonicalize(signed_info, method) == expected_si.read_bytes()
    checked = 0
    for i, ref in enumerate(refs):
        out = folder / f"{name}-c14n-{i}.txt"
        uri = ref.get("URI") or ""
        if out == expected_si or not out.exists() or not (uri == "" or uri.startswith("#")):
            continue
        if ref.find(f"{DS}Transforms/{DS}Transform[@Algorithm='{DS_NS}base64']") is not None:
            continue
        plan = parse_transforms(ref.find(DS + "Transforms"))
        _, data = reference_input(sig, uri, plan, ("Id",))
        assert data == out.read_bytes()
        checked += 1
    if name in ("signature-enveloped-dsa", "signature-enveloping-rsa"):
        assert checked == 1


def test_inclusive_c14n_default_namespace_above_apex() -> None:
    # lxml/libxml2 regression guard: no spurious xmlns="" on grandchildren.
    root = etree.fromstring(b'<S xmlns="urn:d" xmlns:q="urn:q"><I>\n <A/>\n <R><D/></R></I></S>')
    out = canonicalize(root[0], C14NMethod.from_uri(C14N10))
    assert out == b'<I xmlns="urn:d" xmlns:q="urn:q">\n <A></A>\n <R><D></D></R></I>'
    assert canonicalize(root[0], C14NMethod.from_uri(EXC_C14N)) == (
        b'<I xmlns="urn:d">\n <A></A>\n <R><D></D></R></I>'
    )


@pytest.mark.parametrize("attr", ["lang", "space", "base", "id"])
def test_inclusive_c14n_refuses_inherited_xml_attributes(attr: str) -> None:
    root = etree.fromstring(f'<r xml:{attr}="x"><a Id="1">t</a></r>'.encode())
    for uri in (C14N10, C14N11):
        with pytest.raises(UnsupportedFeature, match="inheritance"):
            canonicalize(root[0], C14NMethod.from_uri(uri))
    assert canonicalize(root[0], C14NMethod.from_uri(EXC_C14N)) == b'<a Id="1">t</a>'
    assert b"xml:" in canonicalize(root.getroottree(), C14NMethod.from_uri(C14N11))


def test_enveloped_transform_keeps_following_text() -> None:
    root = etree.fromstring(b"<doc><a>1</a>before<b>2</b></doc>")
    spec = ReferenceSpec("", transforms=("enveloped-signature", "exc-c14n"))
    build_signature(root, xmldsig_signer("p256"), signature_id="s", references=[spec])
    result = _verify(etree.tostring(root))
    assert result.references[0].canonical == b"<doc><a>1</a>before<b>2</b></doc>"
    assert result.references[0].enveloped
    assert len(result.signature.getparent()) == 3  # the verified tree was not modified
    # Text after the Signature is document content, not part of the Signature: adding
    # some must break the digest (a transform that dropped it would let it through).
    root[-1].tail = "unsigned"
    with pytest.raises(InvalidSignature):
        _verify(etree.tostring(root))


def test_reference_comments_never_signed_even_with_comments_method() -> None:
    root = etree.fromstring(b'<doc><a Id="x">1<!--c-->2</a></doc>')
    plan = TransformPlan(c14n=C14NMethod.from_uri(EXC_C14N + "WithComments"))
    build_signature(
        root, xmldsig_signer("p256"), signature_id="s", references=[ReferenceSpec("#x")]
    )
    _, data = reference_input(root[-1], "#x", plan, ("Id",))
    assert data == b'<a Id="x">12</a>'  # XMLDSig §4.4.3.3: bare-name node-sets drop comments


def test_inclusive_namespaces_prefix_list() -> None:
    root = _sign(references=[ReferenceSpec("#pakn-doc", inclusive_prefixes=("p", "ds"))])
    assert root.find(f".//{{{EXC_C14N}}}InclusiveNamespaces").get("PrefixList") == "p ds"
    result = _verify(etree.tostring(root))
    assert result.references[0].canonical.startswith(b'<p:Answer xmlns:p="urn:pakn-sign:pakn:1"')
    tr = root.find(f".//{{{EXC_C14N}}}InclusiveNamespaces")
    tr.set("PrefixList", "#default")
    with pytest.raises(UnsupportedFeature, match="#default"):
        _verify(etree.tostring(root))


# --- structure --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda sig: sig.insert(2, etree.Element(DS + "Object")),  # Object before KeyInfo
        lambda sig: sig.append(etree.Element("{urn:evil}Extra")),
        lambda sig: sig.insert(0, etree.Element(DS + "SignedInfo")),  # two SignedInfo
        lambda sig: setattr(sig[0][2], "tail", "text"),  # stray text in SignedInfo
        lambda sig: sig[0].insert(0, etree.Element(DS + "SignatureMethod")),  # wrong order
        lambda sig: sig[0][2].append(etree.Element(DS + "DigestValue")),  # two DigestValues
    ],
    ids=[
        "object-before-keyinfo",
        "foreign-child",
        "two-signedinfo",
        "stray-text",
        "wrong-order",
        "two-digestvalues",
    ],
)
def test_strict_signature_structure(mutate: object) -> None:
    root = _sign()
    mutate(root[-1])  # type: ignore[operator]
    with pytest.raises(InvalidInput):
        _verify(etree.tostring(root))


def test_signing_refuses_outside_profile() -> None:
    with pytest.raises(ConfigurationError):
        _sign(references=[ReferenceSpec("http://example.org/x")])
    with pytest.raises(ConfigurationError):
        _sign(references=[ReferenceSpec("#pakn-doc", transforms=("c14n",))])
    with pytest.raises(ConfigurationError):
        _sign(c14n=C14N11)
    with pytest.raises(InvalidInput, match="not found"):
        _sign(references=[ReferenceSpec("#missing")])
    root = etree.fromstring(DOC.encode())
    with pytest.raises(InvalidInput):
        build_signature(
            root, xmldsig_signer("p256"), signature_id="s", references=[ReferenceSpec("#missing")]
        )
    assert len(root) == 1  # no half-built Signature left behind


def test_signed_layout_and_keyinfo_chain() -> None:
    root = _sign(references=[ReferenceSpec("#pakn-doc", type="urn:t", id="ref-1")])
    sig = root[-1]
    assert [etree.QName(c).localname for c in sig] == ["SignedInfo", "SignatureValue", "KeyInfo"]
    ref = sig[0][2]
    assert (ref.get("Id"), ref.get("URI"), ref.get("Type")) == ("ref-1", "#pakn-doc", "urn:t")
    result = _verify(etree.tostring(root))
    assert result.references[0].type == "urn:t"
    assert result.certificate == xmldsig_signer("rsa2048").certificate_chain[0]


# --- RSASSA-PSS with explicit parameters (RFC 6931 §2.3.10) ---------------------------------

MORE = "http://www.w3.org/2007/05/xmldsig-more#"


def _pss_params(
    digest: str, mgf_digest: str, salt: int | str, uri: str = MORE + "rsa-pss"
) -> bytes:
    root = _sign(algorithm=SignatureAlgorithm.RSA_PSS_SHA256)
    sm = root[-1][0][1]
    sm.set("Algorithm", uri)
    params = etree.SubElement(sm, f"{{{MORE}}}RSAPSSParams", nsmap={"pss": MORE})
    etree.SubElement(params, DS + "DigestMethod", Algorithm=digest)
    mgf = etree.SubElement(params, f"{{{MORE}}}MaskGenerationFunction", Algorithm=MORE + "MGF1")
    etree.SubElement(mgf, DS + "DigestMethod", Algorithm=mgf_digest)
    etree.SubElement(params, f"{{{MORE}}}SaltLength").text = str(salt)
    etree.SubElement(params, f"{{{MORE}}}TrailerField").text = "1"
    si = canonicalize(root[-1][0], C14NMethod.from_uri(EXC_C14N))
    key = xmldsig_signer("rsa2048")._key
    root[-1][1].text = base64.b64encode(
        sign_with_key(key, si, SignatureAlgorithm.RSA_PSS_SHA256)
    ).decode()
    return etree.tostring(root)


SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"


def test_rsa_pss_params_accepted() -> None:
    assert _verify(_pss_params(SHA256, SHA256, 32)).algorithm is SignatureAlgorithm.RSA_PSS_SHA256
    # Params repeated under the parameterless §2.3.11 URI are accepted when they agree…
    uri = SignatureAlgorithm.RSA_PSS_SHA256.value
    assert _verify(_pss_params(SHA256, SHA256, 32, uri)).algorithm.name == "RSA_PSS_SHA256"
    # …and refused when they contradict it.
    with pytest.raises(UnsupportedFeature, match="contradict"):
        _verify(_pss_params(SHA512, SHA512, 64, uri))


@pytest.mark.parametrize(
    ("digest", "mgf", "salt"), [(SHA256, SHA256, 20), (SHA256, SHA512, 32), (SHA512, SHA256, 64)]
)
def test_rsa_pss_params_outside_profile(digest: str, mgf: str, salt: int) -> None:
    with pytest.raises(UnsupportedFeature, match="RSASSA-PSS"):
        _verify(_pss_params(digest, mgf, salt))


@pytest.mark.parametrize("salt", ["\u00b2", "\u0663\u0662", "+32", " 3 2"])
def test_attack_non_ascii_digits_in_pss_params(salt: str) -> None:
    # str.isdigit() is true for "²", which int() refuses: that must be InvalidInput, not a
    # bare ValueError escaping the API; Arabic-Indic digits must not read as 32 either.
    with pytest.raises(InvalidInput, match="SaltLength"):
        _verify(_pss_params(SHA256, SHA256, salt))
