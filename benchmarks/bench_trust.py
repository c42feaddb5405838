"""Path validation of a 3-certificate RSA-2048 chain: pakn_sign (cold, cached) vs bare
pyhanko-certvalidator and cryptography's PolicyBuilder, in the same run.

Run: ``.venv/bin/python benchmarks/bench_trust.py [--seconds S]``. Prints ops/s and ratios.
Target (issue 3): cached ≥ 5x bare certvalidator.

* "cold" = ``validate_chain`` at an earlier instant each call (a miss every time: a cached
  window never reaches back before the instant it was validated at);
* "cached" = ``validate_chain`` with the same inputs (LRU hit);
* "certvalidator" = a fresh ``ValidationContext`` + ``CertificateValidator.async_validate_path``
  + key-usage check per call, as pyHanko does;
* "cryptography" = one reused ``ClientVerifier`` from ``PolicyBuilder`` with a document-signing
  ``ExtensionPolicy`` (KeyUsage digitalSignature/nonRepudiation, no EKU requirement). It has no
  revocation checking, so every contender runs with revocation off in the main table; a
  second table adds CRLs for the two that can check them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from asn1crypto import x509 as asn1_x509  # noqa: E402
from certs_helpers import make_chain, make_crl  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.x509 import verification as xv  # noqa: E402
from pyhanko_certvalidator import CertificateValidator, ValidationContext  # noqa: E402

from pakn_sign.trust.paths import clear_chain_cache, validate_chain  # noqa: E402
from pakn_sign.trust.policy import RevocationMode, TrustPolicy  # noqa: E402

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def rate(fn: Callable[[int], object], seconds: float) -> float:
    """Calls per second of ``fn(i)`` over about ``seconds`` (after a short warm-up)."""
    for i in range(3):
        fn(i)
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(10):
            fn(n)
            n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def der(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.DER)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    chain = make_chain(key_kind="rsa2048", crl_url="http://127.0.0.1:9/ca.crl")
    leaf, inter, root = chain.leaf.cert, chain.intermediate.cert, chain.root.cert
    crls = (make_crl(chain.intermediate), make_crl(chain.root))

    def ours(mode: RevocationMode) -> TrustPolicy:
        return TrustPolicy.from_anchors([root], intermediates=[inter], crls=crls, revocation=mode)

    def bare(mode: str) -> Callable[[int], object]:
        a_leaf, a_inter, a_root = (asn1_x509.Certificate.load(der(c)) for c in (leaf, inter, root))

        def run(i: int) -> object:
            ctx = ValidationContext(
                trust_roots=[a_root],
                other_certs=[a_inter],
                moment=AT + dt.timedelta(microseconds=i),
                crls=list(crls) if mode != "none" else [],
                ocsps=[],
                revocation_mode=mode,
            )
            v = CertificateValidator(a_leaf, validation_context=ctx)
            return asyncio.run(v.async_validate_usage({"digital_signature"}))

        return run

    def ku_ok(policy: object, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
        if ku is None or not (ku.digital_signature or ku.content_commitment):
            raise ValueError("KeyUsage must allow digitalSignature or nonRepudiation")

    ee = xv.ExtensionPolicy.permit_all().require_present(
        x509.KeyUsage, xv.Criticality.AGNOSTIC, ku_ok
    )
    verifier = (
        xv.PolicyBuilder()
        .store(xv.Store([root]))
        .time(AT)
        .extension_policies(ca_policy=xv.ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
        .build_client_verifier()
    )

    def crypto(i: int) -> object:
        return verifier.verify(leaf, [inter])

    results: dict[str, float] = {}
    off = ours(RevocationMode.OFF)
    results["pakn_sign cold"] = rate(
        lambda i: validate_chain(leaf, policy=off, at=AT - dt.timedelta(microseconds=i)),
        args.seconds,
    )
    clear_chain_cache()
    results["pakn_sign cached"] = rate(
        lambda i: validate_chain(leaf, policy=off, at=AT), args.seconds
    )
    results["bare certvalidator"] = rate(bare("none"), args.seconds)
    results["cryptography PolicyBuilder"] = rate(crypto, args.seconds)

    with_crl: dict[str, float] = {}
    hard = ours(RevocationMode.HARD_FAIL)
    with_crl["pakn_sign cold"] = rate(
        lambda i: validate_chain(leaf, policy=hard, at=AT - dt.timedelta(microseconds=i)),
        args.seconds,
    )
    with_crl["pakn_sign cached"] = rate(
        lambda i: validate_chain(leaf, policy=hard, at=AT), args.seconds
    )
    with_crl["bare certvalidator"] = rate(bare("hard-fail"), args.seconds)

    for title, table in (("revocation off", results), ("with CRLs (hard-fail)", with_crl)):
        base = table["bare certvalidator"]
        print(f"\n3-certificate RSA-2048 chain, {title}")
        print(f"{'contender':32} {'ops/s':>12} {'vs certvalidator':>18}")
        for name, ops in table.items():
            print(f"{name:32} {ops:12,.0f} {ops / base:17.1f}x")
    ratio = with_crl["pakn_sign cached"] / with_crl["bare certvalidator"]
    verdict = "met" if ratio >= 5 else "NOT met"
    print(f"\ntarget cached >= 5x bare certvalidator (with CRLs): {ratio:.0f}x, {verdict}")


if __name__ == "__main__":
    main()
