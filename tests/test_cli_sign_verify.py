"""``pakn-sign sign``, ``verify``, ``inspect``: exit codes 0-4, JSON shape, HTML, extract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from xades_helpers import answer

from pakn_sign.cli.main import main
from pakn_sign.codec.xmlcodec import to_xml
from pakn_sign.verify import verify

AT = "2026-11-20T09:30:00+00:00"


@pytest.fixture(scope="module")
def files(test_pki, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    unsigned = d / "answer.xml"
    unsigned.write_bytes(to_xml(answer()))
    pki_dir = test_pki.directory
    return {
        "dir": d,
        "unsigned": unsigned,
        "root": pki_dir / "ca" / "root.pem",
        "inter": pki_dir / "ca" / "intermediate.pem",
        "root_crl": pki_dir / "crl" / "root.crl",
        "inter_crl": pki_dir / "crl" / "intermediate.crl",
    }


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def trust(files) -> list[str]:
    return [
        "--trust",
        files["root"],
        "--untrusted",
        files["inter"],
        "--crl",
        files["root_crl"],
        "--crl",
        files["inter_crl"],
        "--at",
        AT,
    ]


@pytest.fixture(scope="module")
def signed(test_pki, files) -> Path:
    """Personal (PEM key) then organisation (PKCS#12) signatures, made through the CLI."""
    personal = files["dir"] / "personal.xml"
    official = test_pki.get("official-g10")
    assert (
        main(
            [
                "sign",
                str(files["unsigned"]),
                "-o",
                str(personal),
                "--key",
                str(official.key_path),
                "--cert",
                str(official.pem_path),
                "--chain",
                str(official.chain_path),
                "--role",
                "personal",
                "--at",
                AT,
            ]
        )
        == 0
    )
    both = files["dir"] / "both.xml"
    seal = test_pki.get("000.00.00.G10")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAKN_TEST_P12_PASSWORD", test_pki.password)
        code = main(
            [
                "sign",
                str(personal),
                "-o",
                str(both),
                "--p12",
                str(seal.p12_path),
                "--password-env",
                "PAKN_TEST_P12_PASSWORD",
                "--role",
                "organisation",
                "--at",
                AT,
            ]
        )
    assert code == 0
    return both


def test_sign_then_verify_exit_0(capsys, files, signed):
    code, out, err = run(capsys, "verify", signed, *trust(files))
    assert code == 0, err
    assert out == ""
    assert err.startswith("OK: answer")
    assert "personal" in err
    assert "organisation" in err


def test_verify_json_shape(capsys, files, signed):
    code, out, _ = run(capsys, "verify", signed, *trust(files), "--json")
    assert code == 0
    report = json.loads(out)
    assert {"indication", "sub_indication", "validation_time", "document", "signatures"} <= set(
        report
    )
    assert report["indication"] == "TOTAL_PASSED"
    assert report["document"] == {"kind": "answer", "id": answer().document_id}
    assert report["validation_time"].startswith("2026-11-20T09:30:00")
    s1, s2 = report["signatures"]
    for s in (s1, s2):
        assert {
            "id",
            "role",
            "indication",
            "sub_indication",
            "signer",
            "signing_time",
            "timestamp_time",
            "level",
            "scope",
            "chain",
        } <= set(s)
        assert {"subject", "issuer", "serial", "identifiers"} <= set(s["signer"])
    assert (s1["role"], s2["role"]) == ("personal", "organisation")
    assert s2["scope"] == ["#pakn-doc", "#sig-1", "#sig-2-signedprops"]
    assert s1["signer"]["identifiers"]["cccd"] == "001190000010"


def test_verify_html(capsys, files, signed, tmp_path):
    html = tmp_path / "report.html"
    code, _, _ = run(capsys, "verify", signed, *trust(files), "--html", html)
    assert code == 0
    page = html.read_text(encoding="utf-8")
    assert "<html" in page.lower()
    assert "TOTAL_PASSED" in page


def test_verify_extract_writes_exactly_the_signed_bytes(capsys, test_pki, files, signed, tmp_path):
    out = tmp_path / "doc.xml"
    code, _, _ = run(capsys, "verify", signed, *trust(files), "--extract", out)
    assert code == 0
    import datetime as dt

    result = verify(signed.read_bytes(), policy=test_pki.policy(), at=dt.datetime.fromisoformat(AT))
    assert out.read_bytes() == result.signed_bytes


def test_verify_tampered_exit_1_and_no_extract(capsys, files, signed, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(signed.read_bytes().replace("Trả lời".encode(), b"Tra loi"))
    out = tmp_path / "doc.xml"
    code, stdout, err = run(capsys, "verify", bad, *trust(files), "--extract", out)
    assert code == 1
    assert err.startswith("FAIL:")
    assert "HASH_FAILURE" in err
    assert not out.exists()
    assert stdout == ""


def test_verify_tampered_json_still_prints_the_report(capsys, files, signed, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(signed.read_bytes().replace("Trả lời".encode(), b"Tra loi"))
    code, out, _ = run(capsys, "verify", bad, *trust(files), "--json")
    assert code == 1
    assert json.loads(out)["indication"] == "TOTAL_FAILED"


def test_verify_indeterminate_exit_3(capsys, files, signed):
    # Revocation status required, but no CRL given and no fetching: cannot decide.
    code, _, err = run(
        capsys,
        "verify",
        signed,
        "--trust",
        files["root"],
        "--untrusted",
        files["inter"],
        "--revocation",
        "require",
        "--at",
        AT,
    )
    assert code == 3, err


def test_verify_usage_errors_exit_2(capsys, files, signed):
    assert run(capsys, "verify", signed)[0] == 2  # no --trust
    assert run(capsys, "verify", signed, "--trust", files["root"], "--revocation", "maybe")[0] == 2
    code, _, err = run(capsys, "verify", signed, *trust(files)[:-2], "--at", "2026-11-20T09:30")
    assert code == 2, err  # naive time


def test_verify_unreadable_input_exit_4(capsys, files, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert run(capsys, "verify", junk, *trust(files))[0] == 4
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<pakn:Signed xmlns:pakn='urn:pakn-sign:pakn:1'><unclosed>")
    assert run(capsys, "verify", broken, *trust(files))[0] == 4


def test_verify_unsigned_document_exit_1(capsys, files):
    code, _, err = run(capsys, "verify", files["unsigned"], *trust(files))
    assert code == 1
    assert "no signature" in err


def test_verify_require_role(capsys, test_pki, files, tmp_path):
    personal = files["dir"] / "personal.xml"
    code, _, err = run(capsys, "verify", personal, *trust(files), "--require-role", "organisation")
    # EN 319 102-1 Table 5: SIG_CONSTRAINTS_FAILURE is INDETERMINATE; exit code = report's.
    assert code == 3
    assert "organisation" in err


def test_inspect_text_and_exit_codes(capsys, files, signed, tmp_path):
    code, out, _ = run(capsys, "inspect", signed, *trust(files))
    assert code == 0
    assert "TOTAL_PASSED" in out
    bad = tmp_path / "bad.xml"
    bad.write_bytes(signed.read_bytes().replace("Trả lời".encode(), b"Tra loi"))
    code, out, _ = run(capsys, "inspect", bad, *trust(files))
    assert code == 1
    assert "HASH_FAILURE" in out
    code, out, _ = run(capsys, "inspect", bad, *trust(files), "--json")
    assert json.loads(out)["signatures"][0]["sub_indication"] == "HASH_FAILURE"


def test_sign_personal_over_organisation_exit_2(capsys, test_pki, signed, tmp_path):
    official = test_pki.get("official-g12")
    code, _, err = run(
        capsys,
        "sign",
        signed,
        "-o",
        tmp_path / "x.xml",
        "--key",
        official.key_path,
        "--cert",
        official.pem_path,
        "--role",
        "personal",
    )
    assert code == 2
    assert "Art. 32" in err
    assert not (tmp_path / "x.xml").exists()


def test_sign_b_t_with_live_tsa(capsys, test_pki, pki_service, files, tmp_path):
    official = test_pki.get("official-g10")
    out = tmp_path / "bt.xml"
    code, _, err = run(
        capsys,
        "sign",
        files["unsigned"],
        "-o",
        out,
        "--key",
        official.key_path,
        "--cert",
        official.pem_path,
        "--chain",
        official.chain_path,
        "--level",
        "B-T",
        "--tsa",
        pki_service.tsa_url,
        "--at",
        AT,
    )
    assert code == 0, err
    code, out_json, _ = run(capsys, "verify", out, *trust(files), "--json")
    assert code == 0
    assert json.loads(out_json)["signatures"][0]["level"] == "B-T"


def test_sign_and_verify_json_input(capsys, test_pki, files, tmp_path):
    from pakn_sign.codec.jsoncodec import to_json

    unsigned = tmp_path / "answer.json"
    unsigned.write_bytes(to_json(answer()))
    official = test_pki.get("official-g10")
    out = tmp_path / "answer.jws.json"
    code, _, err = run(
        capsys,
        "sign",
        unsigned,
        "-o",
        out,
        "--key",
        official.key_path,
        "--cert",
        official.pem_path,
        "--chain",
        official.chain_path,
        "--at",
        AT,
    )
    assert code == 0, err
    assert out.read_bytes().lstrip().startswith(b"{")
    code, out_json, err = run(capsys, "verify", out, *trust(files), "--json")
    assert code == 0, err
    assert json.loads(out_json)["document"]["kind"] == "answer"


def test_sign_xml_b_lta_is_a_usage_error(capsys, test_pki, files, tmp_path):
    official = test_pki.get("official-g10")
    code, _, err = run(
        capsys,
        "sign",
        files["unsigned"],
        "-o",
        tmp_path / "x.xml",
        "--key",
        official.key_path,
        "--cert",
        official.pem_path,
        "--level",
        "B-LTA",
    )
    assert code == 2
    assert "B-LT" in err


def test_sign_verify_inspect_pdf_same_options_and_exit_codes(capsys, test_pki, files, tmp_path):
    from _pdf_letter import make_letter

    letter = tmp_path / "letter.pdf"
    letter.write_bytes(make_letter())
    official, seal = test_pki.get("official-g10"), test_pki.get("000.00.00.G10")
    personal, both = tmp_path / "p.pdf", tmp_path / "both.pdf"
    keys = ["--key", official.key_path, "--cert", official.pem_path, "--chain", official.chain_path]
    assert (
        run(capsys, "sign", letter, "-o", personal, *keys, "--role", "personal", "--at", AT)[0] == 0
    )
    seal_keys = ["--key", seal.key_path, "--cert", seal.pem_path, "--chain", seal.chain_path]
    code, _, err = run(
        capsys, "sign", personal, "-o", both, *seal_keys, "--role", "organisation", "--at", AT
    )
    assert code == 0, err
    code, out, err = run(capsys, "verify", both, *trust(files), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["indication"] == "TOTAL_PASSED"
    assert [s["role"] for s in report["signatures"]] == ["personal", "organisation"]
    assert "OK: PDF" in err
    extracted = tmp_path / "signed-revision.pdf"
    assert run(capsys, "verify", both, *trust(files), "--extract", extracted)[0] == 0
    assert both.read_bytes().startswith(extracted.read_bytes())
    # Tampered after signing: exit 1, and inspect reports it without raising.
    data = bytearray(both.read_bytes())
    i = data.index(b"Cong van")
    data[i] ^= 0x20
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    assert run(capsys, "verify", bad, *trust(files))[0] == 1
    code, out, _ = run(capsys, "inspect", bad, *trust(files), "--json")
    assert code == 1
    assert json.loads(out)["indication"] == "TOTAL_FAILED"
    # An anchor the signers do not chain to: no chain -> INDETERMINATE, exit 3 as for XML.
    other = test_pki.get("000.00.00.G12").pem_path
    code, _, err = run(capsys, "verify", both, "--trust", other, "--at", AT, "--revocation", "off")
    assert code == 3, err
