"""Documents and small tree edits shared by the XAdES test files."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from pakn_sign.models import (
    Answer,
    Attachment,
    Channel,
    DocumentRef,
    MediaType,
    Official,
    PersonSender,
    Petition,
)

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XADES = "{http://uri.etsi.org/01903/v1.3.2#}"
PAKN = "{urn:pakn-sign:pakn:1}"

PERSONAL = "official-g10"
"""The competent official of the ministry 000.00.00.G10."""
SEAL = "000.00.00.G10"
"""The ministry's organisation seal."""


def answer(text: str = "Trả lời kiến nghị về thủ tục cấp giấy phép xây dựng.") -> Answer:
    """An Answer from the ministry 000.00.00.G10 (Vietnamese text, NFC)."""
    return Answer(
        document_id="000.00.00.G10,2026/11/20,123/BNN-PAKN",
        case_id="000.00.00.G22,2026/11/01,45/PAKN",
        forwarding=DocumentRef(
            document_id="000.00.00.G22,2026/11/05,46/VPCP-PAKN", sha256="ab" * 32
        ),
        issuer="000.00.00.G10",
        issued_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
        official=Official(full_name="Trần Thị Bình", position="Vụ trưởng"),
        text=text,
    )


def petition(paragraphs: int = 8) -> Petition:
    """A petition of roughly 4 KB as XML, with attachments by digest."""
    content = "\n".join(
        f"Đoạn {i}: Tôi kiến nghị cơ quan có thẩm quyền xem xét việc cấp giấy chứng nhận "
        "quyền sử dụng đất chậm so với thời hạn quy định tại địa phương."
        for i in range(paragraphs)
    )
    return Petition(
        document_id="000.00.00.G22,2026/11/01,45/PAKN",
        case_id="000.00.00.G22,2026/11/01,45/PAKN",
        recipient="000.00.00.G22",
        received_at=dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC),
        channel=Channel.PORTAL,
        sender=PersonSender(
            full_name="Nguyễn Văn An",
            address="Số 1 phố Tràng Tiền, phường Hoàn Kiếm, Hà Nội",
            phone="0912345678",
            email="an.nguyen@example.vn",
        ),
        title="Kiến nghị về thủ tục cấp giấy chứng nhận quyền sử dụng đất",
        content=content,
        attachments=tuple(
            Attachment(
                name=f"tai-lieu-{i}.pdf",
                media_type=MediaType.PDF,
                size=1000 + i,
                sha256=f"{i:02x}" * 32,
            )
            for i in range(4)
        ),
    )


def tree(data: bytes) -> etree._Element:
    """Parse our own test output (trusted) into a tree for editing."""
    return etree.fromstring(data)


def tobytes(root: etree._Element) -> bytes:
    """Serialise an edited tree as UTF-8 with a declaration."""
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def signatures(root: etree._Element) -> list[etree._Element]:
    """The ds:Signature children of a pakn:Signed root."""
    return [el for el in root if el.tag == DS + "Signature"]
