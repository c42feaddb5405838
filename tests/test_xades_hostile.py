"""Hostile values inside otherwise well-formed XAdES: typed errors, never a crash.

Found by the review's fuzzing: a certificate with an unknown version inside
CertificateValues (cryptography raises InvalidVersion, not ValueError), and a signature
Id whose "digits" are not ASCII (``str.isdigit`` accepts "²", ``int`` does not).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
from typing import Any

import pytest
from lxml import etree
from xades_helpers import PERSONAL, SEAL, XADES, answer, tree

from pakn_sign.errors import InvalidInput, PaknSignError
from pakn_sign.signing.sign_xml import sign_xml
from pakn_sign.trust.policy import TrustPolicy
from pakn_sign.verify import inspect, verify

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)


def test_attack_b_lt_certificate_with_unknown_version(test_pki: Any) -> None:
    signed = sign_xml(
        answer(),
        test_pki.signer(SEAL),
        role="organisation",
        level="B-LT",
        tsa=test_pki.timestamp_authority(),
        policy=test_pki.policy(),
        at=NOW,
    )
    root = tree(signed)
    enc = root.find(f".//{XADES}CertificateValues/{XADES}EncapsulatedX509Certificate")
    assert enc is not None
    assert enc.text
    der = base64.b64decode(enc.text)
    assert b"\xa0\x03\x02\x01\x02" in der
    enc.text = base64.b64encode(
        der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x05", 1)
    ).decode()
    hostile = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    policy = TrustPolicy.offline_strict([test_pki.root.cert])
    with pytest.raises(PaknSignError):
        verify(hostile, policy=policy, at=LATER)
    # The auditors' view: a report that does not pass, or a typed "unreadable" error.
    try:
        report = inspect(hostile, policy=policy, at=LATER)
    except InvalidInput:
        return
    assert report.indication.value != "TOTAL_PASSED"


def test_attack_signature_id_with_non_ascii_digit(test_pki: Any) -> None:
    personal = sign_xml(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)
    hostile = personal.replace(b'Id="sig-1"', 'Id="sig-\u00b2"'.encode(), 1)
    assert hostile != personal
    with contextlib.suppress(PaknSignError):  # refusing is fine; a bare ValueError is not
        sign_xml(hostile, test_pki.signer(SEAL), role="organisation", at=NOW)
