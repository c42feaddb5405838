"""Public JWS vectors through our JWS layer: Wycheproof (every case) and the RFC 7520 cookbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import require_vectors, vectors_dir

from pakn_sign.errors import InvalidInput, PaknSignError, UnsupportedFeature
from pakn_sign.signing.algorithms import SignatureAlgorithm, sign_with_key
from pakn_sign.signing.b64 import b64url_decode, b64url_encode
from pakn_sign.signing.jws_jwk import (
    UnsafeJWSWarning,
    private_key_from_jwk,
    unsafe_verify_with_jwk,
    unsafe_verify_with_jwks,
    verify_with_jwk,
)
from pakn_sign.signing.jws_parse import parse_jws

# Cases where this snapshot contradicts itself; we assert the strict outcome instead and
# say why (the same eight are skipped as defective by other Wycheproof consumers).
DEFECTS: dict[int, tuple[bool, str]] = {
    367: (
        True,
        "jws is byte-identical to tcId 357 (valid); the padding its name describes is absent",
    ),
    370: (
        True,
        "jws is byte-identical to tcId 357 (valid); the padding its name describes is absent",
    ),
    372: (
        False,
        "'?' inside base64url: strict RFC 7515 §2 decoding refuses it; the MAC is not over it",
    ),
    373: (
        False,
        "'?' inside base64url: strict RFC 7515 §2 decoding refuses it; the MAC is not over it",
    ),
    346: (False, "JWK alg PS256 vs header PS384: contradicts WrongPrimitive cases 331-340"),
    350: (False, "JWK alg PS256 vs header PS384: contradicts WrongPrimitive cases 331-340"),
    347: (False, "JWK alg 'ES521' (unregistered) vs header ES512: the key is not for ES512"),
    351: (False, "JWK alg 'ES521' (unregistered) vs header ES512: the key is not for ES512"),
}


def _load(name: str) -> list[Any]:
    base = vectors_dir()
    path = base / "jws" / "wycheproof" / name if base else None
    if path is None or not path.exists():
        return [pytest.param(None, None, id="vectors-missing")]
    data = json.loads(path.read_text())
    return [
        pytest.param(g.get("public", g.get("private")), t, id=f"tc{t['tcId']}-{t['comment']}")
        for g in data["testGroups"]
        for t in g["tests"]
    ]


def _outcome(fn: Any, *args: Any, **kw: Any) -> bool:
    try:
        with pytest.warns(UnsafeJWSWarning):
            fn(*args, **kw)
    except PaknSignError:
        return False
    return True


@pytest.mark.parametrize(("key", "case"), _load("json_web_signature_test.json"))
def test_wycheproof_jws(key: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    require_vectors("jws/wycheproof/json_web_signature_test.json")
    assert key is not None
    assert case is not None
    jws = case["jws"] if isinstance(case["jws"], str) else json.dumps(case["jws"])
    expected = DEFECTS.get(case["tcId"], (case["result"] == "valid", ""))[0]
    assert _outcome(unsafe_verify_with_jwk, jws, key, allow_hmac=True) is expected


@pytest.mark.parametrize(("keys", "case"), _load("json_web_key_test.json"))
def test_wycheproof_jwk_sets(keys: dict[str, Any] | None, case: dict[str, Any] | None) -> None:
    require_vectors("jws/wycheproof/json_web_key_test.json")
    assert keys is not None
    assert case is not None
    expected = case["result"] == "valid"
    assert _outcome(unsafe_verify_with_jwks, case["jws"], keys, allow_hmac=True) is expected


def test_wycheproof_defects_are_really_defects() -> None:
    """Guard the DEFECTS table: it must describe the file as it is."""
    path = require_vectors("jws/wycheproof/json_web_signature_test.json")
    cases = {t["tcId"]: t for g in json.loads(path.read_text())["testGroups"] for t in g["tests"]}
    assert cases[367]["jws"] == cases[357]["jws"] == cases[370]["jws"]
    assert cases[357]["result"] == "valid"
    assert cases[367]["result"] == "invalid"
    for tc, (ours, _why) in DEFECTS.items():
        assert (cases[tc]["result"] == "valid") is not ours


def test_policy_free_verifier_refuses_hmac_even_with_the_right_key() -> None:
    path = require_vectors("jws/wycheproof/json_web_signature_test.json")
    group = json.loads(path.read_text())["testGroups"][0]
    with pytest.raises(UnsupportedFeature, match="MAC"):
        verify_with_jwk(group["tests"][0]["jws"], group["private"])


# --- RFC 7520 cookbook ---------------------------------------------------------------------


def _cookbook() -> list[Any]:
    base = vectors_dir()
    root = base / "jws" / "rfc7520" if base else None
    if root is None or not root.exists():
        return [pytest.param(None, "", id="vectors-missing")]
    files = sorted((root / "jws").glob("*.json")) + sorted((root / "rfc7797").glob("*.json"))
    files.append(root / "curve25519" / "jws.json")
    return [
        pytest.param(f, form, id=f"{f.parent.name}/{f.stem}-{form}")
        for f in files
        for form in json.loads(f.read_text())["output"]
    ]


# Strict profile: "alg" must be integrity protected (TS 119 182-1 §5.1.2, EXPECTED.md on 4_7).
ALG_UNPROTECTED = {("4_7.protecting_content_only", None), ("4_8.multiple_signatures", 1)}


def parse_protected_only(b64u: str) -> dict[str, Any]:
    return json.loads(b64url_decode(b64u))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("path", "form"), _cookbook())
def test_rfc7520_outputs_verify(path: Path | None, form: str) -> None:
    require_vectors("jws/rfc7520")
    assert path is not None
    vec = json.loads(path.read_text())
    out = vec["output"][form]
    data = out if isinstance(out, str) else json.dumps(out)
    payload = vec["input"]["payload"].encode()
    detached = payload if "detached" in path.stem else None
    keys = vec["input"]["key"] if isinstance(vec["input"]["key"], list) else [vec["input"]["key"]]
    for i, jwk in enumerate(keys):
        index = i if len(keys) > 1 else None
        if path.stem == "4.2.hmac-sha2_b64_false":
            # Its protected_b64u is {"alg":"HS256","b64":false}: "crit" is missing although
            # signing.protected lists it; RFC 7797 §6 requires b64 to be critical -> refuse.
            assert "crit" not in parse_protected_only(vec["signing"]["protected_b64u"])
            with pytest.raises(InvalidInput, match="crit"), pytest.warns(UnsafeJWSWarning):
                unsafe_verify_with_jwk(data, jwk, allow_hmac=True)
            continue
        if (path.stem, index) in ALG_UNPROTECTED:
            with pytest.raises(InvalidInput, match="protected"), pytest.warns(UnsafeJWSWarning):
                unsafe_verify_with_jwk(
                    data, jwk, allow_hmac=True, index=index, detached_payload=detached
                )
            continue
        with pytest.warns(UnsafeJWSWarning):
            got = unsafe_verify_with_jwk(
                data, jwk, allow_hmac=True, index=index, detached_payload=detached
            )
        assert got.payload == payload


def test_rfc7520_detached_payload_must_match() -> None:
    path = require_vectors("jws/rfc7520/jws/4_5.signature_with_detached_content.json")
    vec = json.loads(path.read_text())
    with pytest.raises(PaknSignError), pytest.warns(UnsafeJWSWarning):
        unsafe_verify_with_jwk(
            json.dumps(vec["output"]["json_flat"]), vec["input"]["key"], allow_hmac=True,
            detached_payload=b"another payload",
        )  # fmt: skip


@pytest.mark.parametrize(
    "sub", ["jws/4_1.rsa_v15_signature.json", "curve25519/jws.json"], ids=["RS256", "EdDSA"]
)
def test_rfc7520_reproducible_resign(sub: str) -> None:
    """Deterministic algorithms: our signing input and signer reproduce the signature bytes."""
    vec = json.loads(require_vectors(f"jws/rfc7520/{sub}").read_text())
    assert vec["reproducible"] is True
    key = private_key_from_jwk(vec["input"]["key"])
    alg = SignatureAlgorithm.from_jws(vec["input"]["alg"])
    parsed = parse_jws(vec["output"]["compact"], allow_compact=True)
    assert parsed.signatures[0].protected_b64 == vec["signing"]["protected_b64u"]
    assert parsed.signing_input(0).decode() == vec["signing"]["sig-input"]
    assert b64url_encode(sign_with_key(key, parsed.signing_input(0), alg)) == vec["signing"]["sig"]
    header = json.dumps(vec["signing"]["protected"], separators=(",", ":")).encode()
    assert b64url_encode(header) == vec["signing"]["protected_b64u"]
