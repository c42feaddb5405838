"""PKCS11Signer against a real SoftHSM2 token that this module initialises itself."""

from __future__ import annotations

import glob
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _local_ca import LocalCA, new_key
from conftest import UNDER_CI, require_tool
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding

from pakn_sign.errors import ConfigurationError, SigningError
from pakn_sign.signing.algorithms import SignatureAlgorithm, verify_with_key
from pakn_sign.signing.pkcs11_signer import PKCS11Signer
from pakn_sign.signing.pkcs11_uri import PKCS11URI
from pakn_sign.signing.signer_loader import load_signer
from pakn_sign.signing.signers import Signer

DATA = "Quyết định giải quyết kiến nghị".encode()
TOKEN = "pakn-test"
PIN = "1234"


def find_softhsm_module() -> str:
    """libsofthsm2.so: $SOFTHSM2_MODULE, then the Debian/Ubuntu/Fedora locations."""
    candidates = [os.environ.get("SOFTHSM2_MODULE", "")]
    candidates += [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib64/pkcs11/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ]
    candidates += glob.glob("/usr/lib/*/softhsm/libsofthsm2.so")
    for cand in candidates:
        if cand and Path(cand).is_file():
            return cand
    msg = "libsofthsm2.so not found: install the Debian package 'softhsm2'"
    if UNDER_CI:
        pytest.fail(msg)
    pytest.skip(msg)


@dataclass
class Token:
    module: str
    ca: LocalCA
    rsa_cert: x509.Certificate
    ec_cert: x509.Certificate
    ed_cert: x509.Certificate

    def uri(self, obj: str, *, pin: str | None = PIN, extra: str = "") -> str:
        q = f"module-path={self.module}" + (f"&pin-value={pin}" if pin is not None else "")
        return f"pkcs11:token={TOKEN};object={obj}{extra}?{q}"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    util = require_tool("softhsm2-util", "softhsm2")
    module = find_softhsm_module()
    import pkcs11
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
    from pkcs11.util.x509 import decode_x509_certificate

    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
        run = {"check": True, "env": env, "capture_output": True}
        subprocess.run(
            [util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "5678"],
            **run,  # type: ignore[call-overload]
        )
        ca = LocalCA.create()
        # RSA: made here, imported with softhsm2-util as PKCS#8 (the usual enrolment path).
        rsa_key = new_key("rsa2048")
        p8 = base / "rsa.p8"
        p8.write_bytes(
            rsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        subprocess.run(
            [
                util,
                "--import",
                str(p8),
                "--token",
                TOKEN,
                "--label",
                "official",
                "--id",
                "01",
                "--pin",
                PIN,
            ],
            **run,  # type: ignore[call-overload]
        )
        p8.unlink()
        rsa_cert = ca.issue(rsa_key.public_key(), "Trần Thị Cán Bộ")
        # EC and Ed25519: generated on the token; certificates issued by the local CA.
        pkcs11.lib(module).reinitialize()  # re-read SOFTHSM2_CONF
        tok = pkcs11.lib(module).get_token(token_label=TOKEN)
        with tok.open(rw=True, user_pin=PIN) as session:
            session.create_object(
                {
                    **decode_x509_certificate(rsa_cert.public_bytes(serialization.Encoding.DER)),
                    pkcs11.Attribute.LABEL: "official",
                    pkcs11.Attribute.ID: b"\x01",
                    pkcs11.Attribute.TOKEN: True,
                }
            )
            params = session.create_domain_parameters(
                pkcs11.KeyType.EC,
                {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                local=True,
            )
            ec_pub, _ = params.generate_keypair(store=True, label="seal", id=b"\x02")
            ec_key = serialization.load_der_public_key(encode_ec_public_key(ec_pub))
            ed_params = session.create_domain_parameters(
                pkcs11.KeyType.EC_EDWARDS,
                {pkcs11.Attribute.EC_PARAMS: bytes.fromhex("06032b6570")},  # OID 1.3.101.112
                local=True,
            )
            ed_pub, _ = ed_params.generate_keypair(
                store=True,
                label="ed",
                id=b"\x03",
                mechanism=pkcs11.Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
            )
            point = bytes(ed_pub[pkcs11.Attribute.EC_POINT])
            ed_key = ed25519.Ed25519PublicKey.from_public_bytes(point[-32:])
        assert isinstance(ec_key, ec.EllipticCurvePublicKey)
        yield Token(
            module,
            ca,
            rsa_cert,
            ca.issue(ec_key, "Văn thư Bộ Kiểm Thử"),
            ca.issue(ed_key, "Ký Ed25519"),
        )
        pkcs11.lib(module).reinitialize()


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def test_rsa_pkcs1_and_pss_on_token(token: Token) -> None:
    with PKCS11Signer(token.uri("official"), chain=[token.ca.cert]) as signer:
        assert isinstance(signer, Signer)
        assert signer.certificate_chain[0] == token.rsa_cert  # read from the token
        assert signer.certificate_chain[1] == token.ca.cert
        pub = token.rsa_cert.public_key()
        sig = signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA256)
        pub.verify(sig, DATA, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]
        pss = signer.sign_raw(DATA, SignatureAlgorithm.RSA_PSS_SHA256)
        pub.verify(  # type: ignore[union-attr,call-arg]
            pss,
            DATA,
            padding.PSS(padding.MGF1(hashes.SHA256()), 32),
            hashes.SHA256(),  # type: ignore[arg-type]
        )
        sig512 = signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA512)
        assert verify_with_key(pub, sig512, DATA, SignatureAlgorithm.RSA_SHA512)  # type: ignore[arg-type]


