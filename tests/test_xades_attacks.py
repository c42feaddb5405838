"""Named attacks on signed XML; each must be refused (or be harmless, as stated)."""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
from cryptography.x509 import ocsp
from xades_helpers import DS, PAKN, PERSONAL, SEAL, XADES, answer, signatures, tobytes, tree

import pakn_sign.signing.xades as xades_mod
from pakn_sign.codec.xmlcodec import to_xml
from pakn_sign.errors import (
    IndeterminateError,
    InvalidInput,
    InvalidSignature,
    VerificationError,
)
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.signing.timestamps import HttpTimestampAuthority
from pakn_sign.trust.policy import TrustPolicy
from pakn_sign.verify import verify

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)


@pytest.fixture(scope="module")
def tsa(pki_service):
    return HttpTimestampAuthority(pki_service.tsa_url)


@pytest.fixture(scope="module")
def personal(test_pki) -> bytes:
    return sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)


def fake_answer() -> bytes:
    from pakn_sign.codec.xmlcodec import to_xml_element

    return to_xml_element(answer("Đã giải quyết xong, không cần trả lời thêm."))


# --- timestamps -------------------------------------------------------------------------


def test_attack_timestamp_over_other_bytes(test_pki, tsa):
    # A genuine token from the same TSA, but over other bytes, swapped into the signature.
    signed = sign_xml(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    root = tree(signed)
    enc = root.find(f".//{XADES}EncapsulatedTimeStamp")
    sv_text = root.find(f".//{DS}SignatureValue").text.encode()
    enc.text = base64.b64encode(tsa.request(sv_text)).decode()  # the base64 text, not the element
    with pytest.raises(InvalidSignature) as err:
        verify(tobytes(root), policy=test_pki.policy(), at=LATER)
    assert err.value.sub_indication == "HASH_FAILURE"


def test_attack_timestamp_from_another_signature(test_pki, tsa):
    one = sign_xml(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    two = sign_xml(
        answer(), test_pki.signer("official-g12"), role="personal", level="B-T", tsa=tsa, at=NOW
    )
    root = tree(one)
    root.find(f".//{XADES}EncapsulatedTimeStamp").text = (
        tree(two).find(f".//{XADES}EncapsulatedTimeStamp").text
    )
    with pytest.raises(InvalidSignature):
        verify(tobytes(root), policy=test_pki.policy(), at=LATER)


# --- B-LT validation data ----------------------------------------------------------------


def _ocsp_serial(der: bytes) -> int:
    return next(iter(ocsp.load_der_ocsp_response(der).responses)).serial_number


def test_attack_b_lt_revocation_data_for_another_certificate(test_pki, tsa):
    fetch = test_pki.policy(crls=(), allow_fetching=True)
    mine = sign_xml(
        answer(),
        test_pki.signer(PERSONAL),
        role="personal",
        level="B-LT",
        tsa=tsa,
        policy=fetch,
        at=NOW,
    )
    theirs = sign_xml(
        answer(),
        test_pki.signer(SEAL),
        role="organisation",
        level="B-LT",
        tsa=tsa,
        policy=fetch,
        at=NOW,
    )
    leaf_serial = test_pki.get(PERSONAL).cert.serial_number
    seal_serial = test_pki.get(SEAL).cert.serial_number
    seal_ocsp = next(
        e.text
        for e in tree(theirs).iter(f"{XADES}EncapsulatedOCSPValue")
        if _ocsp_serial(base64.b64decode(e.text)) == seal_serial
    )
    root = tree(mine)
    swapped = 0
    for e in root.iter(f"{XADES}EncapsulatedOCSPValue"):
        if _ocsp_serial(base64.b64decode(e.text)) == leaf_serial:
            e.text = seal_ocsp  # a valid, signed OCSP response, for another certificate
            swapped += 1
    assert swapped == 1
    offline = TrustPolicy.offline_strict([test_pki.root.cert])
    assert verify(mine, policy=offline, at=LATER).signatures[0].level == "B-LT"  # control
    with pytest.raises((IndeterminateError, VerificationError)) as err:
        verify(tobytes(root), policy=offline, at=LATER)
    assert not isinstance(err.value, InvalidInput)


# --- signing certificate -------------------------------------------------------------------


def test_attack_signing_certificate_v2_mismatch(test_pki, monkeypatch):
    # The signed properties name another certificate than the one whose key signed.
    real = xades_mod.build_qualifying_properties
    other = test_pki.get("official-g12").cert

    def lying(**kw):
        kw["signing_certificate"] = other
        return real(**kw)

    monkeypatch.setattr(xades_mod, "build_qualifying_properties", lying)
    # Bytes take the tree path (add_xades_signature), where the lie is patched in.
    signed = sign_xml(to_xml(answer()), test_pki.signer(PERSONAL), role="personal", at=NOW)
    with pytest.raises(IndeterminateError) as err:
        verify(signed, policy=test_pki.policy(), at=NOW)
    assert err.value.sub_indication == "NO_SIGNING_CERTIFICATE_FOUND"


def test_attack_keyinfo_certificate_swapped(test_pki, personal):
    # Another certificate in KeyInfo: its key does not verify the SignatureValue.
    root = tree(personal)
    x = root.find(f".//{DS}X509Certificate")
    from cryptography.hazmat.primitives.serialization import Encoding

    x.text = base64.b64encode(test_pki.get("official-g12").cert.public_bytes(Encoding.DER)).decode()
    with pytest.raises(InvalidSignature):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


# --- stripping and wrapping ----------------------------------------------------------------


def test_attack_stripped_signature_zero_signatures(test_pki, personal):
    root = tree(personal)
    for sig in signatures(root):
        root.remove(sig)
    with pytest.raises(InvalidSignature) as err:
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)
    assert err.value.code == "verify.no_signature"


def test_attack_stripped_container(test_pki, personal):
    doc = tree(personal).find(f"{PAKN}Answer")
    with pytest.raises(InvalidSignature) as err:
        verify(tobytes(doc), policy=test_pki.policy(), at=NOW)
    assert err.value.code == "verify.no_signature"


@pytest.mark.parametrize("where", ["before", "after", "after-signatures"])
def test_attack_wrapping_second_unsigned_document(test_pki, personal, where):
    root = tree(personal)
    fake = fake_answer()
    index = {"before": 0, "after": 1, "after-signatures": len(root)}[where]
    root.insert(index, fake)
    with pytest.raises(InvalidSignature) as err:
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)
    assert err.value.sub_indication == "FORMAT_FAILURE"


