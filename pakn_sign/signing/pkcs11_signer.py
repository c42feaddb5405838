"""A ``Signer`` whose private key lives on a PKCS#11 token (python-pkcs11; SoftHSM2 in tests).

The key never leaves the token. One logged-in session is opened at construction and
closed by :meth:`PKCS11Signer.close` (or the context manager); a lock serialises use of
it, because a PKCS#11 session must not run two operations at once (PKCS#11 v2.40 §5.6).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography import x509

from ..errors import ConfigurationError, SigningError
from .algorithms import (
    KeyType,
    PublicKey,
    SignatureAlgorithm,
    default_algorithm,
    key_type_of,
    verify_with_key,
)
from .pkcs11_uri import PKCS11URI
from .signers import check_new_signature_algorithm

__all__ = ["PKCS11Signer"]

_MAX_PIN_FILE = 4096
_PROBE = b"pakn-sign: key/certificate pairing check"
# Where distributions put PKCS#11 modules, for RFC 7512 ``module-name``.
_MODULE_DIRS = ("/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/lib")


def _import_pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigurationError(
            "python-pkcs11 is not installed (pip install python-pkcs11)"
        ) from exc
    return pkcs11


def _resolve_module(uri: PKCS11URI, module_path: str | None) -> str:
    path = module_path or uri.module_path
    if path:
        if not Path(path).is_file():
            raise ConfigurationError(f"PKCS#11 module {path!r} does not exist")
        return path
    name = uri.query.get("module-name")
    if name:
        # RFC 7512 §2.3: module-name is the library name without path or suffix.
        for base in _MODULE_DIRS:
            for sub in ("", "pkcs11", name.removeprefix("lib")):
                cand = Path(base, sub, f"{name}.so")
                if cand.is_file():
                    return str(cand)
        raise ConfigurationError(f"PKCS#11 module-name={name!r} not found in {_MODULE_DIRS}")
    raise ConfigurationError("the PKCS#11 URI names no module-path or module-name")


def _resolve_pin(uri: PKCS11URI, pin: str | None) -> str | None:
    if pin is not None:
        return pin
    if "pin-value" in uri.query:
        return uri.query["pin-value"]
    source = uri.query.get("pin-source")
    if source is None:
        return None
    # RFC 7512 §2.3: pin-source is a URI (file:) or a path to a file holding the PIN.
    path = source.removeprefix("file://") if source.startswith("file://") else source
    path = path.removeprefix("file:")
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_PIN_FILE + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the PKCS#11 pin-source {source!r}") from exc
    if len(data) > _MAX_PIN_FILE:
        raise ConfigurationError("the PKCS#11 pin-source file is too large")
    return data.decode("utf-8").rstrip("\r\n")


class PKCS11Signer:
    """Signs with a private key on a PKCS#11 token, found by RFC 7512 URI.

    Args:
        uri: ``pkcs11:token=…;object=…;id=…?module-path=…&pin-value=…``.
        pin: the user PIN, overriding ``pin-value``/``pin-source`` in the URI.
        chain: certificates (leaf first) when the token holds none; otherwise the leaf
            is read from the token (same label/id as the key) and ``chain`` adds intermediates.
        module_path: overrides the URI's ``module-path``.

    Raises:
        ConfigurationError: bad URI, no such module/token/key/certificate, wrong PIN.
        SigningError: the key does not match the certificate, or the token fails.
    """

    def __init__(
        self,
        uri: str | PKCS11URI,
        *,
        pin: str | None = None,
        chain: Sequence[x509.Certificate] = (),
        module_path: str | None = None,
    ):
        pkcs11 = _import_pkcs11()
        self._p11 = pkcs11
        parsed = uri if isinstance(uri, PKCS11URI) else PKCS11URI.parse(uri)
        self._uri = parsed
        self._lock = threading.Lock()
        module = _resolve_module(parsed, module_path)
        try:
            lib = pkcs11.lib(module)
            kwargs = {"token_label": parsed.token} if parsed.token else {}
            tokens = list(lib.get_tokens(**kwargs))
        except pkcs11.PKCS11Error as exc:
            raise ConfigurationError(f"cannot load PKCS#11 module {module!r}: {exc!r}") from exc
        if parsed.path.get("serial"):
            want = parsed.path["serial"]
            tokens = [t for t in tokens if t.serial.decode(errors="replace").strip() == want]
        if not tokens:
            raise ConfigurationError(f"no PKCS#11 token matches {parsed.redacted()}")
        if len(tokens) > 1:
            raise ConfigurationError(f"{len(tokens)} PKCS#11 tokens match {parsed.redacted()}")
        try:
            self._session = tokens[0].open(user_pin=_resolve_pin(parsed, pin))
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as exc:
            raise ConfigurationError(f"wrong PIN for PKCS#11 token {parsed.token!r}") from exc
        except pkcs11.PinLocked as exc:
            raise ConfigurationError(f"PKCS#11 token {parsed.token!r}: PIN locked") from exc
        except pkcs11.PKCS11Error as exc:
            raise ConfigurationError(f"cannot open PKCS#11 token: {exc!r}") from exc
        try:
            self._key = self._find_one(pkcs11.ObjectClass.PRIVATE_KEY, "private key")
            certs = list(chain)
            if not certs or self._has_token_cert():
                leaf = self._token_certificate()
                certs = [leaf, *(c for c in certs if c != leaf)]
            self._chain = tuple(certs)
            self._public_key: PublicKey = self._chain[0].public_key()  # type: ignore[assignment]
            key_type_of(self._public_key)
            self._check_pairing()
        except BaseException:
            self.close()
            raise

    # -- lookup -------------------------------------------------------------------------

    def _attrs(self, object_class: Any) -> dict[Any, Any]:
        a = self._p11.Attribute
        attrs: dict[Any, Any] = {a.CLASS: object_class}
        if self._uri.object is not None:
            attrs[a.LABEL] = self._uri.object
        if self._uri.id is not None:
            attrs[a.ID] = self._uri.id
        return attrs

    def _find_one(self, object_class: Any, what: str) -> Any:
        if self._uri.object is None and self._uri.id is None:
            raise ConfigurationError("the PKCS#11 URI needs object= or id= to name the key")
        found = list(self._session.get_objects(self._attrs(object_class)))
        if not found:
            raise ConfigurationError(f"no {what} on the token matches {self._uri.redacted()}")
        if len(found) > 1:
            raise ConfigurationError(f"{len(found)} {what}s match {self._uri.redacted()}")
        return found[0]

    def _has_token_cert(self) -> bool:
        cls = self._p11.ObjectClass.CERTIFICATE
        return any(True for _ in self._session.get_objects(self._attrs(cls)))

    def _token_certificate(self) -> x509.Certificate:
        obj = self._find_one(self._p11.ObjectClass.CERTIFICATE, "certificate")
        try:
            return x509.load_der_x509_certificate(bytes(obj[self._p11.Attribute.VALUE]))
        except ValueError as exc:
            raise ConfigurationError("the token's certificate is not valid DER") from exc

    def _check_pairing(self) -> None:
        alg = self.default_algorithm
        if not verify_with_key(self._public_key, self._sign(_PROBE, alg), _PROBE, alg):
            raise SigningError(
                f"the token key {self._uri.redacted()} does not match the signing certificate"
            )

    # -- Signer protocol ----------------------------------------------------------------

    @property
    def certificate_chain(self) -> Sequence[x509.Certificate]:
        """Signing certificate first, then intermediates."""
        return self._chain

    @property
    def default_algorithm(self) -> SignatureAlgorithm:
        """SHA-256 family for the token key's type."""
        return default_algorithm(self._public_key)

    def sign_raw(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``data`` on the token. ECDSA returns raw ``r || s`` (PKCS#11 §2.3.1 output)."""
        check_new_signature_algorithm(algorithm, self._public_key)
        if key_type_of(self._public_key) is not algorithm.key_type:
            raise SigningError(f"{algorithm.name} cannot be used with this token key")
        return self._sign(data, algorithm)

    def _sign(self, data: bytes, alg: SignatureAlgorithm) -> bytes:
        p11 = self._p11
        m = p11.Mechanism
        kwargs: dict[str, Any]
        digest = alg.digest
        if alg.key_type is KeyType.ED25519:
            kwargs, payload = {"mechanism": m.EDDSA}, data
        elif alg.key_type is KeyType.EC:
            # CKM_ECDSA signs a digest we compute here (tokens rarely offer CKM_ECDSA_SHA384…).
            assert digest is not None
            payload = hashlib.new(digest.hashlib_name, data).digest()
            kwargs = {"mechanism": m.ECDSA}
        else:
            assert digest is not None
            name = digest.name
            payload = data
            if alg.is_pss:
                # RFC 8017 §9.1 / RFC 6931 §2.3.10: MGF1 with the same hash, salt = hash length.
                salt = hashlib.new(digest.hashlib_name).digest_size
                kwargs = {
                    "mechanism": getattr(m, f"{name}_RSA_PKCS_PSS"),
                    "mechanism_param": (getattr(m, name), getattr(p11.MGF, name), salt),
                }
            else:
                kwargs = {"mechanism": getattr(m, f"{name}_RSA_PKCS")}
        try:
            with self._lock:
                if self._session is None:
                    raise SigningError("the PKCS#11 signer is closed")
                return bytes(self._key.sign(payload, **kwargs))
        except p11.PKCS11Error as exc:
            raise SigningError(f"PKCS#11 signing with {alg.name} failed: {exc!r}") from exc

    # -- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Log out and close the session (idempotent)."""
        with self._lock:
            session, self._session = getattr(self, "_session", None), None
        if session is not None:
            # A token that went away has nothing left to release.
            with contextlib.suppress(self._p11.PKCS11Error):
                session.close()

    def __enter__(self) -> PKCS11Signer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PKCS11Signer({self._uri.redacted()!r})"
