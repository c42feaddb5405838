"""An Answer binds its PAdES letter by SHA-256 and size; verifying both together."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from _pdf_letter import make_letter
from xades_helpers import answer

from pakn_sign.errors import InvalidInput, InvalidSignature
from pakn_sign.models.common import PdfLetter
from pakn_sign.signing.jades import sign_json
from pakn_sign.signing.pades import sign_pdf
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.verify import verify_answer_with_letter

AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def letter(test_pki: Any) -> bytes:
    personal = sign_pdf(make_letter(), test_pki.signer("official-g10"), role="personal", at=AT)
    return sign_pdf(personal, test_pki.signer("000.00.00.G10"), role="organisation", at=AT)


def _answer_binding(pdf: bytes) -> Any:
    binding = PdfLetter(
        name="cong-van-tra-loi.pdf", size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest()
    )
    return answer().model_copy(update={"letter": binding})


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_answer_and_its_letter_verify_together(test_pki: Any, letter: bytes, fmt: str) -> None:
    doc = _answer_binding(letter)
    sign = sign_xml if fmt == "xml" else sign_json
    signed = sign(doc, test_pki.signer("000.00.00.G10"), role="organisation", at=AT)
    both = verify_answer_with_letter(signed, letter, policy=test_pki.policy(), at=LATER)
    assert both.answer.document.letter is not None
    assert both.answer.document.letter.sha256 == hashlib.sha256(letter).hexdigest()
    assert [s.role for s in both.letter.signatures] == ["personal", "organisation"]


def test_attack_other_letter_is_refused(test_pki: Any, letter: bytes) -> None:
    signed = sign_xml(
        _answer_binding(letter), test_pki.signer("000.00.00.G10"), role="organisation", at=AT
    )
    # A different, validly signed letter of the same agency: the binding must catch it.
    other = sign_pdf(
        make_letter(text="Cong van khac"),
        test_pki.signer("000.00.00.G10"),
        role="organisation",
        at=AT,
    )
    with pytest.raises(InvalidSignature) as info:
        verify_answer_with_letter(signed, other, policy=test_pki.policy(), at=LATER)
    assert info.value.sub_indication == "HASH_FAILURE"


def test_answer_without_letter(test_pki: Any, letter: bytes) -> None:
    signed = sign_xml(answer(), test_pki.signer("000.00.00.G10"), role="organisation", at=AT)
    with pytest.raises(InvalidInput):
        verify_answer_with_letter(signed, letter, policy=test_pki.policy(), at=LATER)


def test_cli_verify_with_letter(test_pki: Any, letter: bytes, tmp_path: Any, capsys: Any) -> None:
    from pakn_sign.cli.main import main

    signed = sign_xml(
        _answer_binding(letter), test_pki.signer("000.00.00.G10"), role="organisation", at=AT
    )
    (tmp_path / "answer.xml").write_bytes(signed)
    (tmp_path / "letter.pdf").write_bytes(letter)
    (tmp_path / "other.pdf").write_bytes(letter + b"\n%")
    ca = test_pki.directory / "ca"
    args = [
        "verify",
        str(tmp_path / "answer.xml"),
        "--trust",
        str(ca / "root.pem"),
        "--untrusted",
        str(ca / "intermediate.pem"),
        "--revocation",
        "off",
        "--at",
        LATER.isoformat(),
    ]
    assert main([*args, "--letter", str(tmp_path / "letter.pdf")]) == 0
    assert "letter" in capsys.readouterr().err
    assert main([*args, "--letter", str(tmp_path / "other.pdf")]) == 1
