"""XMLDSig interop: xmlsec1, python-xmlsec and signxml verify what we sign; we verify theirs.

They are test oracles only (never runtime dependencies). Keys and certificates are made
with cryptography in conftest (``xmldsig_signer``). Oracle limits, measured here and in
docs/xmldsig-profile.md: the xmlsec1 1.2.37 CLI knows neither RSA-PSS nor Ed25519;
python-xmlsec (libxmlsec1 1.3.9) verifies RSA-PSS but cannot load Ed25519 keys; signxml
5.2 has no Ed25519. Ed25519 therefore has no external oracle.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import xmlsec
from conftest import require_tool, xmldsig_signer
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import CanonicalizationMethod, SignatureMethod, XMLSigner, XMLVerifier
from signxml.algorithms import SignatureConstructionMethod

from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import InvalidSignature
from pakn_sign.signing.algorithms import PublicKey, SignatureAlgorithm
from pakn_sign.signing.xmldsig import (
    DEFAULT_DIGESTS,
    DEFAULT_SIGNATURE_ALGORITHMS,
    DS_NS,
    KeyInfoData,
    ReferenceSpec,
    VerifiedSignature,
    build_signature,
    find_signatures,
    verify_signature,
)

P = "urn:pakn-sign:pakn:1"
DOC = (
    f'<p:Signed xmlns:p="{P}"><p:Answer Id="pakn-doc"><p:Text>Chấp thuận đề nghị</p:Text>'
    "</p:Answer></p:Signed>"
)
ID_ARGS = ["--id-attr:Id", f"{P}:Answer", "--id-attr:Id", f"{DS_NS}:Signature"]
XMLSEC1_KINDS = ["rsa2048", "p256", "p384", "p521"]


def _pem(kind: str) -> bytes:
    return xmldsig_signer(kind).certificate_chain[0].public_bytes(serialization.Encoding.PEM)


def _key_pem(kind: str) -> bytes:
    return xmldsig_signer(kind)._key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ours(kind: str, alg: SignatureAlgorithm | None = None) -> bytes:
    """Personal signature on #pakn-doc, then an organisation one on #pakn-doc + #sig-1."""
    root = etree.fromstring(DOC.encode())
    signer = xmldsig_signer(kind)
    build_signature(
        root, signer, references=[ReferenceSpec("#pakn-doc")], signature_id="sig-1", algorithm=alg
    )
    build_signature(
        root,
        signer,
        references=[ReferenceSpec("#pakn-doc"), ReferenceSpec("#sig-1")],
        signature_id="sig-2",
        algorithm=alg,
    )
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _ours_enveloped(kind: str) -> bytes:
    root = etree.fromstring(
        b'<edXML><Header>h</Header><Body Id="b">n\xe1\xbb\x99i dung</Body></edXML>'
    )
    build_signature(
        root,
        xmldsig_signer(kind),
        references=[ReferenceSpec("", transforms=("enveloped-signature", "exc-c14n"))],
        signature_id="sig",
    )
    return etree.tostring(root, encoding="UTF-8")


def _pinned(kind: str):  # type: ignore[no-untyped-def]
    cert = xmldsig_signer(kind).certificate_chain[0]

    def resolve(info: KeyInfoData) -> PublicKey | None:
        key = cert.public_key()
        assert isinstance(key, PublicKey)
        return key if cert in info.certificates or not info.certificates else None

    return resolve


def _verify(data: bytes, kind: str, index: int = 0) -> VerifiedSignature:
    sig = find_signatures(parse_xml(data))[index]
    return verify_signature(
        sig,
        key_resolver=_pinned(kind),
        allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS,
        allowed_digests=DEFAULT_DIGESTS,
    )


def _xmlsec1(
    tmp_path: Path, data: bytes, kind: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    exe = require_tool("xmlsec1", "xmlsec1")
    (tmp_path / "cert.pem").write_bytes(_pem(kind))
    (tmp_path / "doc.xml").write_bytes(data)
    cmd = [
        exe,
        "verify",
        "--pubkey-cert-pem",
        str(tmp_path / "cert.pem"),
        *ID_ARGS,
        *extra,
        str(tmp_path / "doc.xml"),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)


# --- they verify ours ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", XMLSEC1_KINDS)
def test_xmlsec1_verifies_our_signatures(kind: str, tmp_path: Path) -> None:
    data = _ours(kind)
    for node_id in ("sig-1", "sig-2"):
        out = _xmlsec1(tmp_path, data, kind, "--node-id", node_id)
        assert out.returncode == 0, out.stderr
        assert "OK" in out.stdout + out.stderr


@pytest.mark.parametrize("kind", ["rsa2048", "p256"])
def test_xmlsec1_verifies_our_enveloped_signature(kind: str, tmp_path: Path) -> None:
    out = _xmlsec1(tmp_path, _ours_enveloped(kind), kind)
    assert out.returncode == 0, out.stderr


def test_xmlsec1_rejects_our_signature_when_tampered(tmp_path: Path) -> None:
    data = _ours("p256").replace("đề nghị".encode(), "từ chối".encode())
    out = _xmlsec1(tmp_path, data, "p256", "--node-id", "sig-1")
    assert out.returncode != 0


def test_xmlsec1_cli_has_no_rsa_pss(tmp_path: Path) -> None:
    # Documented limit of the oracle (1.2.37), checked so the docs stay true.
    out = _xmlsec1(tmp_path, _ours("rsa2048", SignatureAlgorithm.RSA_PSS_SHA256), "rsa2048")
    assert out.returncode != 0
    assert "sha256-rsa-MGF1" in out.stderr


@pytest.mark.parametrize(
    ("kind", "alg"),
    [
        ("rsa2048", None),
        ("rsa2048", SignatureAlgorithm.RSA_PSS_SHA256),
        ("rsa2048", SignatureAlgorithm.RSA_PSS_SHA512),
        ("p256", None),
        ("p521", None),
    ],
)
def test_python_xmlsec_verifies_our_signatures(kind: str, alg: SignatureAlgorithm | None) -> None:
    root = etree.fromstring(_ours(kind, alg))
    xmlsec.tree.add_ids(root, ["Id"])
    for sig in root.findall(f"{{{DS_NS}}}Signature"):
        ctx = xmlsec.SignatureContext()
        ctx.key = xmlsec.Key.from_memory(_pem(kind), xmlsec.constants.KeyDataFormatCertPem)
        ctx.verify(sig)


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "p384"])
def test_signxml_verifies_our_signatures(kind: str) -> None:
    data = _ours(kind)
    result = XMLVerifier().verify(
        data, x509_cert=_pem(kind).decode(), id_attribute="Id", expect_references=1
    )
    assert result.signed_xml is not None
    assert result.signed_xml.get("Id") == "pakn-doc"