def test_attack_document_moved_into_object(test_pki, personal):
    # The signed document hides in a ds:Object; an unsigned one takes its place.
    root = tree(personal)
    original = root.find(f"{PAKN}Answer")
    sig = signatures(root)[0]
    obj = sig.makeelement(f"{DS}Object", {})
    sig.append(obj)
    root.replace(original, fake_answer())
    obj.append(original)
    with pytest.raises(InvalidSignature, match="outside the signed scope"):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


def test_attack_id_on_a_different_element(test_pki, personal):
    # The model would be read from the container's document, but the Id (and so the
    # signature) points at another element: the signed original, wrapped elsewhere.
    root = tree(personal)
    original = root.find(f"{PAKN}Answer")
    wrapper = root.makeelement(f"{PAKN}Answer", {})
    root.replace(original, wrapper)
    wrapper.append(original)  # Id="pakn-doc" now sits on a child of the read element
    with pytest.raises(InvalidSignature):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


def test_attack_duplicated_document_id(test_pki, personal):
    root = tree(personal)
    fake = fake_answer()
    fake.set("Id", "pakn-doc")
    obj = signatures(root)[0].makeelement(f"{DS}Object", {})
    obj.append(fake)
    signatures(root)[0].append(obj)
    with pytest.raises(InvalidSignature):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


def test_attack_duplicated_signature_id(test_pki):
    first = sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    both = sign_xml(first, test_pki.signer(SEAL), role="organisation", at=NOW)
    root = tree(both)
    signatures(root)[1].addnext(copy.deepcopy(signatures(root)[0]))  # a second "sig-1"
    with pytest.raises(VerificationError):
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)


def test_attack_comment_injected_in_signed_text_is_harmless(test_pki, personal):
    # Comments are outside the canonical form (XMLDSig §4.4.3.3), so the digest holds;
    # the model is read from the signed bytes, so the text is never truncated at the comment.
    data = personal.replace("Trả lời kiến nghị".encode(), "Trả lời<!-- x --> kiến nghị".encode())
    assert data != personal
    result = verify(data, policy=test_pki.policy(), at=NOW)
    assert result.document.text == answer().text
    assert b"<!--" not in result.signed_bytes


def test_attack_extra_object_is_never_returned(test_pki, personal):
    root = tree(personal)
    obj = signatures(root)[0].makeelement(f"{DS}Object", {})
    obj.append(fake_answer())
    signatures(root)[0].append(obj)
    result = verify(tobytes(root), policy=test_pki.policy(), at=NOW)
    assert result.document == answer()
    assert "Đã giải quyết".encode() not in result.signed_bytes


def test_attack_dtd_entity_expansion(test_pki, personal):
    evil = personal.replace(
        b"<pakn:Signed",
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><pakn:Signed',
        1,
    )
    with pytest.raises(InvalidInput):
        verify(evil, policy=test_pki.policy(), at=NOW)


def test_attack_data_object_format_names_no_reference(test_pki, monkeypatch):
    real = xades_mod.build_qualifying_properties

    def misdirected(**kw):
        kw["document_reference_id"] = "somewhere-else"
        return real(**kw)

    monkeypatch.setattr(xades_mod, "build_qualifying_properties", misdirected)
    signed = sign_xml(to_xml(answer()), test_pki.signer(PERSONAL), role="personal", at=NOW)
    with pytest.raises(InvalidSignature, match="DataObjectFormat"):
        verify(signed, policy=test_pki.policy(), at=NOW)


def test_attack_signing_time_after_the_timestamp(test_pki, tsa):
    # A signer claims a later SigningTime than the TSA proves (backdated evidence order).
    claimed = NOW + dt.timedelta(days=1)
    signed = sign_xml(
        answer(), test_pki.signer(PERSONAL), role="personal", level="B-T", tsa=tsa, at=claimed
    )
    with pytest.raises(IndeterminateError) as err:
        verify(signed, policy=test_pki.policy(), at=claimed)
    assert err.value.sub_indication == "TIMESTAMP_ORDER_FAILURE"


def test_attack_nested_signed_container(test_pki, personal):
    # The "document" slot holds another pakn:Signed: never a PAKN document.
    root = tree(personal)
    original = root.find(f"{PAKN}Answer")
    inner = root.makeelement(f"{PAKN}Signed", {"Id": "pakn-doc"})
    root.replace(original, inner)
    original.attrib.pop("Id")
    inner.append(original)
    with pytest.raises(InvalidSignature) as err:
        verify(tobytes(root), policy=test_pki.policy(), at=NOW)
    assert err.value.sub_indication == "FORMAT_FAILURE"
