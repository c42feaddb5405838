"""``pakn-sign validate`` and ``pakn-sign schema export``: exit codes, stderr lines, files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, example_documents

from pakn_sign.cli.main import main
from pakn_sign.codec._xmlschema import xsd_path
from pakn_sign.codec.jsoncodec import to_json
from pakn_sign.codec.xmlcodec import to_xml
from pakn_sign.models import DOCUMENT_TYPES

EXAMPLES = {doc.kind: doc for doc in example_documents()}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    answer = EXAMPLES["answer"]
    paths = {
        "xml": tmp_path / "answer.xml",
        "json": tmp_path / "answer.json",
        "bad": tmp_path / "bad.xml",
        "signed": tmp_path / "signed.xml",
    }
    paths["xml"].write_bytes(to_xml(answer))
    paths["json"].write_bytes(to_json(answer))
    paths["bad"].write_bytes(
        to_xml(answer).replace(b"<pakn:Issuer>000.00.00.G10", b"<pakn:Issuer>G10")
    )
    body = to_xml(answer, element_id="pakn-doc").split(b"?>", 1)[1]
    paths["signed"].write_bytes(
        b'<pakn:Signed xmlns:pakn="urn:pakn-sign:pakn:1">'
        + body
        + b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></pakn:Signed>'
    )
    return paths


def test_valid_files_exit_0_with_ok_lines(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(files["xml"]), str(files["json"]), str(files["signed"])]
    assert main(["validate", *args]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    doc_id = EXAMPLES["answer"].document_id
    assert err.splitlines() == [f"OK: {a} (answer, {doc_id})" for a in args]


def test_invalid_file_exit_4_with_location(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(files["xml"]), str(files["bad"])]) == 4
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith("OK: ")
    line = (
        to_xml(EXAMPLES["answer"]).split(b"\n").index(b"  <pakn:Issuer>000.00.00.G10</pakn:Issuer>")
    )
    assert lines[1].startswith(f"{files['bad']}: line {line + 1}, /pakn:Answer/pakn:Issuer: XSD: ")


def test_json_output_on_stdout(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", str(files["json"]), str(files["bad"])]) == 4
    out, _ = capsys.readouterr()
    results = json.loads(out)
    assert results[0] == {
        "file": str(files["json"]),
        "valid": True,
        "kind": "answer",
        "document_id": EXAMPLES["answer"].document_id,
    }
    assert results[1]["valid"] is False
    assert results[1]["error"]["code"] == "input.schema"
    assert results[1]["error"]["location"].endswith("/pakn:Answer/pakn:Issuer")


def test_json_file_error_has_a_json_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(
        to_json(EXAMPLES["petition"]).replace(b'"channel":"portal"', b'"channel":"fax"')
    )
    assert main(["validate", str(path)]) == 4
    assert capsys.readouterr().err.startswith(f"{path}: /channel: ")


def test_unreadable_input_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(b"%PDF-1.7\n")
    assert main(["validate", str(path)]) == 4
    assert capsys.readouterr().err.startswith(f"{path}: offset 0: expected an XML")


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["validate"], id="no-files"),
        pytest.param(["validate", "/nonexistent/pakn.xml"], id="missing-file"),
        pytest.param(["validate", "--no-such-option", "x.xml"], id="unknown-option"),
        pytest.param(["schema"], id="schema-without-subcommand"),
        pytest.param(["schema", "export"], id="export-without-dir"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().out == ""


def test_missing_file_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "/nonexistent/pakn.xml"]) == 2
    assert "/nonexistent/pakn.xml" in capsys.readouterr().err


def test_schema_export_writes_xsd_and_json_schemas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "schemas"
    assert main(["schema", "export", str(out_dir)]) == 0
    assert (out_dir / "pakn-1.xsd").read_bytes() == xsd_path().read_bytes()
    names = {p.name for p in out_dir.iterdir()}
    expected_json = {f"{kind}.schema.json" for kind in DOCUMENT_TYPES} | {"document.schema.json"}
    assert names == {"pakn-1.xsd"} | expected_json
    for name in expected_json:
        committed = ROOT / "schemas" / "json" / name
        assert (out_dir / name).read_bytes() == committed.read_bytes()
    assert capsys.readouterr().out == ""


def test_console_exit_code_in_a_real_process(files: dict[str, Path]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pakn_sign", "validate", str(files["bad"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 4
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"{files['bad']}: line ")


def test_really_signed_xades_document_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import xmldsig_signer

    from pakn_sign.signing.sign_xml import sign_xml

    at = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    signer = xmldsig_signer("rsa2048")
    personal = sign_xml(EXAMPLES["answer"], signer, role="personal", at=at)
    both = sign_xml(personal, signer, role="organisation", at=at)
    path = tmp_path / "signed.xml"
    path.write_bytes(both)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err.startswith(f"OK: {path} (answer, ")
    # Schema validation only: a tampered document body is still reported by the XSD/model.
    path.write_bytes(both.replace(b"<pakn:Issuer>000.00.00.G10", b"<pakn:Issuer>x"))
    assert main(["validate", str(path)]) == 4
    assert "/pakn:Signed/pakn:Answer/pakn:Issuer" in capsys.readouterr().err
