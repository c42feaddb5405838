"""``pakn-sign cert show`` and ``pakn-sign cert verify``: output and exit codes of DESIGN.md §7."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import jsonschema
import pytest
from certs_helpers import Chain, make_chain, make_crl
from conftest import ROOT
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pakn_sign.cli.main import main

AT = "2026-06-01T00:00:00Z"
REVOKED_AT = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli-cert")
    c: Chain = make_chain(crl_url="http://127.0.0.1:9/ca.crl")
    out = {
        "leaf": d / "leaf.pem",
        "leaf_der": d / "leaf.cer",
        "root": d / "root.pem",
        "inter": d / "inter.pem",
        "crl": d / "ca.crl",
        "root_crl": d / "root.crl",
        "revoking_crl": d / "revoking.crl",
        "other_root": d / "other.pem",
        "garbage": d / "garbage.pem",
    }
    out["leaf"].write_bytes(c.leaf.pem)
    out["leaf_der"].write_bytes(c.leaf.der)
    out["root"].write_bytes(c.root.pem)
    out["inter"].write_bytes(c.intermediate.pem)
    out["crl"].write_bytes(make_crl(c.intermediate))
    out["root_crl"].write_bytes(make_crl(c.root))
    out["revoking_crl"].write_bytes(make_crl(c.intermediate, revoked=[(c.leaf.cert, REVOKED_AT)]))
    out["other_root"].write_bytes(make_chain().root.pem)
    out["garbage"].write_bytes(b"not a certificate at all")
    return out


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _verify_args(files, *extra: str) -> list[str]:
    return [
        "cert",
        "verify",
        str(files["leaf"]),
        "--trust",
        str(files["root"]),
        "--untrusted",
        str(files["inter"]),
        "--at",
        AT,
        *extra,
    ]


def test_show_pem(capsys, files):
    code, out, _ = run(capsys, "cert", "show", str(files["leaf"]))
    assert code == 0
    assert "Kind:      person" in out
    assert "cccd: 001089020747" in out
    assert "digitalSignature, nonRepudiation" in out
    assert "http://127.0.0.1:9/ca.crl" in out


def test_show_der_json(capsys, files):
    code, out, _ = run(capsys, "cert", "show", "--json", str(files["leaf_der"]))
    assert code == 0
    info = json.loads(out)
    assert info["identity"]["identifiers"] == {"cccd": "001089020747"}
    assert info["key"]["type"] == "EC"


def test_show_garbage_is_input_error(capsys, files):
    code, _, err = run(capsys, "cert", "show", str(files["garbage"]))
    assert code == 4
    assert "FAIL" in err


@pytest.mark.parametrize("damage", ["name", "version"])
def test_attack_show_malformed_certificate_is_input_error(capsys, files, tmp_path, damage):
    # cryptography loads a certificate whose names are invalid UTF-8 (decoded lazily) and
    # raises x509.InvalidVersion (not a ValueError) for version 95: both are bad input (4).
    der = files["leaf_der"].read_bytes()
    if damage == "name":
        cn = x509.load_der_x509_certificate(der).subject.rfc4514_string().encode()
        value = cn.split(b"CN=")[1].split(b",")[0]
        assert der.count(value) == 1
        der = der.replace(value, b"\xff" * len(value))
    else:
        assert der.count(bytes.fromhex("a003020102")) == 1
        der = der.replace(bytes.fromhex("a003020102"), bytes.fromhex("a00302015e"))
    bad = tmp_path / "bad.cer"
    bad.write_bytes(der)
    code, _, err = run(capsys, "cert", "show", str(bad))
    assert code == 4
    assert "FAIL" in err


def test_verify_passed(capsys, files):
    code, out, err = run(
        capsys, *_verify_args(files, "--crl", str(files["crl"]), "--crl", str(files["root_crl"]))
    )
    assert code == 0
    assert out.startswith("Result: TOTAL_PASSED")
    assert "OK: TOTAL_PASSED" in err


def test_verify_revoked_exit_1(capsys, files):
    args = _verify_args(files, "--crl", str(files["revoking_crl"]), "--crl", str(files["root_crl"]))
    code, out, err = run(capsys, *args, "--json")
    assert code == 1
    report = json.loads(out)
    assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")
    assert "FAIL: TOTAL_FAILED / REVOKED" in err


def test_verify_missing_revocation_exit_3(capsys, files):
    code, _, err = run(capsys, *_verify_args(files, "--revocation", "hard"))
    assert code == 3
    assert "TRY_LATER" in err


def test_verify_revocation_off_passes(capsys, files):
    code, _, _ = run(capsys, *_verify_args(files, "--revocation", "off"))
    assert code == 0


def test_verify_json_matches_schema_and_html_written(capsys, files, tmp_path):
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text("utf-8"))
    html = tmp_path / "r.html"
    code, out, _ = run(
        capsys, *_verify_args(files, "--revocation", "off", "--json", "--html", str(html))
    )
    assert code == 0
    jsonschema.Draft202012Validator(schema).validate(json.loads(out))
    assert 'data-indication="TOTAL_PASSED"' in html.read_text("utf-8")


def test_verify_unknown_anchor_is_indeterminate(capsys, files):
    args = [
        "cert",
        "verify",
        str(files["leaf"]),
        "--trust",
        str(files["other_root"]),
        "--untrusted",
        str(files["inter"]),
        "--at",
        AT,
        "--revocation",
        "off",
    ]
    code, _, err = run(capsys, *args)
    assert code == 3
    assert "NO_CERTIFICATE_CHAIN_FOUND" in err


def test_verify_expired_is_indeterminate(capsys, files):
    code, _, err = run(
        capsys,
        "cert",
        "verify",
        str(files["leaf"]),
        "--trust",
        str(files["root"]),
        "--untrusted",
        str(files["inter"]),
        "--at",
        "2030-01-01T00:00:00+07:00",
        "--revocation",
        "off",
    )
    assert code == 3
    assert "OUT_OF_BOUNDS_NO_POE" in err


@pytest.mark.parametrize("at", ["2026-06-01T00:00:00", "yesterday"])
def test_verify_bad_time_is_usage_error(capsys, files, at):
    args = ["cert", "verify", str(files["leaf"]), "--trust", str(files["root"]), "--at", at]
    assert run(capsys, *args)[0] == 2


def test_verify_without_trust_is_usage_error(capsys, files):
    assert run(capsys, "cert", "verify", str(files["leaf"]))[0] == 2


def test_verify_garbage_certificate_is_input_error(capsys, files):
    args = ["cert", "verify", str(files["garbage"]), "--trust", str(files["root"])]
    assert run(capsys, *args)[0] == 4


def test_verify_wrong_purpose_fails(capsys, files):
    code, _, err = run(
        capsys, *_verify_args(files, "--revocation", "off", "--purpose", "timestamping")
    )
    assert code == 3  # CHAIN_CONSTRAINTS_FAILURE is INDETERMINATE in EN 319 102-1
    assert "CHAIN_CONSTRAINTS_FAILURE" in err


# --- live OCSP through --ocsp-url (pakn-sign pki serve) ------------------------------------


def _pki_files(test_pki, tmp_path: Path, name: str) -> list[str]:
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    (tmp_path / "leaf.pem").write_bytes(pem(test_pki.get(name).cert))
    (tmp_path / "root.pem").write_bytes(pem(test_pki.root.cert))
    (tmp_path / "inter.pem").write_bytes(pem(test_pki.intermediate.cert))
    (tmp_path / "root.crl").write_bytes(test_pki.root_crl)
    return [
        "cert",
        "verify",
        str(tmp_path / "leaf.pem"),
        "--trust",
        str(tmp_path / "root.pem"),
        "--untrusted",
        str(tmp_path / "inter.pem"),
        "--crl",
        str(tmp_path / "root.crl"),
        "--at",
        test_pki.now.isoformat(),
        "--revocation",
        "require",
    ]


def test_ocsp_url_good(capsys, pki_service, test_pki, tmp_path):
    official = next(iter(test_pki.officials))
    code, _, err = run(
        capsys, *_pki_files(test_pki, tmp_path, official), "--ocsp-url", pki_service.ocsp_url
    )
    assert code == 0, err


def test_ocsp_url_revoked(capsys, pki_service, test_pki, tmp_path):
    code, _, err = run(
        capsys, *_pki_files(test_pki, tmp_path, "revoked"), "--ocsp-url", pki_service.ocsp_url
    )
    assert code == 1
    assert "REVOKED" in err


def test_ocsp_url_unreachable_is_transport_error(capsys, test_pki, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    official = next(iter(test_pki.officials))
    args = _pki_files(test_pki, tmp_path, official)
    code, _, _ = run(capsys, *args, "--ocsp-url", f"http://127.0.0.1:{port}/ocsp")
    assert code == 5
