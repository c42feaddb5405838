"""Visible signature appearances: Vietnamese text and the organisation's red seal.

Decree 30/2020/NĐ-CP Art. 32 and its Appendix I: the official signs first; the records
clerk then applies the organisation's seal, red, covering about a third of the personal
signature on its left. The text is set in a TrueType font with Vietnamese glyphs
(DejaVu Sans from Debian's ``fonts-dejavu-core``), embedded as a subset with a ToUnicode
map so that the text can be extracted and searched (pyHanko's ``GlyphAccumulator``,
which needs ``fonttools`` and ``uharfbuzz``).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..clock import VN_TZ, ensure_aware
from .pades_font import font_factory

__all__ = [
    "DEFAULT_FONT",
    "SignatureAppearance",
    "appearance_text",
    "seal_drawing",
    "stamp_style",
]

DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
"""DejaVu Sans (Debian package ``fonts-dejavu-core``): full Vietnamese coverage."""

_PERSONAL_BOX = (320, 100, 560, 170)
_ORGANISATION_BOX = (270, 25, 560, 125)
_SEAL_SIZE = 96
_RED = (0.85, 0.05, 0.05)


@dataclass(frozen=True, slots=True)
class SignatureAppearance:
    """What the visible signature shows, and where.

    Args:
        signer_name: the official's or the organisation's name (NFC).
        position: the official's position (chức vụ), if any.
        agency: the agency (cơ quan) name.
        page: the page index; ``-1`` is the last page (where a letter is signed).
        box: ``(x1, y1, x2, y2)`` in PDF points; ``None`` uses the role's default place.
        font_path: a TrueType font with Vietnamese glyphs.
        seal: draw the red seal (organisation signatures only).
    """

    signer_name: str
    position: str | None = None
    agency: str | None = None
    page: int = -1
    box: tuple[int, int, int, int] | None = None
    font_path: str = DEFAULT_FONT
    seal: bool = True

    def box_for(self, role: str) -> tuple[int, int, int, int]:
        """The field rectangle for ``role`` (``personal`` or ``organisation``)."""
        if self.box is not None:
            return self.box
        return _ORGANISATION_BOX if role == "organisation" else _PERSONAL_BOX


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def appearance_text(appearance: SignatureAppearance, *, role: str, at: dt.datetime) -> str:
    """The stamp text (NFC), time shown in Asia/Ho_Chi_Minh (UTC+7)."""
    when = ensure_aware(at, name="at").astimezone(VN_TZ)
    shown = when.strftime("%d/%m/%Y %H:%M:%S") + " (GMT+7)"
    if role == "organisation":
        lines = [f"Ký bởi: {appearance.signer_name}"]
        if appearance.agency and appearance.agency != appearance.signer_name:
            lines.append(f"Cơ quan: {appearance.agency}")
    else:
        lines = [f"Người ký: {appearance.signer_name}"]
        if appearance.position:
            lines.append(f"Chức vụ: {appearance.position}")
        if appearance.agency:
            lines.append(f"Cơ quan: {appearance.agency}")
    lines.append(f"Thời gian ký: {shown}")
    return _nfc("\n".join(lines))


def _circle(cx: float, cy: float, r: float) -> bytes:
    # Four Bézier arcs; k = 4/3·(√2 − 1) is the standard quarter-circle control distance.
    k = 0.5523 * r
    pts = [
        (cx + r, cy),
        (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
        (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
        (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
        (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
    ]
    out = [f"{pts[0][0]:.2f} {pts[0][1]:.2f} m"]
    out += [" ".join(f"{v:.2f}" for v in p) + " c" for p in pts[1:]]
    return ("\n".join(out) + "\n").encode()


def _star(cx: float, cy: float, r: float) -> bytes:
    pts = []
    for i in range(10):
        rad = r if i % 2 == 0 else r * 0.382
        ang = math.pi / 2 + i * math.pi / 5
        pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
    ops = [f"{pts[0][0]:.2f} {pts[0][1]:.2f} m"] + [f"{x:.2f} {y:.2f} l" for x, y in pts[1:]]
    return ("\n".join(ops) + "\nh f\n").encode()


def seal_drawing(size: int = _SEAL_SIZE) -> bytes:
    """A red round seal as PDF path operators: two rings, a dotted ring and a star.

    Drawn, not an image: no external asset and no Pillow, and it stays sharp at any zoom.
    """
    r = size / 2
    red = "{:.2f} {:.2f} {:.2f}".format(*_RED).encode()
    parts = [b"q\n", red + b" RG\n", red + b" rg\n", b"2.5 w\n", _circle(r, r, r - 2), b"S\n"]
    parts += [b"1 w\n", _circle(r, r, r * 0.62), b"S\n"]
    for i in range(24):  # the dotted band where a paper seal carries the agency's name
        ang = 2 * math.pi * i / 24
        x, y = r + r * 0.81 * math.cos(ang), r + r * 0.81 * math.sin(ang)
        parts.append(f"{x - 1.3:.2f} {y - 1.3:.2f} 2.6 2.6 re f\n".encode())
    parts += [_star(r, r, r * 0.45), b"Q\n"]
    return b"".join(parts)


def stamp_style(appearance: SignatureAppearance, *, role: str, at: dt.datetime) -> Any:
    """A pyHanko ``TextStampStyle`` for the appearance (text escaped for pyHanko's ``%``)."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.content import RawContent
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    text = appearance_text(appearance, role=role, at=at).replace("%", "%%")
    font = font_factory(appearance.font_path, 8)
    text_style = TextBoxStyle(font=font, font_size=8, leading=10)
    if role == "organisation" and appearance.seal:
        seal = RawContent(seal_drawing(), box=layout.BoxConstraints(_SEAL_SIZE, _SEAL_SIZE))
        return TextStampStyle(
            stamp_text=text,
            text_box_style=text_style,
            border_width=0,
            background=seal,
            background_opacity=0.85,
            background_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins(2, 2, 2, 2),
                inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
            ),
            inner_content_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins(left=_SEAL_SIZE + 8, right=4, top=4, bottom=4),
            ),
        )
    return TextStampStyle(
        stamp_text=text,
        text_box_style=text_style,
        border_width=1,
        border_color=(0.1, 0.2, 0.7),  # a blue frame, as the personal signature image is blue
    )
