"""Micro-benchmark of the XMLDSig core engine (pakn_sign.signing.xmldsig).

Signs and verifies a ~4 KB and a ~1 MB Vietnamese petition-like document (structure as
in shared/bench/baseline.py) with RSA-2048 and P-256, plus the canonicalisation options
the engine could use. Single-threaded; prints a Markdown table (ops/s, median of batches).

    .venv/bin/python benchmarks/bench_xmldsig_core.py [--quick] [--json out.json]

The XADES helper's benchmark builds on ``make_document`` / ``make_signer`` / ``measure``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import json
import statistics
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.signing.signers import LocalKeySigner
from pakn_sign.signing.xmldsig import (
    DEFAULT_DIGESTS,
    DEFAULT_SIGNATURE_ALGORITHMS,
    ReferenceSpec,
    build_signature,
    find_signatures,
    verify_signature,
)

P = "urn:pakn-sign:pakn:1"
TEXT = (
    "Kính gửi Ủy ban nhân dân tỉnh: đề nghị xem xét việc cấp giấy chứng nhận quyền sử dụng "
    "đất cho hộ gia đình tôi tại thửa đất số 123, tờ bản đồ số 45, xã Tân Phú. "
)


def make_document(target_bytes: int) -> bytes:
    """A ``pakn:Signed`` container holding one ``pakn:Petition Id="pakn-doc"`` of ~size."""
    root = etree.Element(f"{{{P}}}Signed", nsmap={"pakn": P})
    doc = etree.SubElement(root, f"{{{P}}}Petition", Id="pakn-doc")
    for tag, value in (("DocumentId", "000.00.00.G22,2026/11/20,123/PAKN"), ("CaseId", "P-1")):
        etree.SubElement(doc, f"{{{P}}}{tag}").text = value
    body = etree.SubElement(doc, f"{{{P}}}Content")
    i = 0
    while len(etree.tostring(root, encoding="UTF-8")) < target_bytes:
        para = etree.SubElement(body, f"{{{P}}}Paragraph", n=str(i))
        para.text = TEXT * max(1, min(40, (target_bytes - 3000) // 400))
        i += 1
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def make_signer(kind: str) -> LocalKeySigner:
    """A signer with a fresh key and a self-signed certificate (``rsa2048`` or ``p256``)."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    key = (
        rsa.generate_private_key(65537, 2048)
        if kind == "rsa2048"
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench {kind}")])
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(t0)
        .not_valid_after(t0 + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return LocalKeySigner(key, [cert])


def measure(fn: Callable[[], object], *, batches: int = 7, batch_seconds: float = 0.25) -> float:
    """Median ops/s over ``batches`` batches of about ``batch_seconds`` each."""
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.08:
        fn()
        n += 1
    per_batch = max(1, int(n / 0.08 * batch_seconds))
    rates = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        rates.append(per_batch / (time.perf_counter() - t0))
    return statistics.median(rates)


def sign_bytes(data: bytes, signer: LocalKeySigner) -> bytes:
    """Parse once, sign the document element, serialise as UTF-8 (the whole sign path)."""
    root = parse_xml(data).getroot()
    build_signature(root, signer, references=[ReferenceSpec("#pakn-doc")], signature_id="sig-1")
    return etree.tostring(root, encoding="UTF-8")


def verify_bytes(data: bytes) -> int:
    """Parse once with the hardened parser and verify the (single) signature."""
    sig = find_signatures(parse_xml(data))[0]
    result = verify_signature(
        sig, allowed_algorithms=DEFAULT_SIGNATURE_ALGORITHMS, allowed_digests=DEFAULT_DIGESTS
    )
    return len(result.references[0].canonical)


def run(quick: bool) -> list[dict[str, object]]:
    batches = 3 if quick else 7
    rows: list[dict[str, object]] = []
    docs = {"4 KB": make_document(4 * 1024), "1 MB": make_document(1024 * 1024)}
    for size, data in docs.items():
        tree = parse_xml(data)
        el = tree.getroot()[0]
        floor = {
            "parse": lambda d=data: parse_xml(d),
            "exc-c14n+sha256 (tostring c14n)": lambda e=el: hashlib.sha256(
                etree.tostring(e, method="c14n", exclusive=True, with_comments=False)
            ).digest(),
            "c14n2 (canonicalize)": lambda e=el: etree.canonicalize(
                etree.tostring(e, encoding="unicode"), with_comments=False
            ),
        }
        for name, fn in floor.items():
            rows.append(
                {"op": name, "size": size, "alg": "-", "ops_s": measure(fn, batches=batches)}
            )
        for kind in ("rsa2048", "p256"):
            signer = make_signer(kind)
            signed = sign_bytes(data, signer)
            rows.append(
                {
                    "op": "sign (parse+sign+serialise)",
                    "size": size,
                    "alg": kind,
                    "ops_s": measure(functools.partial(sign_bytes, data, signer), batches=batches),
                }
            )
            rows.append(
                {
                    "op": "verify (parse+verify)",
                    "size": size,
                    "alg": kind,
                    "ops_s": measure(functools.partial(verify_bytes, signed), batches=batches),
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = run(args.quick)
    print("| op | size | alg | ops/s | ms/op |")
    print("|---|---|---|---:|---:|")
    for r in rows:
        ops = float(r["ops_s"])  # type: ignore[arg-type]
        print(f"| {r['op']} | {r['size']} | {r['alg']} | {ops:,.1f} | {1000 / ops:.3f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
