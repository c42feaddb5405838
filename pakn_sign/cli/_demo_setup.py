"""Setting up the demo's world on disk: test PKI, signed directory, node configs."""

from __future__ import annotations

import datetime as dt
import json
import socket
from dataclasses import dataclass
from pathlib import Path

from ..models import Petition
from ..models.common import Channel, PersonalId, PersonalIdType, PersonSender
from ..transport.directory import sign_directory
from ..transport.sealing import cert_sha256
from ..transport.wire import DirectoryDocument, PartnerEntry
from ..trust.testpki import TestPKI

__all__ = ["MINISTRY", "PORTAL", "VPCP", "World", "build_world", "demo_petition", "free_port"]

VPCP = "000.00.00.G22"
MINISTRY = "000.00.00.G10"
PORTAL = "000.00.01.G22"
"""The national public service portal, run by a unit of VPCP (our choice of code)."""

NAMES = {
    PORTAL: "Cổng Dịch vụ công quốc gia",
    VPCP: "Văn phòng Chính phủ",
    MINISTRY: "Bộ Nông nghiệp và Môi trường",
}


def free_port() -> int:
    """A free TCP port on loopback (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class World:
    """Where everything of one demo run lives."""

    base: Path
    pki: TestPKI
    pki_port: int
    ports: dict[str, int]
    configs: dict[str, Path]


def _tls_b64(pki: TestPKI, code: str) -> list[str]:
    import base64

    from cryptography.hazmat.primitives import serialization

    return [
        base64.b64encode(
            pki.tls[f"{code}-{side}"].cert.public_bytes(serialization.Encoding.DER)
        ).decode()
        for side in ("server", "client")
    ]


def build_world(base: Path, *, algorithm: str, now: dt.datetime) -> World:
    """Create the PKI, the directory signed by VPCP and one config file per node."""
    pki_port = free_port()
    pki = TestPKI.create(
        base / "pki", algorithm=algorithm, now=now, base_url=f"http://127.0.0.1:{pki_port}"
    )
    ports = {code: free_port() for code in NAMES}
    doc = DirectoryDocument(
        version=1,
        issued_at=now - dt.timedelta(minutes=5),
        expires_at=now + dt.timedelta(days=30),
        issuer=VPCP,
        partners=[
            PartnerEntry(
                agency_code=code,
                name=name,
                endpoint=f"https://127.0.0.1:{ports[code]}",
                signing_cert_sha256=[cert_sha256(pki.agencies[code].cert)],
                tls_certificates=_tls_b64(pki, code),
            )
            for code, name in NAMES.items()
        ],
    )
    (base / "directory.jws").write_bytes(sign_directory(doc, pki.agencies[VPCP].signer()))
    trust = {
        "anchors": [_rel(base, pki.root.pem_path)],
        "intermediates": [_rel(base, pki.intermediate.pem_path)],
        "revocation": "soft",
        "allow_fetching": True,
    }
    configs: dict[str, Path] = {}
    roles = {PORTAL: "portal", VPCP: "hub", MINISTRY: "agency-demo"}
    for code, role in roles.items():
        seal = pki.agencies[code]
        tls_c, tls_s = pki.tls[f"{code}-client"], pki.tls[f"{code}-server"]
        cfg: dict[str, object] = {
            "agency_code": code,
            "role": role,
            "data_dir": f"nodes/{code}",
            "host": "127.0.0.1",
            "port": ports[code],
            "signer": {
                "key": _rel(base, seal.key_path),
                "cert": _rel(base, seal.pem_path),
                "chain": _rel(base, pki.intermediate.pem_path),
            },
            "directory": "directory.jws",
            "directory_issuers": [_rel(base, pki.agencies[VPCP].pem_path)],
            "tls": {
                "cert": _rel(base, tls_c.pem_path),
                "key": _rel(base, tls_c.key_path),
                "server_cert": _rel(base, tls_s.pem_path),
                "server_key": _rel(base, tls_s.key_path),
            },
            "trust": trust,
        }
        if role == "hub":
            cfg["routes"] = {"default": MINISTRY, "TNMT": MINISTRY}
        if role == "agency-demo":
            cfg["tsa_url"] = pki.tsa_url
            official = pki.official_for(code)
            assert official.p12_path is not None
            cfg["official"] = {
                "p12": _rel(base, official.p12_path),
                "password": pki.password,
                "full_name": "Trần Thị Bình",
                "position": "Chánh Văn phòng Bộ",
                "competence": "TL. BỘ TRƯỞNG",
            }
        path = base / f"{code}.json"
        path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
        configs[code] = path
    return World(base, pki, pki_port, ports, configs)


def _rel(base: Path, p: Path) -> str:
    return str(p.relative_to(base))


def demo_petition(now: dt.datetime) -> Petition:
    """A citizen's petition as the portal receives it (fictional person)."""
    case = f"{PORTAL},{now:%Y/%m/%d},{now:%H%M}1/DVCQG-PAKN"
    return Petition(
        document_id=case,
        case_id=case,
        recipient=VPCP,
        received_at=now,
        channel=Channel.PORTAL,
        sender=PersonSender(
            full_name="Hoàng Thị Én",
            address="Số 8 đường Bạch Đằng, phường Hải Châu, thành phố Đà Nẵng",
            phone="0905123456",
            email="hoang.thi.en@example.vn",
            id_document=PersonalId(type=PersonalIdType.CCCD, number="048195000001"),
        ),
        title="Phản ánh việc chậm cấp giấy chứng nhận quyền sử dụng đất",
        content=(
            "Tôi nộp hồ sơ cấp giấy chứng nhận quyền sử dụng đất từ tháng 6 nhưng đến nay "
            "chưa được giải quyết, quá thời hạn quy định. Kính đề nghị cơ quan có thẩm "
            "quyền xem xét, chỉ đạo giải quyết."
        ),
        sector="TNMT",
    )
