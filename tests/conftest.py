"""Shared fixtures: public vectors, the CI rule for missing tools, an injected clock."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def vectors_dir() -> Path | None:
    """The public vectors: ``$PAKN_VECTORS`` or ``../shared/vectors`` next to the checkout."""
    env = os.environ.get("PAKN_VECTORS")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "vectors"]:
        if cand.is_dir():
            return cand
    return None


def require_vectors(sub: str) -> Path:
    """Path to a public vector set; skip (or fail under CI) when absent."""
    base = vectors_dir()
    path = base / sub if base else None
    if path is None or not path.exists():
        msg = f"public vectors {sub!r} not found: set PAKN_VECTORS or place ../shared/vectors"
        if UNDER_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def require_tool(executable: str, package: str) -> str:
    """Path to a system tool; skip naming the Debian package, or fail under CI."""
    found = shutil.which(executable)
    if found is None:
        msg = f"{executable} not found: install the Debian package {package!r}"
        if UNDER_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return found


@pytest.fixture
def fixed_now() -> dt.datetime:
    """The injected 'now' of every test that needs one (never the wall clock)."""
    return dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


# --- Test PKI and its live TSA/OCSP/CRL service (PKI helper; docs/pki.md) -------------------

PKI_NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
"""The ``now`` the session test PKI is built around (same as ``fixed_now``)."""


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pki_port() -> int:
    """A free loopback port chosen before the PKI is made (its URLs name the port)."""
    return _free_port()


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory, pki_port: int):
    """The session's RSA-2048 test PKI, valid around ``PKI_NOW``; CRL/OCSP URLs point at
    ``pki_service``. Treat it as read-only: tests that revoke make their own PKI."""
    from pakn_sign.trust.testpki import TestPKI

    return TestPKI.create(
        tmp_path_factory.mktemp("test-pki"),
        now=PKI_NOW,
        base_url=f"http://127.0.0.1:{pki_port}",
    )


class PkiServiceHandle:
    """A running ``pakn-sign pki serve`` subprocess over the session ``test_pki``."""

    def __init__(self, url: str, pki, process) -> None:
        self.url = url
        self.pki = pki
        self.process = process

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.url}/ocsp"

    @property
    def root_crl_url(self) -> str:
        return f"{self.url}/crl/root.crl"

    @property
    def intermediate_crl_url(self) -> str:
        return f"{self.url}/crl/intermediate.crl"


def start_pki_service(directory: Path, port: int, log_path: Path, at: dt.datetime | None):
    """Start ``python -m pakn_sign pki serve`` and wait for its readiness line."""
    import select
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "pakn_sign", "pki", "serve", str(directory), "--port", str(port)]
    if at is not None:
        cmd += ["--at", at.isoformat()]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, cwd=ROOT)
    log.close()
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline().decode() if ready else ""
    if "ready on" not in line:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"pki serve did not start: {line!r}\n{log_path.read_text()}")
    return proc, line.rsplit(" ", 1)[-1].strip()


@pytest.fixture(scope="session")
def pki_service(test_pki, pki_port: int, tmp_path_factory: pytest.TempPathFactory):
    """``pakn-sign pki serve`` on the session PKI, clock frozen at ``PKI_NOW`` (token genTime,
    OCSP thisUpdate). ``.url``, ``.tsa_url``, ``.ocsp_url``, ``.pki``; stopped with SIGTERM."""
    log_path = tmp_path_factory.mktemp("pki-serve") / "serve.log"
    proc, url = start_pki_service(test_pki.directory, pki_port, log_path, PKI_NOW)
    yield PkiServiceHandle(url, test_pki, proc)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except Exception:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


# --- XMLDSig core (tests/test_xmldsig_*.py): self-signed signers per key kind ---------


_XMLDSIG_SIGNERS: dict[str, object] = {}


def xmldsig_signer(kind: str = "rsa2048"):
    """A ``LocalKeySigner`` with a fresh key and a self-signed certificate (cached per kind).

    Kinds: ``rsa2048``, ``rsa1024`` (downgrade tests only; the signer itself refuses to
    sign with it), ``p256``, ``p384``, ``p521``, ``ed25519``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.x509.oid import NameOID

    from pakn_sign.signing.signers import LocalKeySigner

    if kind in _XMLDSIG_SIGNERS:
        return _XMLDSIG_SIGNERS[kind]
    curves = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}
    if kind.startswith("rsa"):
        key = rsa.generate_private_key(65537, int(kind[3:]))
    elif kind in curves:
        key = ec.generate_private_key(curves[kind])
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"xmldsig test {kind}")])
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(t0)
        .not_valid_after(t0 + dt.timedelta(days=3650))
        .sign(key, None if kind == "ed25519" else hashes.SHA256())
    )
    return _XMLDSIG_SIGNERS.setdefault(kind, LocalKeySigner(key, [cert]))


def example_documents() -> list:
    """The example case of examples/documents/make_examples.py: one document of every kind."""
    import importlib.util

    path = ROOT / "examples" / "documents" / "make_examples.py"
    spec = importlib.util.spec_from_file_location("pakn_make_examples", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.build_examples())