def test_ecdsa_p256_on_token_raw_r_s(token: Token) -> None:
    uri = token.uri("seal", extra=";id=%02")
    with PKCS11Signer(uri, chain=[token.ec_cert, token.ca.cert]) as signer:
        assert signer.default_algorithm is SignatureAlgorithm.ECDSA_SHA256
        sig = signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA256)
        assert len(sig) == 64
        assert verify_with_key(
            token.ec_cert.public_key(), sig, DATA, SignatureAlgorithm.ECDSA_SHA256
        )  # type: ignore[arg-type]
        sig384 = signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA384)
        assert verify_with_key(
            token.ec_cert.public_key(), sig384, DATA, SignatureAlgorithm.ECDSA_SHA384
        )  # type: ignore[arg-type]


def test_ed25519_on_token(token: Token) -> None:
    with PKCS11Signer(token.uri("ed"), chain=[token.ed_cert]) as signer:
        sig = signer.sign_raw(DATA, SignatureAlgorithm.ED25519)
        token.ed_cert.public_key().verify(sig, DATA)  # type: ignore[call-arg,union-attr]


def test_wrong_pin(token: Token) -> None:
    with pytest.raises(ConfigurationError, match="wrong PIN"):
        PKCS11Signer(token.uri("official", pin="9999"))


def test_caller_pin_and_pin_source(token: Token, tmp_path: Path) -> None:
    with PKCS11Signer(token.uri("official", pin=None), pin=PIN) as signer:
        assert signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA256)
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text(PIN + "\n")
    query = f"module-path={token.module}&pin-source=file:{pin_file}"
    uri = f"pkcs11:token={TOKEN};object=official?{query}"
    with PKCS11Signer(uri) as signer:
        assert signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA256)


def test_no_such_token_or_object(token: Token) -> None:
    with pytest.raises(ConfigurationError, match="no PKCS#11 token"):
        PKCS11Signer(f"pkcs11:token=khong-co;object=x?module-path={token.module}&pin-value=1")
    with pytest.raises(ConfigurationError, match="no private key"):
        PKCS11Signer(token.uri("khong-co"))
    with pytest.raises(ConfigurationError, match="no certificate"):
        PKCS11Signer(token.uri("seal"))  # no certificate on the token and no chain given
    with pytest.raises(ConfigurationError, match="does not exist"):
        PKCS11Signer("pkcs11:token=x;object=y?module-path=/nonexistent/lib.so")