def test_ed25519_round_trip_without_oracle() -> None:
    data = _ours("ed25519")
    assert _verify(data, "ed25519", 1).algorithm is SignatureAlgorithm.ED25519
    with pytest.raises(InvalidSignature):
        _verify(data.replace("đề nghị".encode(), "từ chối".encode()), "ed25519")


# --- we verify theirs -----------------------------------------------------------------------

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<p:Signed xmlns:p="{P}"><p:Answer Id="pakn-doc"><p:Text>Chấp thuận đề nghị</p:Text></p:Answer>
<Signature xmlns="{DS}" Id="x-sig"><SignedInfo>
<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<SignatureMethod Algorithm="{ALG}"/>
<Reference URI="#pakn-doc"><Transforms>
<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>
<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference>
</SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></p:Signed>
"""


@pytest.mark.parametrize(
    ("kind", "alg"),
    [
        ("rsa2048", SignatureAlgorithm.RSA_SHA256),
        ("rsa2048", SignatureAlgorithm.RSA_SHA512),
        ("p256", SignatureAlgorithm.ECDSA_SHA256),
        ("p384", SignatureAlgorithm.ECDSA_SHA384),
    ],
)
def test_we_verify_xmlsec1_signatures(kind: str, alg: SignatureAlgorithm, tmp_path: Path) -> None:
    exe = require_tool("xmlsec1", "xmlsec1")
    (tmp_path / "key.pem").write_bytes(_key_pem(kind))
    (tmp_path / "cert.pem").write_bytes(_pem(kind))
    tmpl = TEMPLATE.replace("{P}", P).replace("{DS}", DS_NS).replace("{ALG}", alg.value)
    (tmp_path / "t.xml").write_text(tmpl, encoding="utf-8")
    cmd = [
        exe,
        "sign",
        "--privkey-pem",
        f"{tmp_path / 'key.pem'},{tmp_path / 'cert.pem'}",
        *ID_ARGS,
        "--output",
        str(tmp_path / "s.xml"),
        str(tmp_path / "t.xml"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    signed = (tmp_path / "s.xml").read_bytes()
    result = _verify(signed, kind)
    assert result.algorithm is alg
    assert result.certificate == xmldsig_signer(kind).certificate_chain[0]
    assert result.references[0].element.get("Id") == "pakn-doc"
    with pytest.raises(InvalidSignature):
        _verify(signed.replace("đề nghị".encode(), "từ chối".encode()), kind)


_EXC_SX = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


# signxml's detached Signature is signed out of context: only with Exclusive C14N does its
# SignedInfo keep the same canonical form once placed under p:Signed.
@pytest.mark.parametrize(
    ("construction", "kind", "method", "c14n"),
    [
        (
            "enveloped",
            "rsa2048",
            SignatureMethod.RSA_SHA256,
            CanonicalizationMethod.CANONICAL_XML_1_1,
        ),
        ("enveloped", "rsa2048", SignatureMethod.SHA256_RSA_MGF1, _EXC_SX),
        (
            "enveloped",
            "rsa2048",
            SignatureMethod.RSA_SHA384,
            CanonicalizationMethod.CANONICAL_XML_1_0,
        ),
        ("enveloped", "p256", SignatureMethod.ECDSA_SHA256, _EXC_SX),
        (
            "enveloped",
            "p521",
            SignatureMethod.ECDSA_SHA512,
            CanonicalizationMethod.CANONICAL_XML_1_1,
        ),
        ("detached-id", "rsa2048", SignatureMethod.SHA256_RSA_MGF1, _EXC_SX),
        ("detached-id", "p384", SignatureMethod.ECDSA_SHA384, _EXC_SX),
    ],
)
def test_we_verify_signxml_signatures(
    construction: str, kind: str, method: SignatureMethod, c14n: CanonicalizationMethod
) -> None:
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped
        if construction == "enveloped"
        else SignatureConstructionMethod.detached,
        signature_algorithm=method,
        c14n_algorithm=c14n,
    )
    root = etree.fromstring(DOC.encode())
    target = root if construction == "enveloped" else root[0]
    signed = signer.sign(
        target,
        key=_key_pem(kind),
        cert=_pem(kind).decode(),
        reference_uri=None if construction == "enveloped" else "#pakn-doc",
    )
    if construction == "detached-id":
        root.append(signed)
        signed = root
    data = etree.tostring(signed, encoding="UTF-8")
    result = _verify(data, kind)
    assert result.algorithm.value == method.value
    assert "Chấp thuận đề nghị".encode() in result.references[0].canonical
    with pytest.raises(InvalidSignature):
        _verify(data.replace("đề nghị".encode(), "từ chối".encode()), kind)
