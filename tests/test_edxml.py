"""edXML (QCVN 102:2016) adapter: edoc and status packages, their package signature, attacks.

The package signature is checked by our verifier and by xmlsec1; the attached PAKN
``<pakn:Signed>`` document must come back byte-identical and verify on its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import warnings
from pathlib import Path

import pytest
from conftest import PKI_NOW, example_documents, require_tool, xmldsig_signer
from lxml import etree

from pakn_sign.errors import (
    ConfigurationError,
    InvalidInput,
    InvalidSignature,
    PolicyViolation,
    UntrustedSigner,
)
from pakn_sign.models import Answer, DocumentRef, EdxmlStatus, Forwarding, StatusNotice
from pakn_sign.signing.algorithms import SignatureAlgorithm
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.transport.edxml import (
    PAKN_DESCRIPTION,
    EdxmlAttachment,
    from_edxml,
    to_edxml,
)
from pakn_sign.transport.edxml_sign import sign_package
from pakn_sign.transport.edxml_status import (
    from_status,
    notice_from_status,
    status_from_notice,
    to_status,
)
from pakn_sign.transport.edxml_types import (
    EDXML_NS,
    BusinessDocType,
    EdxmlCodes,
    EdxmlOrgan,
    ResponseFor,
    StaffInfo,
)
from pakn_sign.trust.policy import UnsafeOptionWarning

E = f"{{{EDXML_NS}}}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
VPCP = EdxmlOrgan("000.00.00.G22", "Văn phòng Chính phủ", organ_add="Số 1 Hoàng Hoa Thám")
MINISTRY = EdxmlOrgan("000.00.00.G10", "Bộ Nông nghiệp và Môi trường")
STAFF = StaffInfo(department="Văn thư", staff="Nguyễn Thị Ngọc", mobile="84912000001")


def _docs() -> dict[str, object]:
    return {d.kind: d for d in example_documents()}


@pytest.fixture(scope="module")
def docs() -> dict[str, object]:
    return _docs()


def _signed(test_pki, doc, agency: str) -> bytes:
    personal = test_pki.official_for(agency).signer()
    data = sign_xml(doc, personal, role="personal", at=PKI_NOW)
    return sign_xml(data, test_pki.signer(agency), role="organisation", at=PKI_NOW)


@pytest.fixture(scope="module")
def forwarding(test_pki, docs) -> tuple[Forwarding, bytes, bytes]:
    fw = docs["forwarding"]
    assert isinstance(fw, Forwarding)
    signed = _signed(test_pki, fw, "000.00.00.G22")
    package = to_edxml(
        signed,
        doc=fw,
        sender=VPCP,
        receivers=[MINISTRY],
        signer=test_pki.signer("000.00.00.G22"),
        subject="Chuyển phản ánh, kiến nghị",
        content="VPCP chuyển PAKN đến Bộ để xem xét, trả lời.",
        promulgation_place="Hà Nội",
        staff=STAFF,
        at=PKI_NOW,
    )
    return fw, signed, package


def _read(test_pki, package: bytes, **kw):
    return from_edxml(package, policy=test_pki.policy(), at=PKI_NOW, **kw)


# --- round trips ------------------------------------------------------------------------


def test_forwarding_round_trip(test_pki, forwarding) -> None:
    fw, signed, package = forwarding
    pkg = _read(test_pki, package)
    h = pkg.header
    assert h.sender == VPCP
    assert h.receivers == (MINISTRY,)
    assert h.document_id == fw.document_id
    assert (h.code_number, h.code_notation) == ("1187", "VPCP-ĐMDN")
    assert h.promulgation_date == dt.date(2026, 2, 13)
    assert h.due_date == fw.answer_due.due_on
    assert h.business_doc_type is BusinessDocType.NEW
    assert h.business_reason == "Văn bản điện tử mới"
    assert h.staff == STAFF
    assert h.response_for == ()
    assert h.codes == EdxmlCodes()
    # TraceHeader/Timestamp is yyyy/MM/dd HH:mm:ss in Vietnam time (UTC+7).
    assert [(t.organ_id, t.timestamp) for t in h.trace] == [("000.00.00.G22", PKI_NOW)]
    assert b"<edXML:Timestamp>2026/11/20 16:30:00</edXML:Timestamp>" in package
    assert pkg.signature is not None
    assert pkg.signature.identity.mst == "0100000022"
    assert pkg.signature.algorithm is SignatureAlgorithm.RSA_SHA256
    assert pkg.pakn_bytes == signed  # byte-identical after unwrapping
    result = pkg.pakn_document(test_pki.policy(), at=PKI_NOW)
    assert result.document == fw
    assert [s.role for s in result.signatures] == ["personal", "organisation"]


def test_answer_round_trip_with_response_for_and_attachment(test_pki, docs) -> None:
    answer = docs["answer"]
    assert isinstance(answer, Answer)
    signed = _signed(test_pki, answer, "000.00.00.G10")
    letter = EdxmlAttachment("tra-loi.pdf", b"%PDF-1.7 test letter", "application/pdf", "Công văn")
    package = to_edxml(
        signed,
        doc=answer,
        sender=MINISTRY,
        receivers=[VPCP],
        signer=test_pki.signer("000.00.00.G10"),
        subject="Trả lời kiến nghị",
        attachments=[letter],
        codes=EdxmlCodes(document_type="18", steering_type="0"),
        at=PKI_NOW,
    )
    pkg = _read(test_pki, package)
    assert pkg.header.response_for == (ResponseFor.from_document_id(answer.forwarding.document_id),)
    rf = pkg.header.response_for[0]
    assert rf.organ_id == "000.00.00.G22"
    assert rf.document_id == answer.forwarding.document_id
    assert pkg.header.signer_info.full_name == answer.official.full_name
    assert pkg.header.codes.document_type == "18"
    assert pkg.header.codes.steering_type == "0"
    assert [a.name for a in pkg.attachments] == ["pakn-answer.xml", "tra-loi.pdf"]
    assert pkg.attachments[1].data == letter.data
    assert pkg.attachments[1].content_id.startswith("cid:")
    assert pkg.pakn_bytes == signed
    assert pkg.pakn_document(test_pki.policy(), at=PKI_NOW, expect=Answer).document == answer


@pytest.mark.parametrize("btype", list(BusinessDocType))
def test_business_doc_types(test_pki, forwarding, btype: BusinessDocType) -> None:
    fw, signed, _ = forwarding
    package = to_edxml(
        signed,
        doc=fw,
        sender=VPCP,
        receivers=[MINISTRY],
        signer=test_pki.signer("000.00.00.G22"),
        subject="s",
        business_doc_type=btype,
        at=PKI_NOW,
    )
    h = _read(test_pki, package).header
    assert h.business_doc_type is btype
    assert h.business_reason == btype.reason


def test_x509_subject_name_order(forwarding) -> None:
    name = etree.fromstring(forwarding[2]).findtext(f".//{DS}X509SubjectName")
    assert name is not None
    assert name.startswith("C=VN,")
    assert name.index("CN=") < name.index("UID=MST:0100000022")


def test_to_edxml_refuses_a_document_not_in_the_bytes(test_pki, forwarding, docs) -> None:
    _, signed, _ = forwarding
    with pytest.raises(ConfigurationError, match="not the document"):
        to_edxml(
            signed,
            doc=docs["classification"],
            sender=VPCP,
            receivers=[MINISTRY],
            signer=test_pki.signer("000.00.00.G22"),
            subject="s",
            at=PKI_NOW,
        )


def test_to_edxml_never_signs_with_sha1(test_pki, forwarding) -> None:
    fw, signed, _ = forwarding
    with pytest.raises(ConfigurationError):
        to_edxml(
            signed,
            doc=fw,
            sender=VPCP,
            receivers=[MINISTRY],
            signer=test_pki.signer("000.00.00.G22"),
            subject="s",
            algorithm=SignatureAlgorithm.RSA_SHA1,
            at=PKI_NOW,
        )


# --- status packages --------------------------------------------------------------------


@pytest.mark.parametrize("status", list(EdxmlStatus))
def test_status_round_trip_every_code(test_pki, status: EdxmlStatus) -> None:
    rf = ResponseFor.from_document_id("000.00.00.G22,2026/02/13,1187/VPCP-ĐMDN")
    package = to_status(
        response_for=rf,
        sender=MINISTRY,
        status=status,
        signer=test_pki.signer("000.00.00.G10"),
        description=status.label_vi,
        staff=STAFF,
        at=PKI_NOW,
    )
    assert f"<edXML:StatusCode>{status.value}</edXML:StatusCode>".encode() in package
    got = from_status(package, policy=test_pki.policy(), at=PKI_NOW)
    assert (got.status, got.response_for, got.sender) == (status, rf, MINISTRY)
    assert got.description == status.label_vi
    assert got.timestamp == PKI_NOW
    assert got.staff == STAFF
    assert got.signature is not None


def test_status_notice_maps_to_a_status_package_and_back(test_pki, docs) -> None:
    notice = docs["status_notice"]
    assert isinstance(notice, StatusNotice)
    package = status_from_notice(notice, sender=MINISTRY, signer=test_pki.signer("000.00.00.G10"))
    got = from_status(package, policy=test_pki.policy(), at=PKI_NOW)
    assert got.response_for.document_id == notice.response_for.document_id
    back = notice_from_status(
        got,
        document_id=notice.document_id,
        case_id=notice.case_id,
        response_for=notice.response_for,
        progress_update=notice.progress_update,
    )
    assert back == notice
    other = DocumentRef(document_id="000.00.00.G22,2026/01/01,1/X", sha256="00" * 32)
    with pytest.raises(ConfigurationError):
        notice_from_status(
            got, document_id=notice.document_id, case_id=notice.case_id, response_for=other
        )


def test_status_from_notice_refuses_another_sender(test_pki, docs) -> None:
    with pytest.raises(ConfigurationError):
        status_from_notice(
            docs["status_notice"], sender=VPCP, signer=test_pki.signer("000.00.00.G22")
        )


# --- xmlsec1 verifies our package signature -------------------------------------------------


def _xmlsec1(test_pki, data: bytes, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    exe = require_tool("xmlsec1", "xmlsec1")
    path = tmp_path / "package.edxml"
    path.write_bytes(data)
    return subprocess.run(
        [
            exe,
            "--verify",
            "--trusted-pem",
            str(test_pki.root.pem_path),
            "--untrusted-pem",
            str(test_pki.intermediate.pem_path),
            "--verification-gmt-time",
            PKI_NOW.strftime("%Y-%m-%d %H:%M:%S"),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_xmlsec1_verifies_edoc_and_status_packages(test_pki, forwarding, tmp_path: Path) -> None:
    out = _xmlsec1(test_pki, forwarding[2], tmp_path)
    assert out.returncode == 0, out.stderr
    status = to_status(
        response_for=ResponseFor.from_document_id(forwarding[0].document_id),
        sender=MINISTRY,
        status=EdxmlStatus.ARRIVED,
        signer=test_pki.signer("000.00.00.G10"),
        at=PKI_NOW,
    )
    out = _xmlsec1(test_pki, status, tmp_path)
    assert out.returncode == 0, out.stderr


def test_xmlsec1_rejects_a_tampered_package(test_pki, forwarding, tmp_path: Path) -> None:
    out = _xmlsec1(
        test_pki, forwarding[2].replace(b"VPCP-\xc4\x90MDN<", b"VPCP-XXXX<", 1), tmp_path
    )
    assert out.returncode != 0


# --- attacks ----------------------------------------------------------------------------


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)  # our own test output


def _resign(test_pki, root: etree._Element, agency: str = "000.00.00.G22") -> bytes:
    """Remove the signature and sign again: a *validly signed* but inconsistent package."""
    sig = root.find(f".//{DS}Signature")
    assert sig is not None
    head = sig.getparent()
    head.remove(sig)
    sign_package(head, test_pki.signer(agency))
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def test_attack_tampered_header_field(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    root.find(f".//{E}Subject").text = "Văn bản khác"
    with pytest.raises(InvalidSignature) as info:
        _read(test_pki, etree.tostring(root))
    assert info.value.sub_indication == "HASH_FAILURE"


def test_attack_tampered_attachment(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    enc = root.find(f".//{E}ContentTransferEncoded")
    data = base64.b64decode(enc.text).replace(b"20", b"30", 1)
    enc.text = base64.b64encode(data).decode()
    with pytest.raises(InvalidSignature) as info:
        _read(test_pki, etree.tostring(root))
    assert info.value.sub_indication == "HASH_FAILURE"


def test_attack_attachment_not_in_manifest(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    extra = etree.SubElement(root.find(f"{E}AttachmentEncoded"), E + "Attachment")
    for tag, value in (
        ("ContentId", "cid:x"),
        ("AttachmentName", "x.exe"),
        ("ContentType", "application/octet-stream"),
        ("ContentTransferEncoded", "TVo="),
    ):
        etree.SubElement(extra, E + tag).text = value
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, _resign(test_pki, root))
    assert info.value.code == "edxml.manifest"


def test_attack_manifest_entry_without_attachment(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    enc = root.find(f"{E}AttachmentEncoded")
    enc.remove(enc[0])
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, _resign(test_pki, root))
    assert info.value.code == "edxml.manifest"


def test_attack_renamed_attachment(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    root.find(f"{E}AttachmentEncoded/{E}Attachment/{E}AttachmentName").text = "other.xml"
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, _resign(test_pki, root))
    assert info.value.code == "edxml.manifest"


def test_attack_untrusted_signer(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    sig = root.find(f".//{DS}Signature")
    head = sig.getparent()
    head.remove(sig)
    sign_package(head, xmldsig_signer("rsa2048"))  # self-signed, not under the test root
    with pytest.raises(UntrustedSigner):
        _read(test_pki, etree.tostring(root))


def test_attack_unpinned_signer(test_pki, forwarding) -> None:
    from pakn_sign.transport.sealing import cert_sha256

    vpcp = cert_sha256(test_pki.agencies["000.00.00.G22"].cert)
    pins = {"000.00.00.G22": {vpcp}}
    assert _read(test_pki, forwarding[2], pins=pins).signature is not None
    # Another trusted agency's seal signs a package that claims to come from VPCP.
    forged = _resign(test_pki, _tree(forwarding[2]), agency="000.00.00.G10")
    assert _read(test_pki, forged).signature is not None  # trusted, but...
    with pytest.raises(UntrustedSigner) as info:
        _read(test_pki, forged, pins=pins)
    assert info.value.code == "edxml.unpinned_signer"


def _legacy_sha1(test_pki, package: bytes) -> bytes:
    """A VPCP-SDK-style package: rsa-sha1 / sha1, C14N 1.0 SignedInfo, signed by xmlsec."""
    xmlsec = pytest.importorskip("xmlsec")
    root = _tree(package)
    sig = root.find(f".//{DS}Signature")
    head = sig.getparent()
    head.remove(sig)
    tmpl = xmlsec.template.create(root, xmlsec.Transform.C14N, xmlsec.Transform.RSA_SHA1)
    head.append(tmpl)
    ref = xmlsec.template.add_reference(tmpl, xmlsec.Transform.SHA1, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    x509_data = xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(tmpl))
    xmlsec.template.x509_data_add_subject_name(x509_data)
    xmlsec.template.x509_data_add_certificate(x509_data)
    seal = test_pki.agencies["000.00.00.G22"]
    key = xmlsec.Key.from_file(str(seal.key_path), xmlsec.KeyFormat.PEM)
    key.load_cert_from_file(str(seal.pem_path), xmlsec.KeyFormat.PEM)
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.sign(tmpl)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def test_attack_sha1_package_refused_without_the_unsafe_flag(test_pki, forwarding) -> None:
    legacy = _legacy_sha1(test_pki, forwarding[2])
    assert b"xmldsig#rsa-sha1" in legacy
    with pytest.raises(PolicyViolation) as info:
        _read(test_pki, legacy)
    assert info.value.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_sha1_legacy_package_accepted_with_a_warning(test_pki, forwarding) -> None:
    legacy = _legacy_sha1(test_pki, forwarding[2])
    with pytest.warns(UnsafeOptionWarning, match="sha1"):
        pkg = _read(test_pki, legacy, unsafe_allow_sha1=True)
    assert pkg.signature is not None
    assert pkg.signature.algorithm is SignatureAlgorithm.RSA_SHA1
    assert pkg.pakn_bytes == forwarding[1]


def test_attack_oversized_attachment_refused_before_decoding(
    test_pki, forwarding, monkeypatch
) -> None:
    import pakn_sign.transport.edxml_parts as parts

    def no_decode(*_a: object, **_k: object) -> bytes:
        raise AssertionError("decoded an oversized attachment")

    monkeypatch.setattr(parts, "decode_attachment", no_decode)
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, forwarding[2], max_attachment_bytes=1000)
    assert info.value.code == "input.too_large"


def test_attack_oversized_package(test_pki, forwarding) -> None:
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, forwarding[2], max_package_bytes=4096)
    assert info.value.code == "input.too_large"


def test_attack_dtd(test_pki, forwarding) -> None:
    package = forwarding[2].replace(b"?>", b'?>\n<!DOCTYPE edXML [<!ENTITY x "y">]>', 1)
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, package)
    assert info.value.code == "input.dtd_forbidden"


def test_attack_comment_splits_a_signed_value(test_pki, forwarding) -> None:
    # C14N of URI="" drops comments: the digest still matches, so the reader must refuse.
    package = forwarding[2].replace(b"<edXML:Subject>", b"<edXML:Subject><!--x-->", 1)
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, package)
    assert info.value.code == "edxml.comment"


def test_attack_unsigned_package(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    sig = root.find(f".//{DS}Signature")
    sig.getparent().remove(sig)
    unsigned = etree.tostring(root)
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, unsigned)
    assert info.value.code == "edxml.unsigned"
    with pytest.warns(UnsafeOptionWarning, match="unsigned"):
        assert _read(test_pki, unsigned, allow_unsigned=True).signature is None


def test_attack_signature_outside_the_header(test_pki, forwarding) -> None:
    root = _tree(forwarding[2])
    sig = root.find(f".//{DS}Signature")
    sig.getparent().remove(sig)
    root.append(sig)  # still enveloped, still a valid digest over the rest
    with pytest.raises(InvalidInput) as info:
        _read(test_pki, etree.tostring(root))
    assert info.value.code == "edxml.signature_position"


def test_attack_package_signature_does_not_vouch_for_the_pakn_document(
    test_pki, forwarding
) -> None:
    # VPCP signs a package whose attached PAKN document was altered after its XAdES
    # signatures: the package verifies, the PAKN document does not.
    root = _tree(forwarding[2])
    enc = root.find(f".//{E}ContentTransferEncoded")
    original = base64.b64decode(enc.text)
    inner = original.replace(b"<pakn:ToAgency>000.00.00.G10", b"<pakn:ToAgency>000.00.00.G12")
    assert inner != original
    enc.text = base64.b64encode(inner).decode()
    pkg = _read(test_pki, _resign(test_pki, root))
    with pytest.raises(InvalidSignature):
        pkg.pakn_document(test_pki.policy(), at=PKI_NOW)


def test_attack_status_with_unknown_code(test_pki) -> None:
    package = to_status(
        response_for=ResponseFor.from_document_id("000.00.00.G22,2026/02/13,1187/VPCP-ĐMDN"),
        sender=MINISTRY,
        status=EdxmlStatus.FINISHED,
        signer=test_pki.signer("000.00.00.G10"),
        at=PKI_NOW,
    )
    root = _tree(package)
    root.find(f".//{E}StatusCode").text = "99"
    with pytest.raises(InvalidInput, match="StatusCode"):
        from_status(_resign(test_pki, root, "000.00.00.G10"), policy=test_pki.policy(), at=PKI_NOW)
    tampered = package.replace(b">06<", b">03<")  # another code than was signed
    assert tampered != package
    with pytest.raises(InvalidSignature):
        from_status(tampered, policy=test_pki.policy(), at=PKI_NOW)


def test_no_warning_on_the_safe_path(test_pki, forwarding) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _read(test_pki, forwarding[2]).pakn_bytes == forwarding[1]
    assert PAKN_DESCRIPTION in forwarding[2].decode()


def test_attack_package_for_another_receiver(test_pki, forwarding) -> None:
    assert _read(test_pki, forwarding[2], receiver="000.00.00.G10").header.receivers
    with pytest.raises(PolicyViolation) as info:
        _read(test_pki, forwarding[2], receiver="000.00.00.H41")
    assert info.value.code == "edxml.wrong_receiver"


def test_edoc_and_status_packages_are_not_confused(test_pki, forwarding) -> None:
    status = to_status(
        response_for=ResponseFor.from_document_id(forwarding[0].document_id),
        sender=MINISTRY,
        status=EdxmlStatus.ACCEPTED,
        signer=test_pki.signer("000.00.00.G10"),
        at=PKI_NOW,
    )
    with pytest.raises(InvalidInput, match="MessageHeader"):
        _read(test_pki, status)
    with pytest.raises(InvalidInput, match="MessageStatus"):
        from_status(forwarding[2], policy=test_pki.policy(), at=PKI_NOW)


def test_trace_hops_kept_in_order_and_text_is_nfc(test_pki, forwarding) -> None:
    import unicodedata

    from pakn_sign.transport.edxml_types import TraceEntry

    fw, signed, _ = forwarding
    earlier = TraceEntry("000.00.01.G22", PKI_NOW - dt.timedelta(hours=1))
    package = to_edxml(
        signed,
        doc=fw,
        sender=VPCP,
        receivers=[MINISTRY],
        signer=test_pki.signer("000.00.00.G22"),
        subject=unicodedata.normalize("NFD", "Chuyển phản ánh"),
        trace=[earlier],
        at=PKI_NOW,
    )
    h = _read(test_pki, package).header
    assert [t.organ_id for t in h.trace] == ["000.00.01.G22", "000.00.00.G22"]
    assert h.trace[0].timestamp == earlier.timestamp
    assert h.subject == unicodedata.normalize("NFC", "Chuyển phản ánh")
