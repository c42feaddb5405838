"""PAdES-B-B sign and validate: pakn_sign vs pyHanko's defaults, in the same run.

Run: ``.venv/bin/python benchmarks/bench_pades.py [--seconds S]``. Prints ops/s and ratios.
Target (issue 5): our sign ≥ 4x pyHanko's default ``sign_pdf``.

* "pyHanko default sign" = ``signers.sign_pdf`` with ``SimpleSigner.load`` (key from PEM),
  no ``bytes_reserved``: a dry-run signature to size ``/Contents`` and the private key
  re-parsed for both signatures (DESIGN.md §9), exactly as BASELINE.md measured it;
* "pakn_sign sign" = ``sign_pdf(role="personal")``: our ``LocalKeySigner`` bridged into
  pyHanko, placeholder reserved up front, one signature; invisible and visible (a
  Vietnamese appearance in DejaVu Sans, font prepared once per process);
* "pyHanko validate" = ``validate_pdf_signature`` with a fresh ``ValidationContext``
  (trust root only, no revocation), as BASELINE.md; "pakn_sign verify" = ``verify_pdf``
  with a policy (revocation off, then hard-fail with the PKI's CRLs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from _pdf_letter import make_letter  # noqa: E402
from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402

from pakn_sign.signing.pades import SignatureAppearance, sign_pdf  # noqa: E402
from pakn_sign.signing.pades_verify import verify_pdf  # noqa: E402
from pakn_sign.trust.policy import RevocationMode  # noqa: E402
from pakn_sign.trust.testpki import TestPKI  # noqa: E402

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn()`` over about ``seconds`` (after a warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pades-"))
    pki = TestPKI.create(tmp / "pki", now=NOW)
    official = pki.officials["official-g22"]
    pdf = make_letter()
    ours = official.signer()

    # pyHanko as BASELINE.md ran it: key from a PEM file, dry-run sizing.
    key_pem = tmp / "key.pem"
    key_pem.write_bytes(
        official.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    simple = signers.SimpleSigner.load(
        str(key_pem), str(official.pem_path), ca_chain_files=(str(official.chain_path),)
    )
    meta = signers.PdfSignatureMetadata(
        field_name="ChuKySo1", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )

    def pyhanko_sign() -> bytes:
        w = IncrementalPdfFileWriter(io.BytesIO(pdf))
        return bytes(signers.sign_pdf(w, meta, signer=simple).getvalue())

    def our_sign() -> bytes:
        return sign_pdf(pdf, ours, role="personal", at=NOW)

    appearance = SignatureAppearance("Nguyễn Văn An", position="Vụ trưởng", agency="VPCP")

    def our_sign_visible() -> bytes:
        return sign_pdf(pdf, ours, role="personal", at=NOW, appearance=appearance)

    root_a = asn1_x509.Certificate.load(pki.root.cert.public_bytes(serialization.Encoding.DER))
    signed_py = pyhanko_sign()
    signed_ours = our_sign()

    def pyhanko_validate() -> None:
        r = PdfFileReader(io.BytesIO(signed_ours))
        vc = ValidationContext(trust_roots=[root_a], allow_fetching=False)
        st = validate_pdf_signature(r.embedded_signatures[0], vc)
        assert st.bottom_line

    policy_off = pki.policy(revocation=RevocationMode.OFF)
    policy_crl = pki.policy()

    def our_verify_off() -> None:
        verify_pdf(signed_ours, policy=policy_off, at=NOW)

    def our_verify_crl() -> None:
        verify_pdf(signed_ours, policy=policy_crl, at=NOW)

    assert verify_pdf(signed_py, policy=policy_off, at=NOW).signatures  # interop both ways
    s = args.seconds
    rows = [
        ("sign", "pyHanko 0.38 default sign_pdf (dry run, key re-parsed)", rate(pyhanko_sign, s)),
        ("sign", "pakn_sign sign_pdf B-B, invisible", rate(our_sign, s)),
        ("sign", "pakn_sign sign_pdf B-B, visible Vietnamese stamp", rate(our_sign_visible, s)),
        (
            "verify",
            "pyHanko validate_pdf_signature (fresh context, no revocation)",
            rate(pyhanko_validate, s),
        ),
        ("verify", "pakn_sign verify_pdf (revocation off)", rate(our_verify_off, s)),
        ("verify", "pakn_sign verify_pdf (hard-fail, local CRLs)", rate(our_verify_crl, s)),
    ]
    base = {"sign": rows[0][2], "verify": rows[3][2]}
    print(f"PAdES, 1-page letter ({len(pdf)} B), RSA-2048, {s:.0f} s per row")
    print(f"{'op':<7} {'implementation':<64} {'ops/s':>8} {'vs pyHanko':>10}")
    for op, name, r in rows:
        print(f"{op:<7} {name:<64} {r:8.1f} {r / base[op]:9.2f}x")


if __name__ == "__main__":
    main()
