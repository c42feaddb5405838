"""Pinned TLS contexts: the pins are the only trust anchors (no OS store)."""

from __future__ import annotations

import base64
import datetime as dt
import ssl

import pytest
from cryptography.hazmat.primitives import serialization

from pakn_sign.errors import ConfigurationError
from pakn_sign.transport.tls import client_context, server_context
from pakn_sign.trust.testpki import TestPKI

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
CODE = "000.00.00.G10"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"), algorithm="p256", now=NOW)


def _b64(pki: TestPKI, name: str) -> str:
    der = pki.tls[name].cert.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


def test_attack_os_trust_store_is_never_loaded(pki: TestPKI) -> None:
    own = pki.tls[f"{CODE}-client"]
    pin = _b64(pki, f"{CODE}-server")
    ctx = client_context(cert=own.pem_path, key=own.key_path, pinned_server_certs=[pin])
    # Exactly the pinned leaf certificate and no CA at all: with the OS store, a publicly
    # trusted certificate for the same host name would otherwise be accepted.
    assert ctx.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 0}
    assert ctx.verify_mode is ssl.CERT_REQUIRED
    assert ctx.check_hostname
    srv = server_context(
        cert=pki.tls[f"{CODE}-server"].pem_path,
        key=pki.tls[f"{CODE}-server"].key_path,
        pinned_client_certs=[_b64(pki, f"{CODE}-client")],
    )
    assert srv.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 0}
    assert srv.verify_mode is ssl.CERT_REQUIRED


def test_no_pins_is_a_configuration_error(pki: TestPKI) -> None:
    own = pki.tls[f"{CODE}-client"]
    with pytest.raises(ConfigurationError):
        client_context(cert=own.pem_path, key=own.key_path, pinned_server_certs=[])
