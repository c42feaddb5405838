"""Signer backends: PEM, PKCS#12, remote callable; the loader and the CLI options."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from _local_ca import LocalCA, new_key
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pakn_sign.cli._signer_options import signer_options
from pakn_sign.errors import ConfigurationError, SigningError
from pakn_sign.signing.algorithms import SignatureAlgorithm, sign_with_key, verify_with_key
from pakn_sign.signing.remote_signer import RemoteSigner
from pakn_sign.signing.signer_loader import load_signer
from pakn_sign.signing.signers import LocalKeySigner, Signer

DATA = "Trả lời kiến nghị số 12/VPCP".encode()


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA.create()


def _pem_key(key: object, password: bytes | None = None) -> bytes:
    enc = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
    )


def _write_pem_set(
    tmp: Path, ca: LocalCA, kind: str, password: bytes | None = None
) -> dict[str, Path]:
    key = new_key(kind)
    cert = ca.issue(key.public_key(), f"Nguyễn Văn {kind}")
    paths = {"key": tmp / "k.pem", "cert": tmp / "c.pem", "chain": tmp / "chain.pem"}
    paths["key"].write_bytes(_pem_key(key, password))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["chain"].write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    return paths


@pytest.mark.parametrize(
    ("kind", "alg"),
    [
        ("rsa2048", SignatureAlgorithm.RSA_SHA256),
        ("rsa2048", SignatureAlgorithm.RSA_PSS_SHA256),
        ("p256", SignatureAlgorithm.ECDSA_SHA256),
        ("ed25519", SignatureAlgorithm.ED25519),
    ],
)
def test_pem_signer_signs_and_verifies(
    tmp_path: Path, ca: LocalCA, kind: str, alg: SignatureAlgorithm
) -> None:
    paths = _write_pem_set(tmp_path, ca, kind)
    signer = load_signer(key=paths["key"], cert=paths["cert"], chain=paths["chain"])
    assert isinstance(signer, Signer)
    assert [c.subject for c in signer.certificate_chain] == [
        signer.certificate_chain[0].subject,
        ca.cert.subject,
    ]
    sig = signer.sign_raw(DATA, alg)
    pub = signer.certificate_chain[0].public_key()
    assert verify_with_key(pub, sig, DATA, alg)  # type: ignore[arg-type]
    assert not verify_with_key(pub, sig, DATA + b"x", alg)  # type: ignore[arg-type]


def test_encrypted_pem_needs_its_password(tmp_path: Path, ca: LocalCA) -> None:
    paths = _write_pem_set(tmp_path, ca, "p256", password=b"m4t-kh4u")
    signer = load_signer(key=paths["key"], cert=paths["cert"], password="m4t-kh4u")
    assert signer.default_algorithm is SignatureAlgorithm.ECDSA_SHA256
    with pytest.raises(ConfigurationError, match="cannot load PEM"):
        load_signer(key=paths["key"], cert=paths["cert"], password="sai")


@pytest.fixture(scope="module")
def p12_file(tmp_path_factory: pytest.TempPathFactory, ca: LocalCA) -> Path:
    key = new_key("rsa2048")
    cert = ca.issue(key.public_key(), "Văn thư Bộ Kiểm Thử")
    data = pkcs12.serialize_key_and_certificates(
        b"seal",
        key,  # type: ignore[arg-type]
        cert,
        [ca.cert],
        serialization.BestAvailableEncryption(b"m\xe1\xba\xadt-kh\xe1\xba\xa9u"),
    )
    path = tmp_path_factory.mktemp("p12") / "seal.p12"
    path.write_bytes(data)
    return path


def test_pkcs12_with_password(p12_file: Path, ca: LocalCA) -> None:
    signer = load_signer(p12=p12_file, password="mật-khẩu")
    assert len(signer.certificate_chain) == 2
    assert signer.certificate_chain[1] == ca.cert
    sig = signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA256)
    key = signer.certificate_chain[0].public_key()
    assert verify_with_key(key, sig, DATA, SignatureAlgorithm.RSA_SHA256)  # type: ignore[arg-type]


def test_pkcs12_wrong_password(p12_file: Path) -> None:
    with pytest.raises(ConfigurationError, match="PKCS#12"):
        load_signer(p12=p12_file, password="wrong")
    with pytest.raises(ConfigurationError):
        load_signer(p12=p12_file)


def test_key_certificate_mismatch(tmp_path: Path, ca: LocalCA) -> None:
    paths = _write_pem_set(tmp_path, ca, "rsa2048")
    other = ca.issue(new_key("rsa2048").public_key(), "Người khác")
    paths["cert"].write_bytes(other.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(SigningError, match="does not match"):
        load_signer(key=paths["key"], cert=paths["cert"])


def test_sha1_refused_for_new_signatures(tmp_path: Path, ca: LocalCA) -> None:
    paths = _write_pem_set(tmp_path, ca, "rsa2048")
    signer = load_signer(key=paths["key"], cert=paths["cert"])
    with pytest.raises(ConfigurationError, match="SHA-1"):
        signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA1)


def test_rsa1024_refused_for_new_signatures(ca: LocalCA) -> None:
    key = new_key("rsa1024")
    signer = LocalKeySigner(key, [ca.issue(key.public_key(), "Khóa yếu")])
    with pytest.raises(ConfigurationError, match="RSA-1024"):
        signer.sign_raw(DATA, SignatureAlgorithm.RSA_SHA256)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"p12": "a.p12", "key": "k.pem"}, {"pkcs11": "pkcs11:token=x", "key": "k.pem"}],
)
def test_loader_needs_exactly_one_source(kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="exactly one key source"):
        load_signer(**kwargs)  # type: ignore[arg-type]


def test_loader_key_needs_cert_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--cert"):
        load_signer(key=tmp_path / "k.pem")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_signer(key=tmp_path / "k.pem", cert=tmp_path / "c.pem")


# --- remote signer --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def remote_parts(ca: LocalCA) -> tuple[object, list[object]]:
    key = new_key("p256")
    return key, [ca.issue(key.public_key(), "Ký số từ xa"), ca.cert]


def test_remote_signer_signature_is_checked_and_returned(remote_parts: tuple) -> None:  # type: ignore[type-arg]
    key, chain = remote_parts
    calls: list[SignatureAlgorithm] = []

    def service(data: bytes, alg: SignatureAlgorithm) -> bytes:
        calls.append(alg)
        return sign_with_key(key, data, alg)

    signer = RemoteSigner(service, chain)
    assert isinstance(signer, Signer)
    sig = signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA256)
    assert len(sig) == 64
    assert verify_with_key(chain[0].public_key(), sig, DATA, SignatureAlgorithm.ECDSA_SHA256)
    assert calls == [SignatureAlgorithm.ECDSA_SHA256]


def test_attack_remote_signer_returns_garbage(remote_parts: tuple) -> None:  # type: ignore[type-arg]
    _, chain = remote_parts
    signer = RemoteSigner(lambda data, alg: b"\x01" * 64, chain)
    with pytest.raises(SigningError, match="does not verify"):
        signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA256)


def test_attack_remote_signer_signs_with_another_key(remote_parts: tuple) -> None:  # type: ignore[type-arg]
    _, chain = remote_parts
    other = new_key("p256")
    signer = RemoteSigner(lambda data, alg: sign_with_key(other, data, alg), chain)  # type: ignore[arg-type]
    with pytest.raises(SigningError, match="does not verify"):
        signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA256)


def test_remote_signer_failure_is_wrapped(remote_parts: tuple) -> None:  # type: ignore[type-arg]
    _, chain = remote_parts

    def down(data: bytes, alg: SignatureAlgorithm) -> bytes:
        raise TimeoutError("service unavailable")

    with pytest.raises(SigningError, match="TimeoutError"):
        RemoteSigner(down, chain).sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA256)


def test_remote_signer_refuses_sha1_before_calling(remote_parts: tuple) -> None:  # type: ignore[type-arg]
    _key, chain = remote_parts
    called = []
    signer = RemoteSigner(lambda d, a: called.append(a) or b"", chain)  # type: ignore[func-returns-value]
    with pytest.raises(ConfigurationError, match="SHA-1"):
        signer.sign_raw(DATA, SignatureAlgorithm.ECDSA_SHA1)
    assert called == []
    with pytest.raises(ConfigurationError, match="does not fit"):
        RemoteSigner(lambda d, a: b"", chain, algorithm=SignatureAlgorithm.RSA_SHA256)


# --- CLI options ----------------------------------------------------------------------------


@click.command()
@signer_options()
def _show(signer: Signer) -> None:
    click.echo(signer.certificate_chain[0].subject.rfc4514_string())
    click.echo(signer.sign_raw(DATA, signer.default_algorithm).hex()[:8])


def test_signer_options_pem_and_p12(tmp_path: Path, ca: LocalCA, p12_file: Path) -> None:
    paths = _write_pem_set(tmp_path, ca, "ed25519")
    runner = CliRunner()
    res = runner.invoke(_show, ["--key", str(paths["key"]), "--cert", str(paths["cert"])])
    assert res.exit_code == 0, res.output
    assert "Nguyễn Văn ed25519" in res.output
    res = runner.invoke(
        _show, ["--p12", str(p12_file), "--password-env", "P12_PW"], env={"P12_PW": "mật-khẩu"}
    )
    assert res.exit_code == 0, res.output
    assert "Văn thư" in res.output
    res = runner.invoke(_show, ["--p12", str(p12_file)], input="mật-khẩu\n")
    assert res.exit_code == 0, res.output


def test_signer_options_errors(p12_file: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_show, [])
    assert res.exit_code == 2
    assert "give a key" in res.output
    res = runner.invoke(_show, ["--p12", str(p12_file), "--password-env", "NOPE_UNSET_VAR"])
    assert isinstance(res.exception, ConfigurationError)
    assert "NOPE_UNSET_VAR" in str(res.exception)


def test_pss_signature_uses_hash_length_salt(tmp_path: Path, ca: LocalCA) -> None:
    from cryptography.hazmat.primitives.asymmetric import padding

    paths = _write_pem_set(tmp_path, ca, "rsa2048")
    signer = load_signer(key=paths["key"], cert=paths["cert"])
    sig = signer.sign_raw(DATA, SignatureAlgorithm.RSA_PSS_SHA256)
    pub = signer.certificate_chain[0].public_key()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    pub.verify(sig, DATA, pss, hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]
