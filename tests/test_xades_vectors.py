"""The public XAdES corpus (signxml's interop files): every file gives its expected outcome.

How each file is checked (../shared/vectors/xades/EXPECTED.md): the key is the first
``ds:X509Certificate`` in the file, pinned; no path validation and no validation time;
SHA-1 and 1024-bit RSA only through the unsafe option (``TrustPolicy.unsafe_legacy``,
which warns). Our profile is stricter than signxml's in named ways (OUT_OF_PROFILE and
STRICTER below): such a file is refused with that reason, never passed.
"""

from __future__ import annotations

import base64
import json
import warnings

import pytest
from conftest import require_vectors
from cryptography import x509
from lxml import etree

from pakn_sign.errors import (
    IndeterminateError,
    InvalidInput,
    InvalidSignature,
    PaknSignError,
    PolicyViolation,
    UnsupportedFeature,
)
from pakn_sign.signing.xades_props import cert_ref_matches, parse_signed_properties
from pakn_sign.signing.xades_verify import verify_xades_pinned
from pakn_sign.trust.policy import TrustPolicy, UnsafeOptionWarning

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XADES = "{http://uri.etsi.org/01903/v1.3.2#}"

BASE64_TRANSFORM = {
    "Signature-X-HU_POL-3.xml",
    "X_AT_SIT_1.xml",
    "nonconformant-Signature-X-ES-100.xml",
    "nonconformant-Signature-X-ES-103.xml",
    "nonconformant-X_BE_CONN_10.xml",
    "nonconformant-xades-extended-epes-sigPolStore-noDigest.xml",
    "nonconformant-xades-sign-cert-v1-wrong-serialnumber.xml",
    "sig-with-orphan-ocsp-ref.xml",
    "valid-xades-policyId-newlines.xml",
    "xades-attr-authorities-values.xml",
    "xades-counter-signature-injected.xml",
    "xades-extended-epes-with-sigPolStore.xml",
    "xades-extended-epes.xml",
    "xades-extended-short-a.xml",
    "xades-extended-t.xml",
    "xades-fake-counter-signature.xml",
    "xades-level-x-double-sigAndRefsTst-refsOnlyTst.xml",
    "xades-lt-with-expired-ocsp-responder.xml",
    "xades-lta-valid.xml",
    "xades-lta-with-additional-cert-in-keyinfo.xml",
    "xades-ocsp-before-cert-validity.xml",
    "xades-sigPolicy-with-SPDocSpecification.xml",
    "xades-sign-cert-v2-wrong-digest.xml",
    "xades-sign-cert-v2-wrong-issuer-serial.xml",
    "xades-with-multiple-alldatatimestamps.xml",
    "xades-with-multiple-archivetimestamps.xml",
    "xades-with-multiple-signaturetimestamps.xml",
    "xades-with-spUserNotice-refs.xml",
    "xades-wrong-sign-cert-digest.xml",
    "xades-x-level-v2-wrong-sigAndRefsTst-type.xml",
    "xades-x-level-v2.xml",
    "xades-x-level-wrong-sigAndRefsTstVersion.xml",
    "xades-x-level.xml",
}
"""Sign their data object through the Base64 transform, which our engine refuses."""
MANIFEST = {
    "Signature-X-CZ_SEF-4.xml",
    "Signature-X-CZ_SEF-5.xml",
    "Signature-X-SK_DIT-1.xml",
    "xades-with-enveloped-manifest.xml",
    "xades-with-manifest-with-object-reference.xml",
}
"""Reference a ds:Manifest, which our engine refuses (docs/xmldsig-profile.md)."""
OUT_OF_PROFILE: dict[str, tuple[type[PaknSignError], str]] = {
    **{name: (UnsupportedFeature, "Base64 transform") for name in BASE64_TRANSFORM},
    **{name: (UnsupportedFeature, "Manifest") for name in MANIFEST},
    "TEST_S1a_C1a_InTL_VALID.xml": (UnsupportedFeature, "XPath"),
    "Signature-X-UK_ASC-2.xml": (InvalidInput, "UTF-8"),
    "xades-ecc-brainpool.xml": (PolicyViolation, "brainpool"),
}
STRICTER: dict[str, tuple[type[PaknSignError], str]] = {
    # EN 319 132-1 §4.3: Target must name the signature; here "#Signature" vs Id="signature".
    "xades-extended-xl.xml": (InvalidSignature, "Target"),
}
# signxml's error class -> ours.
ERRORS: dict[str, tuple[type[PaknSignError], ...]] = {
    "InvalidSignature": (InvalidSignature,),
    "InvalidDigest": (InvalidSignature, IndeterminateError),
    "InvalidInput": (InvalidInput,),
}
# SigningCertificate(V2) of the signed properties vs the pinned certificate.
CERT_REF_FAILS: dict[str, type[Exception] | None] = {
    "xades-wrong-sign-cert-digest.xml": None,  # digest of another certificate
    "xades-sign-cert-v2-wrong-digest.xml": InvalidInput,  # CertDigest is not base64
    "xades-sign-cert-v2-wrong-issuer-serial.xml": InvalidInput,  # IssuerSerialV2 not base64
    "nonconformant-xades-sign-cert-v1-wrong-serialnumber.xml": InvalidInput,  # not an integer
    "xades-extended-xl.xml": None,  # IssuerSerialV2 names the issuer with RDNs reversed
}


