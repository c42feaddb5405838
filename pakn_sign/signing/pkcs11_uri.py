"""RFC 7512 ``pkcs11:`` URIs: parse path and query attributes, with percent-decoding.

Example::

    pkcs11:token=pakn-test;object=seal;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from ..errors import ConfigurationError

__all__ = ["PKCS11URI"]

# RFC 7512 §2.3: the path attributes (pk11-path-attr) and query attributes (pk11-query-attr).
_PATH_ATTRS = frozenset(
    {
        "token",
        "manufacturer",
        "serial",
        "model",
        "library-manufacturer",
        "library-version",
        "library-description",
        "object",
        "type",
        "id",
        "slot-description",
        "slot-manufacturer",
        "slot-id",
    }
)
_QUERY_ATTRS = frozenset({"pin-source", "pin-value", "module-name", "module-path"})
_OBJECT_TYPES = frozenset({"public", "private", "cert", "secret-key", "data"})
# RFC 3986 pct-encoded plus the characters RFC 7512 §2.3 allows unescaped in values.
_VALUE = re.compile(r"^(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9\-._~:\[\]@!$'()*+,=&/|?]| )*$")
_MAX_URI = 8192


def _decode(value: str, where: str) -> bytes:
    if not _VALUE.match(value):
        raise ConfigurationError(f"invalid character in PKCS#11 URI attribute {where}")
    return unquote_to_bytes(value)


def _text(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"PKCS#11 URI attribute {where} is not UTF-8") from exc


@dataclass(frozen=True, slots=True)
class PKCS11URI:
    """A parsed RFC 7512 URI. Text attributes are percent-decoded UTF-8; ``id`` stays bytes."""

    path: dict[str, str] = field(default_factory=dict)
    """Path attributes except ``id`` (``token``, ``object``, ``type``, ``serial``…)."""
    id: bytes | None = None
    """``CKA_ID`` of the key and certificate (``id=%01`` is ``b"\\x01"``)."""
    query: dict[str, str] = field(default_factory=dict)
    """Query attributes (``module-path``, ``module-name``, ``pin-value``, ``pin-source``)."""
    vendor: dict[str, str] = field(default_factory=dict)
    """``x-`` vendor attributes, kept but not interpreted."""

    @classmethod
    def parse(cls, uri: str) -> PKCS11URI:
        """Parse ``uri``; unknown or repeated attributes raise ``ConfigurationError``.

        RFC 7512 §2.3: attribute names are case-sensitive, path attributes are separated by
        ``;``, query attributes by ``&``, and a path attribute must not repeat.
        """
        if len(uri) > _MAX_URI:
            raise ConfigurationError("PKCS#11 URI is too long")
        if not uri.startswith("pkcs11:"):
            raise ConfigurationError("a PKCS#11 URI starts with 'pkcs11:' (RFC 7512)")
        rest = uri[len("pkcs11:") :]
        path_part, _, query_part = rest.partition("?")
        path: dict[str, str] = {}
        vendor: dict[str, str] = {}
        query: dict[str, str] = {}
        key_id: bytes | None = None
        for item in filter(None, path_part.split(";")):
            name, eq, value = item.partition("=")
            if not eq:
                raise ConfigurationError(f"PKCS#11 URI path attribute {name!r} has no value")
            raw = _decode(value, name)
            if name in path or (name == "id" and key_id is not None) or name in vendor:
                raise ConfigurationError(f"PKCS#11 URI repeats the path attribute {name!r}")
            if name == "id":
                key_id = raw
            elif name in _PATH_ATTRS:
                path[name] = _text(raw, name)
            elif name.startswith("x-"):
                vendor[name] = _text(raw, name)
            else:
                raise ConfigurationError(f"unknown PKCS#11 URI path attribute {name!r}")
        for item in filter(None, query_part.split("&")):
            name, eq, value = item.partition("=")
            if not eq:
                raise ConfigurationError(f"PKCS#11 URI query attribute {name!r} has no value")
            text = _text(_decode(value, name), name)
            if name in _QUERY_ATTRS:
                if name in query:
                    raise ConfigurationError(f"PKCS#11 URI repeats {name!r}")
                query[name] = text
            elif name.startswith("x-"):
                vendor[name] = text
            else:
                raise ConfigurationError(f"unknown PKCS#11 URI query attribute {name!r}")
        if "type" in path and path["type"] not in _OBJECT_TYPES:
            raise ConfigurationError(f"PKCS#11 URI type={path['type']!r} is not an object type")
        if "pin-value" in query and "pin-source" in query:
            raise ConfigurationError("PKCS#11 URI gives both pin-value and pin-source")
        return cls(path=path, id=key_id, query=query, vendor=vendor)

    @property
    def token(self) -> str | None:
        """The token label (``token=``)."""
        return self.path.get("token")

    @property
    def object(self) -> str | None:
        """The object label (``object=``, ``CKA_LABEL``)."""
        return self.path.get("object")

    @property
    def module_path(self) -> str | None:
        """The PKCS#11 module to load (``module-path=``)."""
        return self.query.get("module-path")

    def redacted(self) -> str:
        """The URI for messages: the PIN value is never shown."""
        parts = [f"{k}={v}" for k, v in self.path.items()]
        if self.id is not None:
            parts.append("id=" + "".join(f"%{b:02x}" for b in self.id))
        q = [f"{k}={'***' if k == 'pin-value' else v}" for k, v in self.query.items()]
        return "pkcs11:" + ";".join(parts) + (("?" + "&".join(q)) if q else "")
