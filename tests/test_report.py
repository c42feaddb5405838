"""Validation reports: overall rule, JSON Schema, text, HTML escaping, HTML in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from certs_helpers import UID, make_chain, make_crl, name
from conftest import ROOT, require_tool
from cryptography.x509.oid import NameOID

from pakn_sign.errors import IndeterminateError, InvalidSignature, UntrustedSigner
from pakn_sign.trust.cert_report import certificate_info, certificate_report
from pakn_sign.trust.identity import SignerIdentity
from pakn_sign.trust.policy import RevocationMode, TrustPolicy
from pakn_sign.trust.report import (
    INDICATION_OF,
    Finding,
    Indication,
    SignatureReport,
    SubIndication,
    ValidationReport,
)

AT = dt.datetime(2026, 6, 1, 2, 30, tzinfo=dt.UTC)
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text("utf-8"))
HOSTILE_CN = '<script>alert(1)</script><img src=x onerror=alert(1)>&"q"'


def _validate(obj: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(obj)


def _passed(id: str = "sig-1", role: str = "personal", chain=()) -> SignatureReport:
    return SignatureReport(id, Indication.TOTAL_PASSED, role=role, chain=chain)


def _failed(sub: SubIndication, id: str = "sig-2") -> SignatureReport:
    return SignatureReport(id, INDICATION_OF[sub], sub_indication=sub, role="organisation")


@pytest.fixture(scope="module")
def hostile_report() -> ValidationReport:
    subject = name(
        (NameOID.COMMON_NAME, HOSTILE_CN),
        (UID, "CCCD:001089020747"),
        (NameOID.ORGANIZATION_NAME, "Bộ Tư pháp"),
    )
    c = make_chain(leaf_subject=subject)
    good = SignatureReport(
        "sig-1",
        Indication.TOTAL_PASSED,
        role="personal",
        identity=SignerIdentity.from_certificate(c.leaf.cert),
        chain=(c.leaf.cert, c.intermediate.cert, c.root.cert),
        signing_time=AT,
        timestamp_time=AT,
        level="B-T",
        scope=("#pakn-doc",),
    )
    bad = SignatureReport.from_error(
        "sig-2",
        InvalidSignature("digest of #pakn-doc <b>differs</b>", sub_indication="HASH_FAILURE"),
        role="organisation",
    )
    return ValidationReport.from_signatures(
        [good, bad], validation_time=AT, document_kind="answer", document_id="<id>&1"
    )


# --- the overall rule ---------------------------------------------------------------------


def test_every_sub_indication_has_an_indication():
    assert set(INDICATION_OF) == set(SubIndication)
    assert INDICATION_OF[SubIndication.REVOKED] is Indication.TOTAL_FAILED
    assert INDICATION_OF[SubIndication.TRY_LATER] is Indication.INDETERMINATE
    assert INDICATION_OF[SubIndication.NO_CERTIFICATE_CHAIN_FOUND] is Indication.INDETERMINATE


def test_zero_signatures_is_total_failed():
    r = ValidationReport.from_signatures([], validation_time=AT)
    assert (r.indication, r.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.SIGNED_DATA_NOT_FOUND,
    )
    assert r.findings[0].key == "document.no_signature"


def test_zero_signatures_keeps_a_format_failure():
    f = Finding("input.schema", "bad", SubIndication.FORMAT_FAILURE)
    r = ValidationReport.from_signatures([], validation_time=AT, findings=[f])
    assert (r.indication, r.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )


def test_zero_signatures_with_indeterminate_finding_is_still_failed():
    f = Finding("x.y", "later", SubIndication.TRY_LATER)
    r = ValidationReport.from_signatures([], validation_time=AT, findings=[f])
    assert r.indication is Indication.TOTAL_FAILED


@pytest.mark.parametrize(
    ("sigs", "expected"),
    [
        ([_passed(), _passed("sig-2")], (Indication.TOTAL_PASSED, None)),
        (
            [_passed(), _failed(SubIndication.TRY_LATER)],
            (Indication.INDETERMINATE, SubIndication.TRY_LATER),
        ),
        (
            [_failed(SubIndication.TRY_LATER, "a"), _failed(SubIndication.HASH_FAILURE, "b")],
            (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE),
        ),
        (
            [
                _failed(SubIndication.REVOKED, "a"),
                _failed(SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "b"),
            ],
            (Indication.TOTAL_FAILED, SubIndication.REVOKED),
        ),
    ],
    ids=["all-passed", "one-indeterminate", "failed-beats-indeterminate", "first-failure-order"],
)
def test_overall_rule(sigs, expected):
    r = ValidationReport.from_signatures(sigs, validation_time=AT)
    assert (r.indication, r.sub_indication) == expected


def test_document_finding_fails_even_with_good_signatures():
    f = Finding(
        "document.role_missing", "no organisation signature", SubIndication.SIG_CONSTRAINTS_FAILURE
    )
    r = ValidationReport.from_signatures([_passed()], validation_time=AT, findings=[f])
    assert (r.indication, r.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )


def test_from_error_uses_the_error_sub_indication():
    r = SignatureReport.from_error("s", UntrustedSigner("revoked", sub_indication="REVOKED"))
    assert (r.indication, r.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    r = SignatureReport.from_error("s", IndeterminateError("later", sub_indication="TRY_LATER"))
    assert r.indication is Indication.INDETERMINATE
    r = SignatureReport.from_error("s", UntrustedSigner("?", sub_indication="SOMETHING_NEW"))
    assert r.sub_indication is SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE
    assert r.findings[0].key == "verify.untrusted_signer"


# --- JSON -----------------------------------------------------------------------------------


def test_json_shape_and_schema(hostile_report):
    obj = json.loads(hostile_report.to_json())
    _validate(obj)
    assert set(obj) >= {"indication", "sub_indication", "validation_time", "document", "signatures"}
    assert obj["document"] == {"kind": "answer", "id": "<id>&1"}
    assert obj["validation_time"] == "2026-06-01T02:30:00Z"
    sig = obj["signatures"][0]
    assert set(sig) >= {
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
    }
    assert sig["signer"]["identifiers"] == {"cccd": "001089020747"}
    assert len(sig["chain"]) == 3
    assert obj["signatures"][1]["sub_indication"] == "HASH_FAILURE"
    assert obj["indication"] == "TOTAL_FAILED"


def test_json_is_deterministic_utf8(hostile_report):
    text = hostile_report.to_json()
    assert text == hostile_report.to_json()
    assert "Bộ Tư pháp" in text


def test_schema_rejects_a_wrong_report(hostile_report):
    obj = hostile_report.to_dict()
    obj["indication"] = "OK"
    with pytest.raises(jsonschema.ValidationError):
        _validate(obj)
    obj = hostile_report.to_dict()
    obj["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        _validate(obj)


def test_empty_report_validates():
    _validate(ValidationReport.from_signatures([], validation_time=AT).to_dict())


# --- text -----------------------------------------------------------------------------------


def test_text_has_indications_and_both_time_zones(hostile_report):
    text = hostile_report.to_text()
    assert text.startswith("Result: TOTAL_FAILED / HASH_FAILURE")
    assert "2026-06-01 09:30:00 (Asia/Ho_Chi_Minh) / 2026-06-01 02:30:00Z" in text
    assert "sig-2 (organisation): TOTAL_FAILED / HASH_FAILURE" in text
    assert "cccd: 001089020747" in text


# --- HTML -----------------------------------------------------------------------------------


def test_attack_html_injection_is_escaped(hostile_report):
    html = hostile_report.to_html()
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "<b>differs</b>" not in html
    assert "&lt;id&gt;&amp;1" in html


def test_html_is_self_contained(hostile_report):
    html = hostile_report.to_html()
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert "<style>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html, re.I)
    assert "@import" not in html
    assert "Hợp lệ / Passed" in html
    assert "Không hợp lệ / Failed" in html
    assert "Asia/Ho_Chi_Minh" in html


def test_html_renders_in_headless_chromium(hostile_report, tmp_path: Path):
    chromium = require_tool("chromium", "chromium")
    page = tmp_path / "report.html"
    page.write_text(hostile_report.to_html(), "utf-8")
    png = tmp_path / "shot.png"
    common = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout
    assert 'data-indication="TOTAL_FAILED"' in dom
    assert "Không hợp lệ / Failed — HASH_FAILURE" in dom
    assert "<script>" not in dom  # the hostile CN stayed text
    subprocess.run(
        [*common, f"--screenshot={png}", page.as_uri()], capture_output=True, timeout=90, check=True
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- certificate reports ------------------------------------------------------------------------


def test_certificate_report_passed_and_revoked():
    c = make_chain(crl_url="http://127.0.0.1:9/c.crl")
    policy = TrustPolicy.from_anchors(
        [c.root.cert],
        intermediates=[c.intermediate.cert],
        crls=[make_crl(c.intermediate), make_crl(c.root)],
    )
    ok = certificate_report(c.leaf.cert, policy=policy, at=AT)
    assert ok.indication is Indication.TOTAL_PASSED
    assert ok.document_kind == "certificate"
    assert ok.signatures[0].findings[0].key == "chain.revocation_good"
    _validate(ok.to_dict())
    revoked = policy.replace(
        crls=(
            make_crl(c.intermediate, revoked=[(c.leaf.cert, AT - dt.timedelta(days=1))]),
            make_crl(c.root),
        )
    )
    bad = certificate_report(c.leaf.cert, policy=revoked, at=AT)
    assert (bad.indication, bad.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    _validate(bad.to_dict())
    missing = certificate_report(c.leaf.cert, policy=policy.replace(crls=()), at=AT)
    assert (missing.indication, missing.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
    )


def test_certificate_info():
    c = make_chain(crl_url="http://ca.example/c.crl", ocsp_url="http://ca.example/ocsp")
    info = certificate_info(c.leaf.cert)
    assert info["identity"]["identifiers"] == {"cccd": "001089020747"}
    assert info["key"] == {"type": "EC", "bits": 256, "curve": "secp256r1"}
    assert info["key_usage"] == ["digitalSignature", "nonRepudiation"]
    assert info["crl_urls"] == ["http://ca.example/c.crl"]
    assert info["ocsp_urls"] == ["http://ca.example/ocsp"]
    assert info["ca"] is False
    assert certificate_info(c.root.cert)["ca"] is True


def test_revocation_off_note():
    c = make_chain()
    policy = TrustPolicy.from_anchors(
        [c.root.cert], intermediates=[c.intermediate.cert], revocation=RevocationMode.OFF
    )
    r = certificate_report(c.leaf.cert, policy=policy, at=AT)
    assert r.signatures[0].findings[0].key == "chain.revocation_not_checked"
