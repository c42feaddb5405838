"""Build a ``Signer`` from the key options of the CLI (DESIGN.md §7).

Exactly one source: ``p12`` (+ ``password``), ``key`` + ``cert`` (+ ``chain``), or an
RFC 7512 ``pkcs11`` URI (+ ``chain``). Reading key files is the caller's request, so this
loader (used by ``cli/``) is the one place in ``signing/`` that opens files.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from ..errors import ConfigurationError
from .signers import LocalKeySigner, Signer

__all__ = ["load_signer"]

_MAX_KEY_FILE = 1 << 20  # a PEM chain or .p12 larger than 1 MiB is not a key file


def _read(path: str | Path, what: str) -> bytes:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} file {str(p)!r}: {exc.strerror}") from exc
    if len(data) > _MAX_KEY_FILE:
        raise ConfigurationError(f"the {what} file {str(p)!r} is larger than 1 MiB")
    return data


def _pem_certs(path: str | Path, what: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(_read(path, what))
    except ValueError as exc:
        raise ConfigurationError(f"the {what} file {str(path)!r} holds no PEM certificate") from exc


def load_signer(
    *,
    p12: str | Path | None = None,
    password: str | bytes | None = None,
    key: str | Path | None = None,
    cert: str | Path | None = None,
    chain: str | Path | None = None,
    pkcs11: str | None = None,
    pin: str | None = None,
) -> Signer:
    """Load a signer from files or a token.

    Args:
        p12: a PKCS#12 file; ``password`` opens it (and a PEM key, if encrypted).
        key, cert: a PEM private key and its PEM certificate.
        chain: PEM intermediates (with ``key``/``cert`` or ``pkcs11``).
        pkcs11: an RFC 7512 URI; ``pin`` overrides its ``pin-value``/``pin-source``.

    Raises:
        ConfigurationError: no source, several sources, unreadable files, wrong password.
        SigningError: the key does not match the certificate.
    """
    sources = [name for name, v in (("p12", p12), ("key", key), ("pkcs11", pkcs11)) if v]
    if len(sources) != 1:
        raise ConfigurationError(
            "give exactly one key source: --p12, --key/--cert or --pkcs11"
            + (f" (got {', '.join(sources)})" if sources else "")
        )
    pw = password.encode("utf-8") if isinstance(password, str) else password
    if p12:
        if cert or chain:
            raise ConfigurationError("--cert/--chain do not combine with --p12")
        return LocalKeySigner.from_pkcs12(_read(p12, "PKCS#12"), password=pw)
    if key:
        if not cert:
            raise ConfigurationError("--key needs --cert (the signing certificate)")
        chain_pem = _read(chain, "chain") if chain else None
        return LocalKeySigner.from_pem(
            _read(key, "key"), _read(cert, "certificate"), chain_pem, password=pw
        )
    assert pkcs11 is not None
    if cert:
        raise ConfigurationError("--cert does not combine with --pkcs11; use --chain")
    from .pkcs11_signer import PKCS11Signer

    return PKCS11Signer(pkcs11, pin=pin, chain=_pem_certs(chain, "chain") if chain else ())
