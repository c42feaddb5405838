"""A small hand-written PDF letter for PAdES tests (no external assets).

The page draws form XObject /Fm1 (the real decision). /Fm2, a different decision, sits
unused in the file: the setup of a shadow attack (hide-and-replace), where an incremental
update after signing makes the page draw /Fm2 instead.
"""

from __future__ import annotations


def _stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(body), extra) + body + b"\nendstream"


def make_letter(pages: int = 1, text: str = "Cong van tra loi kien nghi so 123/VPCP") -> bytes:
    """A PDF letter with ``pages`` A4 pages; page 1 shows ``text`` (ASCII) and /Fm1."""
    fm1 = b"BT /F1 12 Tf 72 600 Td (Quyet dinh: DONG Y giai quyet kien nghi) Tj ET"
    fm2 = b"BT /F1 12 Tf 72 600 Td (Quyet dinh: TU CHOI kien nghi) Tj ET"
    form = (
        b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >>"
    )
    objs: list[bytes] = []
    page_ids = [8 + i for i in range(pages)]
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")  # 1
    objs.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))  # 2
    body = (
        b"BT /F1 14 Tf 72 760 Td (" + text.encode("ascii") + b") Tj ET\n"
        b"BT /F1 11 Tf 72 730 Td (Kinh gui: Ong Nguyen Van An, Ha Noi) Tj ET\n/Fm1 Do"
    )
    objs.append(_stream(body))  # 3: page 1 content
    objs.append(_stream(b"BT /F1 11 Tf 72 760 Td (Trang tiep theo) Tj ET"))  # 4
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")  # 5
    objs.append(_stream(fm1, form))  # 6: /Fm1
    objs.append(_stream(fm2, form))  # 7: /Fm2 (hidden)
    for i in range(pages):
        content = 3 if i == 0 else 4
        objs.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> >>" % content
        )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1,
        b"0123456789abcdef0123456789abcdef",
        b"0123456789abcdef0123456789abcdef",
        xref,
    )
    return bytes(out)