def _expected() -> dict[str, dict[str, object]]:
    path = require_vectors("xades/expected.json")
    data: dict[str, dict[str, object]] = json.loads(path.read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _names() -> list[str]:
    from conftest import vectors_dir

    base = vectors_dir()
    if base is None or not (base / "xades/expected.json").exists():
        return ["<vectors missing>"]
    data = json.loads((base / "xades/expected.json").read_text())
    return sorted(k for k in data if not k.startswith("_"))


def _load(name: str) -> tuple[bytes, x509.Certificate, etree._Element]:
    if name == "<vectors missing>":
        require_vectors("xades/expected.json")
    data = (require_vectors("xades/signxml-corpus") / name).read_bytes()
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    first = next(root.iter(f"{DS}X509Certificate"))
    cert = x509.load_der_x509_certificate(base64.b64decode("".join(first.text.split())))
    return data, cert, root


def _legacy(cert: x509.Certificate) -> TrustPolicy:
    with pytest.warns(UnsafeOptionWarning):
        return TrustPolicy.unsafe_legacy([cert])


@pytest.mark.parametrize("name", _names())
def test_vector_outcome(name):
    expected = _expected()[name]
    data, cert, _ = _load(name)
    policy = _legacy(cert)
    refs = expected.get("expect_references")
    with warnings.catch_warnings():
        # Accepting a SHA-1 signature warns on every use: that is the point of the option.
        warnings.simplefilter("ignore", UnsafeOptionWarning)
        if name in OUT_OF_PROFILE or name in STRICTER:
            cls, why = {**OUT_OF_PROFILE, **STRICTER}[name]
            with pytest.raises(cls, match=why):
                verify_xades_pinned(data, cert, policy=policy, expected_references=refs)
        elif expected["expect"] == "valid":
            core = verify_xades_pinned(data, cert, policy=policy, expected_references=refs)
            assert core.certificate is not None
            assert core.signed_properties.cert_refs
        else:
            with pytest.raises(ERRORS[str(expected["error"])]):
                verify_xades_pinned(data, cert, policy=policy, expected_references=refs)


@pytest.mark.parametrize("name", _names())
def test_vector_signing_certificate_reference(name):
    # Our XAdES layer on every file, including those the XMLDSig profile refuses.
    _, cert, root = _load(name)
    sig = next(root.iter(f"{DS}Signature"))
    props = next(sig.iter(f"{XADES}SignedProperties"), None)
    if props is None:
        pytest.fail(f"{name}: no SignedProperties")
    if name in CERT_REF_FAILS and CERT_REF_FAILS[name] is not None:
        with pytest.raises(CERT_REF_FAILS[name]):
            parse_signed_properties(props)
        return
    parsed = parse_signed_properties(props)
    matched = any(cert_ref_matches(ref, cert) for ref in parsed.cert_refs)
    assert matched is (name not in CERT_REF_FAILS)


def test_sha1_and_small_rsa_refused_without_the_unsafe_option():
    data, cert, _ = _load("document.signed.bes.ptcc.xml")  # RSA-1024, rsa-sha1
    with pytest.raises(PolicyViolation):
        verify_xades_pinned(data, cert, policy=TrustPolicy.from_anchors([cert]))


def test_sha1_accepted_only_with_a_warning():
    data, cert, _ = _load("document.signed.bes.ptcc.xml")
    policy = _legacy(cert)
    with pytest.warns(UnsafeOptionWarning, match="SHA1"):
        verify_xades_pinned(data, cert, policy=policy, expected_references=2)
