"""Public XMLDSig and XAdES interop vectors at the core-DSig level (signature + references).

Parametrised over ``vectors/xmldsig/expected.json`` and ``vectors/xades/expected.json``
(ids are the file keys). Only the cryptographic signature is checked, with the key the
vector names (pinned), never trust: path validation, revocation and validity time are the
trust layer's job, and XAdES semantics (SigningCertificate digests, policies, levels) are
``tests/test_xades_vectors.py``'s.

* ``valid`` and in our profile: verifies; every reference digest is recomputed here from
  the returned canonical bytes.
* ``valid`` but outside our profile (``REFUSED_BY_PROFILE``, one reason each) and
  ``unsupported``: refused with ``UnsupportedFeature`` (or ``InvalidInput`` where the
  hardened parser stops the file before any signature code runs); never a pass.
* ``invalid``: refused with the error in ``INVALID`` (default ``InvalidSignature``), or,
  for defects only the trust layer can see (``TRUST_LEVEL``), the signature verifies and
  the test shows the defect the trust layer must refuse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import require_vectors, vectors_dir
from cryptography import x509

from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import InvalidInput, InvalidSignature, PaknSignError, UnsupportedFeature
from pakn_sign.signing.algorithms import DigestAlgorithm, PublicKey, SignatureAlgorithm
from pakn_sign.signing.xmldsig import (
    KeyInfoData,
    VerifiedSignature,
    find_signatures,
    verify_signature,
)

# Legacy vectors: SHA-1 and short RSA keys (down to the aleksey 512-bit test keys) are
# allowed *here* so the crypto path is exercised; the defaults refuse them (attack tests).
ALL_ALGS = frozenset(SignatureAlgorithm)
ALL_DIGESTS = frozenset(DigestAlgorithm)
LEGACY_MIN_RSA = 512

HMAC = "HMAC is a shared-secret MAC, not a public-key signature"
DSA = "DSA is not in the profile"
SHA224 = "SHA-224 is not in the profile"
RIPEMD_MD5 = "MD5 / RIPEMD-160 are refused"
LOOKUP = "key only named (KeyName / X509 lookup); no certificate lookup in the profile"
MANIFEST = "Reference to a ds:Manifest (its References are not core-validated)"
BASE64 = "Base64 transform is not in the profile"
DOCTYPE = "DOCTYPE refused by the hardened parser before any DSig processing"

REFUSED_BY_PROFILE: dict[str, tuple[type[PaknSignError], str]] = {
    "TR2012/signature-enveloping-hmac-sha1-truncated160.xml": (UnsupportedFeature, HMAC),
    "TR2012/signature-enveloping-hmac-sha224.xml": (UnsupportedFeature, HMAC),
    "TR2012/signature-enveloping-hmac-sha256.xml": (UnsupportedFeature, HMAC),
    "TR2012/signature-enveloping-hmac-sha384.xml": (UnsupportedFeature, HMAC),
    "TR2012/signature-enveloping-hmac-sha512.xml": (UnsupportedFeature, HMAC),
    "TR2012/signature-enveloping-keyinforeference-rsa.xml": (
        UnsupportedFeature,
        "KeyInfoReference is never dereferenced",
    ),
    "TR2012/signature-enveloping-p256_sha224.xml": (UnsupportedFeature, SHA224),
    "TR2012/signature-enveloping-p384_sha224.xml": (UnsupportedFeature, SHA224),
    "TR2012/signature-enveloping-p521_sha224.xml": (UnsupportedFeature, SHA224),
    "TR2012/signature-enveloping-rsa-sha224.xml": (UnsupportedFeature, SHA224),
    "TR2012/signature-enveloping-sha224-rsa_sha256.xml": (UnsupportedFeature, SHA224),
    "TR2012/signature-enveloping-x509digest-rsa.xml": (UnsupportedFeature, LOOKUP),
    "aleksey-xmldsig-01/enveloping-dsa-x509chain.xml": (UnsupportedFeature, DSA),
    "aleksey-xmldsig-01/enveloping-md5-hmac-md5-64.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-md5-hmac-md5.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-md5-rsa-md5.xml": (UnsupportedFeature, RIPEMD_MD5),
    "aleksey-xmldsig-01/enveloping-ripemd160-hmac-ripemd160-64.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-ripemd160-hmac-ripemd160.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-ripemd160-rsa-ripemd160.xml": (UnsupportedFeature, RIPEMD_MD5),
    "aleksey-xmldsig-01/enveloping-sha1-hmac-sha1-64.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha1-hmac-sha1.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha224-hmac-sha224-64.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha224-hmac-sha224.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha224-rsa-sha224.xml": (UnsupportedFeature, SHA224),
    "aleksey-xmldsig-01/enveloping-sha256-hmac-sha256-64.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha256-hmac-sha256.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha384-hmac-sha384-64.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha384-hmac-sha384.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha512-hmac-sha512-64.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/enveloping-sha512-hmac-sha512.xml": (UnsupportedFeature, HMAC),
    "aleksey-xmldsig-01/x509data-sn-test.xml": (UnsupportedFeature, LOOKUP),
    "aleksey-xmldsig-01/x509data-test.xml": (UnsupportedFeature, "XPath Filter 2.0 transform"),
    "aleksey-xmldsig-01/xpointer-hmac.xml": (InvalidInput, DOCTYPE),
    "merlin-xmldsig-twenty-three/signature-enveloped-dsa.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-enveloping-b64-dsa.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-enveloping-dsa.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-enveloping-hmac-sha1-40.xml": (UnsupportedFeature, HMAC),
    "merlin-xmldsig-twenty-three/signature-enveloping-hmac-sha1.xml": (UnsupportedFeature, HMAC),
    "merlin-xmldsig-twenty-three/signature-external-b64-dsa.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-external-dsa.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-keyname.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-retrievalmethod-rawx509crt.xml": (
        UnsupportedFeature,
        DSA,
    ),
    "merlin-xmldsig-twenty-three/signature-x509-crt-crl.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-x509-crt.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-x509-is.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-x509-ski.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature-x509-sn.xml": (UnsupportedFeature, DSA),
    "merlin-xmldsig-twenty-three/signature.xml": (InvalidInput, DOCTYPE),
    "phaos-xmldsig-three/signature-big.xml": (UnsupportedFeature, LOOKUP),
    "phaos-xmldsig-three/signature-dsa-detached.xml": (UnsupportedFeature, DSA),
    "phaos-xmldsig-three/signature-dsa-enveloped.xml": (UnsupportedFeature, DSA),
    "phaos-xmldsig-three/signature-dsa-enveloping.xml": (UnsupportedFeature, DSA),
    "phaos-xmldsig-three/signature-dsa-manifest.xml": (UnsupportedFeature, DSA),
    "phaos-xmldsig-three/signature-hmac-md5-c14n-enveloping.xml": (UnsupportedFeature, HMAC),
    "phaos-xmldsig-three/signature-hmac-sha1-40-c14n-comments-detached.xml": (
        UnsupportedFeature,
        HMAC,
    ),
    "phaos-xmldsig-three/signature-hmac-sha1-40-exclusive-c14n-comments-detached.xml": (
        UnsupportedFeature,
        HMAC,
    ),
    "phaos-xmldsig-three/signature-hmac-sha1-exclusive-c14n-comments-detached.xml": (
        UnsupportedFeature,
        HMAC,
    ),
    "phaos-xmldsig-three/signature-hmac-sha1-exclusive-c14n-enveloped.xml": (
        UnsupportedFeature,
        HMAC,
    ),
    "phaos-xmldsig-three/signature-rsa-detached-b64-transform.xml": (UnsupportedFeature, MANIFEST),
    "phaos-xmldsig-three/signature-rsa-detached-xpath-transform.xml": (
        UnsupportedFeature,
        MANIFEST,
    ),
    "phaos-xmldsig-three/signature-rsa-detached-xslt-transform-bad-retrieval-method.xml": (
        UnsupportedFeature,
        "RetrievalMethod is never dereferenced",
    ),
    "phaos-xmldsig-three/signature-rsa-detached-xslt-transform-retrieval-method.xml": (
        UnsupportedFeature,
        "RetrievalMethod is never dereferenced",
    ),
    "phaos-xmldsig-three/signature-rsa-detached-xslt-transform.xml": (UnsupportedFeature, MANIFEST),
    "phaos-xmldsig-three/signature-rsa-detached.xml": (
        UnsupportedFeature,
        "external reference URI, never dereferenced",
    ),
    "phaos-xmldsig-three/signature-rsa-manifest-x509-data-cert-chain.xml": (
        UnsupportedFeature,
        MANIFEST,
    ),
    "phaos-xmldsig-three/signature-rsa-manifest-x509-data-cert.xml": (UnsupportedFeature, MANIFEST),
    "phaos-xmldsig-three/signature-rsa-manifest-x509-data-issuer-serial.xml": (
        UnsupportedFeature,
        LOOKUP,
    ),
    "phaos-xmldsig-three/signature-rsa-manifest-x509-data-ski.xml": (UnsupportedFeature, LOOKUP),
    "phaos-xmldsig-three/signature-rsa-manifest-x509-data-subject-name.xml": (
        UnsupportedFeature,
        LOOKUP,
    ),
    "phaos-xmldsig-three/signature-rsa-manifest-x509-data.xml": (UnsupportedFeature, MANIFEST),
    "phaos-xmldsig-three/signature-rsa-manifest.xml": (UnsupportedFeature, MANIFEST),
    "phaos-xmldsig-three/signature-rsa-xpath-transform-enveloped.xml": (
        UnsupportedFeature,
        "XPath transform",
    ),
}

XADES_REFUSED_BY_PROFILE: dict[str, tuple[type[PaknSignError], str]] = {
    "Signature-X-CZ_SEF-4.xml": (UnsupportedFeature, MANIFEST),
    "Signature-X-CZ_SEF-5.xml": (UnsupportedFeature, MANIFEST),
    "Signature-X-HU_POL-3.xml": (UnsupportedFeature, BASE64),
    "Signature-X-SK_DIT-1.xml": (UnsupportedFeature, MANIFEST),
    "Signature-X-UK_ASC-2.xml": (
        InvalidInput,
        "not UTF-8 (ISO-8859-1): refused by the hardened parser",
    ),
    "TEST_S1a_C1a_InTL_VALID.xml": (UnsupportedFeature, "XPath transform"),
    "X_AT_SIT_1.xml": (UnsupportedFeature, BASE64),
    "nonconformant-Signature-X-ES-100.xml": (UnsupportedFeature, BASE64),
    "nonconformant-Signature-X-ES-103.xml": (UnsupportedFeature, BASE64),
    "nonconformant-X_BE_CONN_10.xml": (UnsupportedFeature, BASE64),
    "nonconformant-xades-extended-epes-sigPolStore-noDigest.xml": (UnsupportedFeature, BASE64),
    "nonconformant-xades-sign-cert-v1-wrong-serialnumber.xml": (UnsupportedFeature, BASE64),
    "sig-with-orphan-ocsp-ref.xml": (UnsupportedFeature, BASE64),
    "valid-xades-policyId-newlines.xml": (UnsupportedFeature, BASE64),
    "xades-attr-authorities-values.xml": (UnsupportedFeature, BASE64),
    "xades-counter-signature-injected.xml": (UnsupportedFeature, BASE64),
    "xades-extended-epes-with-sigPolStore.xml": (UnsupportedFeature, BASE64),
    "xades-extended-epes.xml": (UnsupportedFeature, BASE64),
    "xades-extended-short-a.xml": (UnsupportedFeature, BASE64),
    "xades-extended-t.xml": (UnsupportedFeature, BASE64),
    "xades-fake-counter-signature.xml": (UnsupportedFeature, BASE64),
    "xades-level-x-double-sigAndRefsTst-refsOnlyTst.xml": (UnsupportedFeature, BASE64),
    "xades-lt-with-expired-ocsp-responder.xml": (UnsupportedFeature, BASE64),
    "xades-lta-valid.xml": (UnsupportedFeature, BASE64),
    "xades-lta-with-additional-cert-in-keyinfo.xml": (UnsupportedFeature, BASE64),
    "xades-ocsp-before-cert-validity.xml": (UnsupportedFeature, BASE64),
    "xades-sigPolicy-with-SPDocSpecification.xml": (UnsupportedFeature, BASE64),
    "xades-sign-cert-v2-wrong-digest.xml": (UnsupportedFeature, BASE64),
    "xades-sign-cert-v2-wrong-issuer-serial.xml": (UnsupportedFeature, BASE64),
    "xades-with-enveloped-manifest.xml": (UnsupportedFeature, MANIFEST),
    "xades-with-manifest-with-object-reference.xml": (UnsupportedFeature, MANIFEST),
    "xades-with-multiple-alldatatimestamps.xml": (UnsupportedFeature, BASE64),
    "xades-with-multiple-archivetimestamps.xml": (UnsupportedFeature, BASE64),
    "xades-with-multiple-signaturetimestamps.xml": (UnsupportedFeature, BASE64),
    "xades-with-spUserNotice-refs.xml": (UnsupportedFeature, BASE64),
    "xades-wrong-sign-cert-digest.xml": (UnsupportedFeature, BASE64),
    "xades-x-level-v2-wrong-sigAndRefsTst-type.xml": (UnsupportedFeature, BASE64),
    "xades-x-level-v2.xml": (UnsupportedFeature, BASE64),
    "xades-x-level-wrong-sigAndRefsTstVersion.xml": (UnsupportedFeature, BASE64),
    "xades-x-level.xml": (UnsupportedFeature, BASE64),
}

# invalid vectors: the error the engine must raise (class, sub_indication or code).
INVALID: dict[str, tuple[type[PaknSignError], str | None]] = {
    "aleksey-xmldsig-01-enveloped/invalid_enveloped_transform.xml": (
        InvalidSignature,
        "HASH_FAILURE",
    ),
    "phaos-xmldsig-three/signature-rsa-enveloped-bad-digest-val.xml": (
        InvalidSignature,
        "HASH_FAILURE",
    ),
    # A Reference added after signing, without DigestValue: malformed before any crypto.
    "phaos-xmldsig-three/signature-rsa-enveloped-bad-sig.xml": (InvalidInput, "xmldsig.structure"),
    "defusedxml-test-data/simple.xml": (InvalidInput, "xmldsig.no_signature"),
    "defusedxml-test-data/simple-ns.xml": (InvalidInput, "xmldsig.no_signature"),
    **{
        f"defusedxml-test-data/{name}.xml": (InvalidInput, "input.dtd_forbidden")
        for name in (
            "cyclic",
            "dtd",
            "external",
            "external_file",
            "quadratic",
            "xmlbomb",
            "xmlbomb2",
        )
    },
}
XADES_INVALID: dict[str, tuple[type[PaknSignError], str | None]] = {
    # signxml's expected count is 2; a Reference was removed after signing, and the count
    # check refuses it before the (also failing) SignatureValue is even computed.
    "dss-signed-altered-signedPropsRemoved.xml": (InvalidSignature, "FORMAT_FAILURE"),
    "nonconformant-dss-signed-altered-refRemoved.xml": (InvalidSignature, "FORMAT_FAILURE"),
    "xades-unsupported-signature-algorithm.xml": (UnsupportedFeature, None),
}

# Invalid only at the trust level: the signature itself is sound (checked here) and the
# returned certificate carries the defect the trust layer must refuse.
TRUST_LEVEL: dict[str, Callable[[VerifiedSignature], bool]] = {
    # Leaf valid only 2014-05-23..2014-05-24: expired at any current validation time.
    "aleksey-xmldsig-01/enveloping-expired-cert.xml": lambda v: (
        v.certificate is not None
        and v.certificate.not_valid_after_utc < dt.datetime(2014, 5, 25, tzinfo=dt.UTC)
    ),
}


def _load(name: str) -> dict[str, Any]:
    base = vectors_dir()
    if base is None or not (base / name).exists():
        return {}
    data: dict[str, Any] = json.loads((base / name).read_text(encoding="utf-8"))
    data.pop("_meta", None)
    return data


XMLDSIG = _load("xmldsig/expected.json")
XADES = _load("xades/expected.json")


def _pin_keyvalue(info: KeyInfoData) -> PublicKey | None:
    # "keyvalue:" vectors: the expected.json names the inline key as the key material.
    return info.key_values[0] if len(info.key_values) == 1 else None


def _pin_first_certificate(info: KeyInfoData) -> PublicKey | None:
    # XAdES corpus: "pinned: first ds:X509Certificate in the file".
    if not info.certificates:
        return None
    key = info.certificates[0].public_key()
    assert isinstance(key, PublicKey)
    return key


def _pin_file(path: Path) -> Callable[[KeyInfoData], PublicKey | None]:
    pinned = x509.load_pem_x509_certificate(path.read_bytes())

    def resolve(info: KeyInfoData) -> PublicKey | None:
        if pinned not in info.certificates:
            return None
        key = pinned.public_key()
        assert isinstance(key, PublicKey)
        return key

    return resolve


def _resolver(
    folder: Path, entry: dict[str, Any]
) -> Callable[[KeyInfoData], PublicKey | None] | None:
    key = entry.get("key") or ""
    if key.startswith("keyvalue:"):
        return _pin_keyvalue
    if key.startswith("pinned:"):
        return _pin_first_certificate
    if "== aleksey-xmldsig-01-enveloped/cacert.pem" in key:
        return _pin_file(folder / "cacert.pem")
    return None  # "x509:": the leaf certificate carried in KeyInfo


def _verify(path: Path, entry: dict[str, Any]) -> VerifiedSignature:
    doc = parse_xml(path.read_bytes())
    signature = find_signatures(doc)[0]
    id_attr = entry.get("id_attribute")
    return verify_signature(
        signature,
        key_resolver=_resolver(path.parent, entry),
        allowed_algorithms=ALL_ALGS,
        allowed_digests=ALL_DIGESTS,
        id_attributes=(id_attr,) if id_attr else ("Id",),
        expected_references=entry.get("expect_references"),
        min_rsa_bits=LEGACY_MIN_RSA,
    )


def _assert_verified(result: VerifiedSignature) -> None:
    assert result.references
    doc_root = result.signature.getroottree().getroot()
    for ref in result.references:
        # The returned element lives in the verified document, and its digest is the one
        # recomputed over the returned canonical bytes.
        assert ref.element.getroottree().getroot() is doc_root
        digest = hashlib.new(ref.digest_algorithm.hashlib_name, ref.canonical).digest()
        assert digest == ref.digest_value


def _check(
    path: Path,
    entry: dict[str, Any],
    refused: dict[str, tuple[type[PaknSignError], str]],
    invalid: dict[str, tuple[type[PaknSignError], str | None]],
    key: str,
) -> None:
    expect = entry["expect"]
    if key in TRUST_LEVEL:
        result = _verify(path, entry)
        _assert_verified(result)
        assert TRUST_LEVEL[key](result)
    elif key in refused:
        cls, _reason = refused[key]
        with pytest.raises(cls):
            _verify(path, entry)
    elif expect == "valid":
        _assert_verified(_verify(path, entry))
    elif expect == "unsupported":
        with pytest.raises(UnsupportedFeature):
            _verify(path, entry)
    else:
        assert expect == "invalid"
        cls, detail = invalid.get(key, (InvalidSignature, None))
        with pytest.raises(cls) as info:
            _verify(path, entry)
        if detail is not None:
            err = info.value
            assert detail in (getattr(err, "sub_indication", None), err.code)


@pytest.mark.parametrize("key", sorted(XMLDSIG) or ["<no vectors>"])
def test_xmldsig_vector(key: str) -> None:
    folder = require_vectors("xmldsig")
    _check(folder / key, XMLDSIG[key], REFUSED_BY_PROFILE, INVALID, key)


@pytest.mark.parametrize("key", sorted(XADES) or ["<no vectors>"])
def test_xades_vector_core_dsig(key: str) -> None:
    folder = require_vectors("xades/signxml-corpus")
    _check(folder / key, XADES[key], XADES_REFUSED_BY_PROFILE, XADES_INVALID, key)


def test_profile_tables_name_real_vectors() -> None:
    require_vectors("xmldsig")
    # A stale table entry would silently stop covering a file.
    assert set(REFUSED_BY_PROFILE) | set(INVALID) | set(TRUST_LEVEL) <= set(XMLDSIG)
    assert set(XADES_REFUSED_BY_PROFILE) | set(XADES_INVALID) <= set(XADES)
    in_profile = [
        k for k, v in XMLDSIG.items() if v["expect"] == "valid" and k not in REFUSED_BY_PROFILE
    ]
    assert len(in_profile) >= 30  # TR2012 EC/RSA, aleksey RSA, phaos/merlin RSA, enveloped