def test_token_key_certificate_mismatch(token: Token) -> None:
    other = token.ca.issue(new_key("p256").public_key(), "Người khác")
    with pytest.raises(SigningError, match="does not match"):
        PKCS11Signer(token.uri("seal"), chain=[other])


def test_concurrent_signing_shares_one_session(token: Token) -> None:
    signer = PKCS11Signer(token.uri("seal"), chain=[token.ec_cert])
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                results.append(signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA256))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 40
    pub = token.ec_cert.public_key()
    assert all(verify_with_key(pub, s, DATA, SignatureAlgorithm.ECDSA_SHA256) for s in results)  # type: ignore[arg-type]
    signer.close()
    signer.close()
    with pytest.raises(SigningError, match="closed"):
        signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA256)


def test_loader_with_pkcs11_uri_and_chain(token: Token, tmp_path: Path) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(_pem(token.ec_cert, token.ca.cert))
    signer = load_signer(pkcs11=token.uri("seal"), chain=chain)
    assert isinstance(signer, PKCS11Signer)
    assert list(signer.certificate_chain) == [token.ec_cert, token.ca.cert]
    signer.close()


def test_sha1_refused_on_token(token: Token) -> None:
    with (
        PKCS11Signer(token.uri("official")) as signer,
        pytest.raises(ConfigurationError, match="SHA-1"),
    ):
        signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA1)


# --- RFC 7512 URI parsing (no token needed) ---------------------------------------------------


def test_uri_percent_decoding_and_id_bytes() -> None:
    uri = PKCS11URI.parse(
        "pkcs11:token=B%E1%BB%99%20T%C6%B0%20ph%C3%A1p;object=seal%3Bkey;id=%01%ff"
        "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2634"
    )
    assert uri.token == "Bộ Tư pháp"
    assert uri.object == "seal;key"
    assert uri.id == b"\x01\xff"
    assert uri.module_path == "/usr/lib/softhsm/libsofthsm2.so"
    assert uri.query["pin-value"] == "12&34"
    assert "12&34" not in uri.redacted()
    assert "pin-value=***" in uri.redacted()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("token=x", "starts with 'pkcs11:'"),
        ("pkcs11:token=a;token=b", "repeats"),
        ("pkcs11:colour=red", "unknown PKCS#11 URI path attribute"),
        ("pkcs11:token=a?pin=1", "unknown PKCS#11 URI query attribute"),
        ("pkcs11:type=banana", "not an object type"),
        ("pkcs11:token", "has no value"),
        ("pkcs11:token=a?pin-value=1&pin-source=/x", "both pin-value and pin-source"),
        ("pkcs11:token=a\nb", "invalid character"),
        ("pkcs11:token=%C3", "not UTF-8"),
    ],
)
def test_uri_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        PKCS11URI.parse(text)


def test_uri_vendor_attributes_kept() -> None:
    uri = PKCS11URI.parse("pkcs11:x-vendor=v;object=o?x-q=1")
    assert uri.vendor == {"x-vendor": "v", "x-q": "1"}
    assert uri.object == "o"


def test_pades_signature_with_a_token_key(token: Token) -> None:
    """Format code never sees the key: a PDF sealed on the token verifies like any other."""
    import datetime as dt

    from _pdf_letter import make_letter

    from pakn_sign.signing.pades import sign_pdf
    from pakn_sign.signing.pades_verify import verify_pdf
    from pakn_sign.trust.policy import RevocationMode, TrustPolicy

    at = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    with PKCS11Signer(token.uri("seal"), chain=[token.ec_cert]) as signer:
        signed = sign_pdf(make_letter(), signer, role="organisation", at=at)
    policy = TrustPolicy.from_anchors([token.ca.cert], revocation=RevocationMode.OFF)
    (info,) = verify_pdf(signed, policy=policy, at=at).signatures
    assert info.algorithm is SignatureAlgorithm.ECDSA_SHA256
    assert info.identity.common_name == "Văn thư Bộ Kiểm Thử"
    assert info.role == "organisation"
