"""JAdES sign/verify (4 KB PAKN Answer, RS256 and ES256) vs joserfc, jwcrypto and raw cryptography.

One process, one run: every row is measured side by side so the ratios are fair on a noisy
machine. Targets (brief): JAdES sign >= 0.9x raw RSA sign; JAdES verify with full trust
(chain to the anchor, CRL revocation, policy, model parse) >= 0.5x joserfc's bare compact
verify. Run: ``.venv/bin/python benchmarks/bench_jades.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from joserfc import jws as jose_jws
from joserfc.jwk import import_key as jose_import_key
from jwcrypto import jwk as jwc_jwk  # type: ignore[import-untyped]
from jwcrypto import jws as jwc_jws

from pakn_sign.codec.jsoncodec import to_json
from pakn_sign.models import Answer, DocumentRef, Official
from pakn_sign.signing.jades import sign_json
from pakn_sign.signing.jades_verify import verify_jades
from pakn_sign.signing.jws import DEFAULT_JWS_ALGORITHMS, sign_flattened, verify_flattened
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
PERSONAL = "official-g10"


def document(target: int = 4096) -> Answer:
    text = ""
    while True:
        doc = Answer(
            document_id="000.00.00.G10,2026/11/20,123/BNN-PAKN",
            case_id="000.00.00.G22,2026/11/01,45/PAKN",
            forwarding=DocumentRef(
                document_id="000.00.00.G22,2026/11/05,46/VPCP-PAKN", sha256="ab" * 32
            ),
            issuer="000.00.00.G10",
            issued_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
            official=Official(full_name="Trần Thị Bình", position="Vụ trưởng"),
            text=text or "Trả lời.",
        )
        if len(to_json(doc)) >= target:
            return doc
        text += "Bộ đã xem xét kiến nghị và trả lời như sau về thủ tục cấp giấy phép. "


def rate(fn: Callable[[], Any], seconds: float, batches: int = 5) -> float:
    """Median ops/s over ``batches`` batches of about ``seconds`` / batches, after calibration."""
    fn()
    n, t0 = 1, time.perf_counter()
    while time.perf_counter() - t0 < 0.05:
        fn()
        n += 1
    per_batch = max(1, int(n / (time.perf_counter() - t0) * seconds / batches))
    rates = []
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(per_batch):
            fn()
        rates.append(per_batch / (time.perf_counter() - t))
    return statistics.median(rates)


def paired(ours: Callable[[], Any], ref: Callable[[], Any], seconds: float) -> float:
    """Median over 9 rounds of (our rate / reference rate), the two timed back to back, so a
    noisy neighbour slows both sides of each ratio alike."""
    ratios = []
    for _ in range(9):
        ratios.append(rate(ours, seconds / 9, batches=1) / rate(ref, seconds / 9, batches=1))
    return statistics.median(ratios)


def run(seconds: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for alg, kind in (("RS256", "rsa2048"), ("ES256", "p256")):
        rows += bench_one(alg, kind, seconds)
    return rows


def bench_one(alg: str, kind: str, seconds: float) -> list[dict[str, Any]]:
    """Every row for one algorithm, on a fresh test PKI of that key type."""
    rows: list[dict[str, Any]] = []
    doc = document()
    payload = to_json(doc)
    msg32 = b"x" * 32
    pki = TestPKI.create(tempfile.mkdtemp(prefix=f"bench-{kind}-"), algorithm=kind, now=NOW)
    issued = pki.get(PERSONAL)
    key = issued.key
    signer = pki.signer(PERSONAL)
    policy = pki.policy()
    pub = issued.cert.public_key()
    pem_priv = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kty = "RSA" if alg == "RS256" else "EC"

    refs: dict[str, Callable[[], Any]] = {}

    def add(op: str, lib: str, fn: Callable[[], Any], note: str = "") -> None:
        refs[f"{lib}: {op}"] = fn
        rows.append(
            {
                "alg": alg,
                "op": op,
                "lib": lib,
                "ops_s": rate(fn, seconds),
                "doc": len(payload),
                "note": note,
            }
        )

    if isinstance(key, rsa.RSAPrivateKey):
        assert isinstance(pub, rsa.RSAPublicKey)
        sig32 = key.sign(msg32, padding.PKCS1v15(), hashes.SHA256())
        add(
            "sign",
            "raw cryptography",
            lambda: key.sign(msg32, padding.PKCS1v15(), hashes.SHA256()),
            "32 B",
        )
        add(
            "verify",
            "raw cryptography",
            lambda: pub.verify(sig32, msg32, padding.PKCS1v15(), hashes.SHA256()),
        )
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        sig32 = key.sign(msg32, ec.ECDSA(hashes.SHA256()))
        add(
            "sign",
            "raw cryptography",
            lambda: key.sign(msg32, ec.ECDSA(hashes.SHA256())),
            "32 B",
        )
        add(
            "verify",
            "raw cryptography",
            lambda: pub.verify(sig32, msg32, ec.ECDSA(hashes.SHA256())),
        )

    jose_key = jose_import_key(pem_priv, kty)  # type: ignore[call-overload]
    reg = jose_jws.JWSRegistry(algorithms=[alg])
    reg.max_header_length = 16_384
    reg.max_payload_length = 1 << 20
    token = jose_jws.serialize_compact({"alg": alg}, payload, jose_key, registry=reg)
    add(
        "compact sign",
        "joserfc",
        lambda: jose_jws.serialize_compact({"alg": alg}, payload, jose_key, registry=reg),
    )
    add(
        "compact verify (bare key)",
        "joserfc",
        lambda: jose_jws.deserialize_compact(token, jose_key, registry=reg),
    )

    jwc_key = jwc_jwk.JWK.from_pem(pem_priv)

    def jwc_sign() -> str:
        t = jwc_jws.JWS(payload)
        t.add_signature(jwc_key, None, protected=json.dumps({"alg": alg}))
        return str(t.serialize(compact=True))

    jwc_token = jwc_sign()

    def jwc_verify() -> None:
        t = jwc_jws.JWS()
        t.deserialize(jwc_token)
        t.verify(jwc_key, alg=alg)

    add("compact sign", "jwcrypto", jwc_sign)
    add("compact verify (bare key)", "jwcrypto", jwc_verify)

    flat = sign_flattened(payload, signer)
    add("flattened sign (x5c)", "pakn_sign JWS", lambda: sign_flattened(payload, signer))
    add(
        "flattened verify (x5c key, no trust)",
        "pakn_sign JWS",
        lambda: verify_flattened(flat, allowed=DEFAULT_JWS_ALGORITHMS),
    )

    signed = sign_json(doc, signer, role="personal", at=NOW)
    add(
        "JAdES B-B sign (model in)",
        "pakn_sign",
        lambda: sign_json(doc, signer, role="personal", at=NOW),
    )
    add(
        "JAdES verify, full trust",
        "pakn_sign",
        lambda: verify_jades(signed, policy=policy, at=NOW),
        "chain+CRL (path cache), policy, model parse",
    )
    pairs = [
        (
            "pakn_sign: JAdES B-B sign (model in)",
            "raw cryptography: sign",
            "target >= 0.9" if alg == "RS256" else "",
        ),
        ("pakn_sign JWS: flattened sign (x5c)", "raw cryptography: sign", ""),
        (
            "pakn_sign: JAdES verify, full trust",
            "joserfc: compact verify (bare key)",
            "target >= 0.5",
        ),
        (
            "pakn_sign JWS: flattened verify (x5c key, no trust)",
            "joserfc: compact verify (bare key)",
            "",
        ),
    ]
    for ours, ref, note in pairs:
        ratio = paired(refs[ours], refs[ref], seconds * 2)
        rows.append(
            {
                "alg": alg,
                "op": f"{ours} / {ref}",
                "lib": "paired ratio",
                "ratio": ratio,
                "note": note,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # joserfc's EdDSA/SecurityWarning noise is irrelevant here
    rows = run(0.6 if args.quick else 1.5)
    raw = {(r["alg"], r["op"]): r["ops_s"] for r in rows if r["lib"] == "raw cryptography"}
    jose_verify = {
        r["alg"]: r["ops_s"]
        for r in rows
        if r["lib"] == "joserfc" and r["op"].startswith("compact verify")
    }
    print("| alg | operation | library | doc B | ops/s | ms/op | vs raw | note |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    ratios = [r for r in rows if r["lib"] == "paired ratio"]
    rows = [r for r in rows if r["lib"] != "paired ratio"]
    for r in rows:
        base = raw.get((r["alg"], "verify" if "verify" in r["op"] else "sign"))
        r["vs_raw"] = r["ops_s"] / base if base else None
        cells = [r["alg"], r["op"], r["lib"], r["doc"], f"{r['ops_s']:,.0f}"]
        cells += [f"{1000 / r['ops_s']:.3f}", f"{r['vs_raw']:.2f}", r["note"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print("\nPaired ratios (median of 9 back-to-back rounds):")
    for r in ratios:
        print(f"- {r['alg']}: {r['op']} = {r['ratio']:.2f}x {r['note']}")
    print("\nIssue targets (paired ratios; unpaired rates from the table in brackets):")
    for r in ratios:
        if not r["note"].startswith("target >= "):
            continue
        goal = float(r["note"].removeprefix("target >= "))
        verdict = "met" if r["ratio"] >= goal else "missed"
        name = r["op"].split(" / ")[0]
        ours = next(x for x in rows if x["alg"] == r["alg"] and f"{x['lib']}: {x['op']}" == name)
        base = raw[(r["alg"], "sign")] if "sign" in ours["op"] else jose_verify[r["alg"]]
        what = (
            "JAdES sign / raw RSA sign"
            if "sign" in ours["op"]
            else "JAdES verify (full trust) / joserfc bare compact verify"
        )
        print(
            f"- {r['alg']}: {what} = {r['ratio']:.2f}x [{ours['ops_s'] / base:.2f}x]; "
            f"target >= {goal}x: {verdict}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows + ratios, fh, indent=1)


if __name__ == "__main__":
    main()
