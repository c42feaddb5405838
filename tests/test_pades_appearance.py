"""Visible PDF signatures: Vietnamese text embedded and extractable, the red seal, placement."""

from __future__ import annotations

import datetime as dt
import subprocess
import unicodedata
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from _pdf_letter import make_letter
from conftest import PKI_NOW, require_tool

from pakn_sign.errors import ConfigurationError
from pakn_sign.signing.pades import SignatureAppearance, sign_pdf
from pakn_sign.signing.pades_appearance import DEFAULT_FONT, appearance_text, seal_drawing
from pakn_sign.signing.pades_verify import verify_pdf

AT = PKI_NOW  # 09:30 UTC = 16:30 in Hà Nội


@pytest.fixture(scope="module")
def signed(test_pki: Any) -> bytes:
    personal = sign_pdf(
        make_letter(pages=2),
        test_pki.signer("official-g22"),
        role="personal",
        at=AT,
        appearance=SignatureAppearance(
            # decomposed (NFD) on purpose: the stamp must carry NFC text
            unicodedata.normalize("NFD", "Nguyễn Văn An"),
            position="Vụ trưởng Vụ Tổng hợp",
            agency="Văn phòng Chính phủ",
        ),
    )
    return sign_pdf(
        personal,
        test_pki.signer("000.00.00.G22"),
        role="organisation",
        at=AT + dt.timedelta(minutes=5),
        appearance=SignatureAppearance("VĂN PHÒNG CHÍNH PHỦ", agency="Công ty 100% vốn nhà nước"),
    )


def _pdftotext(data: bytes, tmp_path: Path, page: int) -> str:
    exe = require_tool("pdftotext", "poppler-utils")
    path = tmp_path / "a.pdf"
    path.write_bytes(data)
    res = subprocess.run(
        [exe, "-f", str(page), "-l", str(page), "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return unicodedata.normalize("NFC", res.stdout.decode("utf-8"))


def test_vietnamese_text_is_extractable(signed: bytes, tmp_path: Path) -> None:
    text = _pdftotext(signed, tmp_path, page=2)  # letters are signed on the last page
    for line in (
        "Người ký: Nguyễn Văn An",
        "Chức vụ: Vụ trưởng Vụ Tổng hợp",
        "Cơ quan: Văn phòng Chính phủ",
        "Thời gian ký: 20/11/2026 16:30:00 (GMT+7)",
        "Ký bởi: VĂN PHÒNG CHÍNH PHỦ",
        "Cơ quan: Công ty 100% vốn nhà nước",
        "Thời gian ký: 20/11/2026 16:35:00 (GMT+7)",
    ):
        assert line in text, text
    assert "Người ký" not in _pdftotext(signed, tmp_path, page=1)


def _widgets(data: bytes) -> dict[str, Any]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(data))
    return {s.field_name: s.sig_field for s in reader.embedded_regular_signatures}


def _appearance_bytes(field: Any) -> tuple[bytes, list[Any]]:
    """All content of the normal appearance (nested form XObjects) and the fonts it uses."""
    stack = [field["/AP"]["/N"]]
    data, fonts = b"", []
    while stack:
        xobj = stack.pop()
        xobj = xobj.get_object() if hasattr(xobj, "get_object") else xobj
        data += xobj.data
        res = xobj.get("/Resources", {})
        fonts += [f.get_object() for f in res.get("/Font", {}).values()]
        stack += list(res.get("/XObject", {}).values())
    return data, fonts


def test_font_is_embedded_with_unicode_map(signed: bytes) -> None:
    _, fonts = _appearance_bytes(_widgets(signed)["pakn-personal-1"])
    assert fonts
    font = fonts[0]
    assert "DejaVuSans" in str(font["/BaseFont"])
    assert "/ToUnicode" in font
    descendant = font["/DescendantFonts"][0]
    assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded, not referenced by name
    cmap = font["/ToUnicode"].data
    assert b"<1edd>" in cmap.lower() or b"1edd" in cmap.lower()  # "ờ" U+1EDD


def test_organisation_stamp_has_red_seal_and_placement(signed: bytes, test_pki: Any) -> None:
    widgets = _widgets(signed)
    content, _ = _appearance_bytes(widgets["pakn-organisation-1"])
    assert b"0.85 0.05 0.05 rg" in content  # the seal's red fill
    personal_rect = [float(v) for v in widgets["pakn-personal-1"]["/Rect"]]
    org_rect = [float(v) for v in widgets["pakn-organisation-1"]["/Rect"]]
    assert personal_rect == [320, 100, 560, 170]
    # Decree 30 (Appendix I practice): the seal sits left, over the personal signature's left part
    assert org_rect[0] < personal_rect[0] < org_rect[0] + 96 + 8
    assert org_rect[3] > personal_rect[1]
    page = widgets["pakn-organisation-1"]["/P"]
    assert int(page.get_object()["/MediaBox"][2]) == 595
    # still verifies with its appearances
    assert len(verify_pdf(signed, policy=test_pki.policy(), at=AT).signatures) == 2


def test_appearance_text_is_nfc_and_in_vietnam_time() -> None:
    ap = SignatureAppearance(
        unicodedata.normalize("NFD", "Trần Thị Bình"), position="Phó Vụ trưởng"
    )
    text = appearance_text(ap, role="personal", at=dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC))
    assert text == unicodedata.normalize("NFC", text)
    assert "Người ký: Trần Thị Bình" in text
    assert "Thời gian ký: 01/01/2027 03:00:00 (GMT+7)" in text
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        appearance_text(ap, role="personal", at=dt.datetime(2026, 1, 1))


def test_missing_font_names_the_package(test_pki: Any, tmp_path: Path) -> None:
    ap = SignatureAppearance("Nguyễn Văn An", font_path=str(tmp_path / "none.ttf"))
    with pytest.raises(ConfigurationError, match="fonts-dejavu-core"):
        sign_pdf(
            make_letter(), test_pki.signer("official-g22"), role="personal", at=AT, appearance=ap
        )


def test_font_without_vietnamese_glyphs_is_refused(test_pki: Any, tmp_path: Path) -> None:
    from fontTools import subset, ttLib

    font = ttLib.TTFont(DEFAULT_FONT)
    cutter = subset.Subsetter(subset.Options())
    cutter.populate(unicodes=range(0x20, 0x7F))  # ASCII only
    cutter.subset(font)
    ascii_font = tmp_path / "ascii.ttf"
    font.save(str(ascii_font))
    ap = SignatureAppearance("Nguyễn Văn An", font_path=str(ascii_font))
    with pytest.raises(ConfigurationError, match="lacks Vietnamese glyphs"):
        sign_pdf(
            make_letter(), test_pki.signer("official-g22"), role="personal", at=AT, appearance=ap
        )


def test_page_out_of_range(test_pki: Any) -> None:
    ap = SignatureAppearance("Nguyễn Văn An", page=5)
    with pytest.raises(ConfigurationError, match="page 5"):
        sign_pdf(
            make_letter(), test_pki.signer("official-g22"), role="personal", at=AT, appearance=ap
        )


def test_seal_drawing_is_closed_paths_in_red() -> None:
    ops = seal_drawing()
    assert ops.startswith(b"q\n")
    assert ops.endswith(b"Q\n")
    assert ops.count(b" c\n") == 8  # two circles of four Bezier arcs
    assert ops.count(b" re f") == 24
