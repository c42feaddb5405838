"""PAdES: personal then organisation signatures, levels B-B..B-LTA, later changes, attacks."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
from io import BytesIO
from typing import Any

import pytest
from _local_ca import LocalCA, new_key
from _pdf_letter import make_letter
from conftest import PKI_NOW, require_tool
from cryptography.hazmat.primitives.serialization import Encoding

from pakn_sign.clock import FixedClock
from pakn_sign.errors import (
    ConfigurationError,
    IndeterminateError,
    InvalidInput,
    InvalidSignature,
    PolicyViolation,
    SigningError,
    UntrustedSigner,
)
from pakn_sign.signing.algorithms import SignatureAlgorithm
from pakn_sign.signing.pades import SignatureAppearance, sign_pdf
from pakn_sign.signing.pades_verify import SignedPdf, check_letter, inspect_pdf, verify_pdf
from pakn_sign.signing.remote_signer import RemoteSigner
from pakn_sign.signing.signers import LocalKeySigner
from pakn_sign.trust.policy import RevocationMode, TrustPolicy

AT = PKI_NOW
LATER = PKI_NOW + dt.timedelta(hours=2)
OFFICIAL = "official-g22"
AGENCY = "000.00.00.G22"


@pytest.fixture(scope="module")
def parties(test_pki: Any) -> dict[str, Any]:
    return {
        "official": test_pki.signer(OFFICIAL),
        "org": test_pki.signer(AGENCY),
        "policy": test_pki.policy(),
    }


@pytest.fixture(scope="module")
def letter() -> bytes:
    return make_letter(pages=2)


def _sign_pair(letter: bytes, parties: dict[str, Any], **kw: Any) -> bytes:
    personal = sign_pdf(
        letter,
        parties["official"],
        role="personal",
        at=AT,
        appearance=SignatureAppearance("Nguyễn Văn An", position="Vụ trưởng", agency="VPCP"),
        **kw,
    )
    return sign_pdf(
        personal,
        parties["org"],
        role="organisation",
        at=AT + dt.timedelta(minutes=5),
        appearance=SignatureAppearance("VĂN PHÒNG CHÍNH PHỦ"),
        **kw,
    )


@pytest.fixture(scope="module")
def signed_pair(letter: bytes, parties: dict[str, Any]) -> bytes:
    return _sign_pair(letter, parties)


def test_personal_then_organisation_verifies(signed_pair: bytes, parties: dict[str, Any]) -> None:
    result = verify_pdf(signed_pair, policy=parties["policy"], at=LATER)
    assert result.format == "pades"
    assert [s.role for s in result.signatures] == ["personal", "organisation"]
    assert [s.id for s in result.signatures] == ["pakn-personal-1", "pakn-organisation-1"]
    assert result.signatures[0].identity.common_name == "Nguyễn Văn An"
    assert result.signatures[1].identity.kind.value == "organisation"
    assert all(s.level == "B-B" for s in result.signatures)
    assert result.signatures[0].claimed_signing_time == AT
    assert result.signed_bytes == signed_pair  # the last signature covers the whole file
    assert isinstance(result.document, SignedPdf)
    assert result.document.sha256 == hashlib.sha256(signed_pair).hexdigest()
    assert result.document.pages == 2
    report = inspect_pdf(signed_pair, policy=parties["policy"], at=LATER)
    assert report.indication.value == "TOTAL_PASSED"
    assert [s.role for s in report.signatures] == ["personal", "organisation"]


def _pyhanko_statuses(data: bytes, test_pki: Any) -> list[Any]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    from pakn_sign.signing.pades_bridge import asn1_certificate

    vc = ValidationContext(
        trust_roots=[asn1_certificate(test_pki.root.cert)],
        other_certs=[asn1_certificate(test_pki.intermediate.cert)],
        moment=LATER,
        revocation_mode="soft-fail",
    )
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})
    reader = PdfFileReader(BytesIO(data))
    return [
        validate_pdf_signature(s, signer_validation_context=vc, key_usage_settings=usage)
        for s in reader.embedded_regular_signatures
    ]


def test_pyhanko_validator_accepts_what_we_sign(signed_pair: bytes, test_pki: Any) -> None:
    statuses = _pyhanko_statuses(signed_pair, test_pki)
    assert len(statuses) == 2
    assert all(s.bottom_line for s in statuses), [s.pretty_print_details() for s in statuses]
    assert statuses[1].coverage.name == "ENTIRE_FILE"
    assert statuses[0].coverage.name == "ENTIRE_REVISION"
    assert statuses[0].modification_level.name == "FORM_FILLING"


def _pdfsig(data: bytes, tmp_path: Any) -> str:
    exe = require_tool("pdfsig", "poppler-utils")
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    res = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    return res.stdout + res.stderr


def test_pdfsig_accepts_what_we_sign(signed_pair: bytes, tmp_path: Any) -> None:
    out = _pdfsig(signed_pair, tmp_path)
    assert out.count("Signature is Valid.") == 2, out
    assert "pakn-personal-1" in out
    assert "pakn-organisation-1" in out
    assert "Total document signed" in out


def test_organisation_signature_locks_the_document(
    signed_pair: bytes, parties: dict[str, Any]
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(signed_pair))
    org = reader.embedded_regular_signatures[1]
    assert org.sig_field["/Lock"]["/P"] == 1
    assert org.sig_field["/Lock"]["/Action"] == "/All"
    with pytest.raises(SigningError, match="Decree 30"):
        sign_pdf(signed_pair, parties["official"], role="personal", at=LATER)


def test_organisation_alone_is_a_certification_signature(
    letter: bytes, parties: dict[str, Any]
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    copy = sign_pdf(letter, parties["org"], role="organisation", at=AT)
    reader = PdfFileReader(BytesIO(copy))
    assert "/DocMDP" in reader.root["/Perms"]
    result = verify_pdf(copy, policy=parties["policy"], at=LATER)
    assert [s.role for s in result.signatures] == ["organisation"]


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_levels_against_the_live_tsa(
    level: str,
    letter: bytes,
    parties: dict[str, Any],
    pki_service: Any,
    test_pki: Any,
    tmp_path: Any,
) -> None:
    signed = _sign_pair(
        letter, parties, level=level, tsa=pki_service.tsa_url, policy=parties["policy"]
    )
    result = verify_pdf(signed, policy=parties["policy"], at=LATER)
    assert [s.level for s in result.signatures] == [level, level]
    assert all(s.timestamp_time == PKI_NOW for s in result.signatures)
    statuses = _pyhanko_statuses(signed, test_pki)
    assert all(s.bottom_line for s in statuses)
    out = _pdfsig(signed, tmp_path)
    # pdfsig checks /Sig signatures; it lists document timestamps but cannot validate them.
    assert out.count("Signature is Valid.") == 2, out
    if level != "B-T":
        from pyhanko.pdf_utils.reader import PdfFileReader

        dss = PdfFileReader(BytesIO(signed)).root["/DSS"]
        assert len(dss["/CRLs"]) >= 1
    report = inspect_pdf(signed, policy=parties["policy"], at=LATER)
    assert report.indication.value == "TOTAL_PASSED"
    # B-LTA: each signing step ends with its own document timestamp.
    assert len(report.signatures) == (4 if level == "B-LTA" else 2)


def test_b_t_with_in_process_tsa(letter: bytes, parties: dict[str, Any], test_pki: Any) -> None:
    tsa = test_pki.timestamp_authority(clock=FixedClock(AT + dt.timedelta(seconds=3)))
    signed = sign_pdf(letter, parties["official"], role="personal", level="B-T", tsa=tsa, at=AT)
    (info,) = verify_pdf(signed, policy=parties["policy"], at=LATER).signatures
    assert info.level == "B-T"
    assert info.timestamp_time == AT + dt.timedelta(seconds=3)


def test_level_preconditions(letter: bytes, parties: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="timestamp authority"):
        sign_pdf(letter, parties["official"], role="personal", level="B-T")
    with pytest.raises(ConfigurationError, match="trust policy"):
        sign_pdf(letter, parties["official"], role="personal", level="B-LT", tsa="http://x")
    with pytest.raises(ConfigurationError, match="role"):
        sign_pdf(letter, parties["official"], role="witness")  # type: ignore[arg-type]


# --- changes after signing -------------------------------------------------------------------


def _update(data: bytes, change: str) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    if change == "content":
        text = b"BT /F1 14 Tf 72 760 Td (Cong van da bi sua: TU CHOI) Tj ET"
        page["/Contents"] = w.add_object(generic.StreamObject(stream_data=text))
        w.update_container(page)
    elif change == "annotation":
        annot = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Text"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (50, 50, 70, 70)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("Ghi chú"),
            }
        )
        annots = page.get("/Annots")
        arr = generic.ArrayObject(list(annots) if annots is not None else [])
        arr.append(w.add_object(annot))
        page["/Annots"] = arr
        w.update_container(page)
    elif change == "page":
        new_page = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Page"),
                generic.NameObject("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                generic.NameObject("/Contents"): w.add_object(
                    generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 760 Td (Phu luc gia) Tj ET")
                ),
            }
        )
        w.insert_page(new_page)
    elif change == "shadow":
        # Hide-and-replace: the page now draws the hidden /Fm2 under the name /Fm1.
        res = page["/Resources"]
        res["/XObject"] = generic.DictionaryObject(
            {generic.NameObject("/Fm1"): generic.IndirectObject(7, 0, w)}
        )
        w.update_container(page)
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def _personal(letter: bytes, parties: dict[str, Any]) -> bytes:
    return sign_pdf(letter, parties["official"], role="personal", at=AT)


def test_content_changed_after_signing_fails(letter: bytes, parties: dict[str, Any]) -> None:
    changed = _update(_personal(letter, parties), "content")
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(changed, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "FORMAT_FAILURE"
    assert err.value.code == "verify.pdf_modified"
    report = inspect_pdf(changed, policy=parties["policy"], at=LATER)
    assert report.indication.value == "TOTAL_FAILED"


def test_annotation_after_personal_signature_is_reported(
    letter: bytes, parties: dict[str, Any]
) -> None:
    annotated = _update(_personal(letter, parties), "annotation")
    with pytest.raises(PolicyViolation) as err:
        verify_pdf(annotated, policy=parties["policy"], at=LATER)
    assert err.value.code == "verify.pdf_annotated"
    report = inspect_pdf(annotated, policy=parties["policy"], at=LATER)
    assert report.indication.value == "INDETERMINATE"
    assert report.signatures[0].sub_indication == "SIG_CONSTRAINTS_FAILURE"


def test_annotation_after_organisation_lock_fails(
    signed_pair: bytes, parties: dict[str, Any]
) -> None:
    annotated = _update(signed_pair, "annotation")
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(annotated, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "FORMAT_FAILURE"


def test_new_page_after_signing_fails(signed_pair: bytes, parties: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignature, match="changed after"):
        verify_pdf(_update(signed_pair, "page"), policy=parties["policy"], at=LATER)


def test_attack_shadow_hide_and_replace(letter: bytes, parties: dict[str, Any]) -> None:
    swapped = _update(_personal(letter, parties), "shadow")
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(swapped, policy=parties["policy"], at=LATER)
    assert err.value.code == "verify.pdf_modified"
    report = inspect_pdf(swapped, policy=parties["policy"], at=LATER)
    assert report.signatures[0].indication.value == "TOTAL_FAILED"


def _tamper_byte_range(data: bytes) -> bytes:
    matches = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data))
    m = matches[-1]
    a, b, c, d = (int(x) for x in m.groups())
    # Shrink the second range: the last 100 bytes fall outside the signature.
    new = b"/ByteRange [%d %d %d %d]" % (a, b, c, d - 100)
    new = new.ljust(len(m.group(0)))
    return data[: m.start()] + new + data[m.end() :]


def test_attack_byte_range_tampering(signed_pair: bytes, parties: dict[str, Any]) -> None:
    tampered = _tamper_byte_range(signed_pair)
    with pytest.raises(InvalidSignature):
        verify_pdf(tampered, policy=parties["policy"], at=LATER)
    report = inspect_pdf(tampered, policy=parties["policy"], at=LATER)
    assert report.indication.value == "TOTAL_FAILED"


def test_attack_signed_bytes_flipped(signed_pair: bytes, parties: dict[str, Any]) -> None:
    i = signed_pair.index(b"Cong van tra loi")
    flipped = signed_pair[:i] + b"Khong" + signed_pair[i + 5 :]
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(flipped, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "HASH_FAILURE"


def test_unsigned_and_non_pdf_input(letter: bytes, parties: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(letter, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "SIGNED_DATA_NOT_FOUND"
    assert (
        inspect_pdf(letter, policy=parties["policy"], at=LATER).indication.value == "TOTAL_FAILED"
    )
    with pytest.raises(InvalidInput):
        verify_pdf(b"<xml/>", policy=parties["policy"])
    with pytest.raises(InvalidInput):
        sign_pdf(b"%PDF-1.7 garbage", parties["official"], role="personal", at=AT)


def test_untrusted_signer(signed_pair: bytes) -> None:
    other = TrustPolicy.from_anchors([LocalCA.create().cert], revocation=RevocationMode.OFF)
    with pytest.raises(UntrustedSigner):
        verify_pdf(signed_pair, policy=other, at=LATER)


# --- other key types and signers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "alg"),
    [
        ("p256", SignatureAlgorithm.ECDSA_SHA256),
        ("rsa2048", SignatureAlgorithm.RSA_PSS_SHA256),
        ("ed25519", SignatureAlgorithm.ED25519),
    ],
)
def test_key_types(kind: str, alg: SignatureAlgorithm, letter: bytes, test_pki: Any) -> None:
    ca = LocalCA.create()
    key = new_key(kind)
    signer = LocalKeySigner(key, [ca.issue(key.public_key(), "Lê Thị Ký")])
    signed = sign_pdf(letter, signer, role="personal", algorithm=alg, at=AT)
    policy = TrustPolicy.from_anchors([ca.cert], revocation=RevocationMode.OFF)
    (info,) = verify_pdf(signed, policy=policy, at=LATER).signatures
    assert info.algorithm is alg


def test_attack_remote_signer_garbage_in_pdf(letter: bytes, test_pki: Any) -> None:
    chain = test_pki.signer(OFFICIAL).certificate_chain
    signer = RemoteSigner(lambda data, alg: b"\x00" * 256, chain)
    with pytest.raises(SigningError, match="does not verify"):
        sign_pdf(letter, signer, role="personal", at=AT)


# --- the Answer binds its letter ------------------------------------------------------------


def test_check_letter(signed_pair: bytes) -> None:
    from types import SimpleNamespace

    from pakn_sign.models import PdfLetter

    letter = PdfLetter(
        name="tra-loi.pdf", size=len(signed_pair), sha256=hashlib.sha256(signed_pair).hexdigest()
    )
    answer = SimpleNamespace(letter=letter)
    check_letter(answer, signed_pair)
    with pytest.raises(InvalidSignature, match="size"):
        check_letter(answer, signed_pair + b"\n")
    with pytest.raises(InvalidSignature, match="digest"):
        check_letter(answer, signed_pair[:-1] + b"X")
    with pytest.raises(InvalidInput):
        check_letter(SimpleNamespace(letter=None), signed_pair)


def test_timestamp_proves_existence_after_the_certificate_expired(
    letter: bytes, parties: dict[str, Any], test_pki: Any
) -> None:
    # The official's certificate ends 2028-11-19; the TSA's in 2031.
    years_later = dt.datetime(2029, 6, 1, tzinfo=dt.UTC)
    policy = test_pki.policy(revocation=RevocationMode.OFF)
    tsa = test_pki.timestamp_authority(clock=FixedClock(AT))
    stamped = sign_pdf(letter, parties["official"], role="personal", level="B-T", tsa=tsa, at=AT)
    (info,) = verify_pdf(stamped, policy=policy, at=years_later).signatures
    assert info.timestamp_time == AT
    plain = sign_pdf(letter, parties["official"], role="personal", at=AT)
    with pytest.raises(IndeterminateError) as err:
        verify_pdf(plain, policy=policy, at=years_later)
    assert err.value.sub_indication == "OUT_OF_BOUNDS_NO_POE"


def test_attack_universal_signature_forgery_zeroed_contents(
    signed_pair: bytes, parties: dict[str, Any]
) -> None:
    # USF (Mladenov et al., 2019): a signature whose /Contents holds no valid CMS must not
    # be skipped or shown as valid.
    m = list(re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", signed_pair))[-1]
    zeroed = signed_pair[: m.start(1)] + b"0" * (m.end(1) - m.start(1)) + signed_pair[m.end(1) :]
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(zeroed, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "FORMAT_FAILURE"
    report = inspect_pdf(zeroed, policy=parties["policy"], at=LATER)
    assert report.indication.value == "TOTAL_FAILED"


def _with_garbage_dss(data: bytes, parties_cert_der: bytes) -> bytes:
    # A certificate asn1crypto reads issuer and serial from (pyHanko's read_dss) but whose
    # notBefore is not a UTCTime: cryptography refuses it.
    der = parties_cert_der
    at = der.index(b"\x17\x0d")
    return _with_dss_certificate(data, der[: at + 2] + b"XXXXXXXXXXXXZ" + der[at + 15 :])


def _with_dss_certificate(data: bytes, cert_der: bytes) -> bytes:
    """``data`` with an appended revision whose DSS holds ``cert_der``."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    junk = w.add_object(generic.StreamObject(stream_data=cert_der))
    w.root["/DSS"] = w.add_object(
        generic.DictionaryObject({generic.NameObject("/Certs"): generic.ArrayObject([junk])})
    )
    w.update_root()
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def test_attack_garbage_certificate_in_dss(signed_pair: bytes, parties: dict[str, Any]) -> None:
    # An appended DSS is outside every signature: its content is attacker-controlled and a
    # certificate that does not parse is a FORMAT_FAILURE, not a ValueError escaping.
    leaf = parties["official"].certificate_chain[0]
    forged = _with_garbage_dss(signed_pair, leaf.public_bytes(Encoding.DER))
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(forged, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "FORMAT_FAILURE"
    report = inspect_pdf(forged, policy=parties["policy"], at=LATER)
    assert report.indication.value != "TOTAL_PASSED"


def test_attack_oversized_certificate_in_dss(signed_pair: bytes, parties: dict[str, Any]) -> None:
    # The DSS is hostile input like KeyInfo and x5c: a certificate over the 16 KiB limit
    # (certload.MAX_CERTIFICATE_BYTES) is refused, never parsed into the caches.
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "padded")])
    big = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(11)
        .not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
        .add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), bytes(20_000)),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    forged = _with_dss_certificate(signed_pair, big.public_bytes(Encoding.DER))
    with pytest.raises(InvalidSignature, match="certificates over 16384 are refused") as err:
        verify_pdf(forged, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "FORMAT_FAILURE"


def test_attack_unparsable_signer_certificate_in_cms(
    signed_pair: bytes, parties: dict[str, Any]
) -> None:
    # /Contents is outside the ByteRange: a signer certificate that asn1crypto carries but
    # cryptography cannot parse (notBefore not a UTCTime) is a FORMAT_FAILURE, not a crash.
    der = parties["org"].certificate_chain[0].public_bytes(Encoding.DER)
    at = der.index(b"\x17\x0d")
    bad = der[: at + 2] + b"XXXXXXXXXXXXZ" + der[at + 15 :]
    old, new = der.hex().encode(), bad.hex().encode()
    flags = re.IGNORECASE
    assert len(re.findall(re.escape(old), signed_pair, flags)) >= 1
    forged = re.sub(re.escape(old), new, signed_pair, flags=flags)
    with pytest.raises(InvalidSignature) as err:
        verify_pdf(forged, policy=parties["policy"], at=LATER)
    assert err.value.sub_indication == "FORMAT_FAILURE"
    report = inspect_pdf(forged, policy=parties["policy"], at=LATER)
    assert report.indication.value == "TOTAL_FAILED"


class _BareSigner:
    """A third-party ``Signer`` with no policy of its own (an HSM wrapper, say)."""

    def __init__(self, key: Any, chain: list[Any]) -> None:
        self._key, self.certificate_chain = key, chain
        self.default_algorithm = SignatureAlgorithm.RSA_SHA256

    def sign_raw(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        from pakn_sign.signing.algorithms import sign_with_key

        return sign_with_key(self._key, data, algorithm)


def test_attack_rsa1024_new_pdf_signature_through_a_bare_signer(letter: bytes) -> None:
    # The format code, not only LocalKeySigner, refuses RSA < 2048 for new signatures.
    ca = LocalCA.create()
    key = new_key("rsa1024")
    signer = _BareSigner(key, [ca.issue(key.public_key(), "Lê Thị Ký")])
    with pytest.raises(ConfigurationError, match="RSA-1024"):
        sign_pdf(letter, signer, role="personal", at=AT)


def test_attack_unreadable_pdf_structure(signed_pair: bytes, parties: dict[str, Any]) -> None:
    # pyHanko's reader raises OverflowError on a huge startxref: unreadable input, not a crash.
    m = list(re.finditer(rb"startxref\s+(\d+)", signed_pair))[-1]
    forged = signed_pair[: m.start(1)] + b"9" * 30 + signed_pair[m.end(1) :]
    with pytest.raises(InvalidInput):
        verify_pdf(forged, policy=parties["policy"], at=LATER)
    with pytest.raises(InvalidInput):
        inspect_pdf(forged, policy=parties["policy"], at=LATER)


def test_attack_field_name_not_text(signed_pair: bytes, parties: dict[str, Any]) -> None:
    # A NUL in /T makes pyHanko hand back the field name as bytes (same length: offsets hold).
    name = rb"(pakn\055personal\0551)"
    assert signed_pair.count(name) == 1
    forged = signed_pair.replace(name, rb"(pakn\055personal\0001)")
    with pytest.raises(InvalidSignature):
        verify_pdf(forged, policy=parties["policy"], at=LATER)
    report = inspect_pdf(forged, policy=parties["policy"], at=LATER)
    assert report.indication.value == "TOTAL_FAILED"
