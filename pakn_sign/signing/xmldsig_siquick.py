"""Read a canonical SignedInfo of the usual shape straight from its octets.

The verifier reads References only from the canonical SignedInfo bytes it checks the
SignatureValue over (xmldsig_verify step 2). For the shape every common signer writes
(``ds:`` prefix declared on SignedInfo, no whitespace or other nodes between elements,
childless CanonicalizationMethod/SignatureMethod/Transform/DigestMethod, Reference
attributes among ``Id``, ``Type``, ``URI``, values free of ``& < "``), one regular
expression over those exact bytes gives what the re-parse would give: Canonical XML
(C14N 1.0 §2.2, Exc-C14N §3) writes attributes in sorted order (``Id < Type < URI``),
escapes ``&`` ``<`` and ``"`` in attribute values and ``&`` ``<`` ``>`` CR in text, so
a value without ``&`` is its own text, and the one namespace declaration on the apex
binds every ``ds:`` element of the match. Anything else returns ``None`` and the
caller re-parses (every refusal keeps its message from that path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .algorithms import SignatureAlgorithm
from .xmldsig_sigmethod import RSA_PSS

__all__ = ["QuickReference", "QuickSignedInfo", "read_signed_info"]

_VAL = rb'([^"&<]*)'
_HEAD = re.compile(
    rb'<ds:SignedInfo xmlns:ds="http://www\.w3\.org/2000/09/xmldsig#">'
    rb"<ds:CanonicalizationMethod Algorithm="
    + b'"'
    + _VAL
    + b'"'
    + rb"></ds:CanonicalizationMethod>"
    rb"<ds:SignatureMethod Algorithm=" + b'"' + _VAL + b'"' + rb"></ds:SignatureMethod>"
)
_REF = re.compile(
    rb"<ds:Reference"
    rb'(?: Id="([^"&<]*)")?(?: Type="([^"&<]*)")?(?: URI="([^"&<]*)")?>'
    rb"(?:<ds:Transforms>((?:<ds:Transform Algorithm=\"[^\"&<]*\"></ds:Transform>)*)"
    rb"</ds:Transforms>)?"
    rb'<ds:DigestMethod Algorithm="([^"&<]*)"></ds:DigestMethod>'
    rb"<ds:DigestValue>([^<&]*)</ds:DigestValue></ds:Reference>"
)
_TRANSFORM = re.compile(rb'<ds:Transform Algorithm="([^"&<]*)"></ds:Transform>')
_TAIL = b"</ds:SignedInfo>"
_PLAIN_METHODS = frozenset(
    a.value for a in SignatureAlgorithm if a.value != RSA_PSS and "hmac" not in a.value.lower()
)
"""Methods whose childless SignatureMethod is just ``SignatureAlgorithm(uri)``."""


@dataclass(frozen=True, slots=True)
class QuickReference:
    """One Reference as the canonical bytes state it."""

    uri: str | None
    type: str | None
    id: str | None
    transforms: tuple[str, ...] | None
    """Transform Algorithm URIs in order; ``None`` when there is no ds:Transforms."""
    digest_method: str
    digest_value: str


@dataclass(frozen=True, slots=True)
class QuickSignedInfo:
    """CanonicalizationMethod and SignatureMethod URIs and the References, in order."""

    c14n_uri: str
    algorithm: SignatureAlgorithm
    references: tuple[QuickReference, ...]


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8")


def read_signed_info(canonical: bytes) -> QuickSignedInfo | None:
    """The SignedInfo of ``canonical`` when it has the usual shape, else ``None``."""
    head = _HEAD.match(canonical)
    if head is None or not canonical.endswith(_TAIL):
        return None
    sm_uri = head.group(2).decode("utf-8")
    if sm_uri not in _PLAIN_METHODS:
        return None
    refs: list[QuickReference] = []
    pos, end = head.end(), len(canonical) - len(_TAIL)
    while pos < end:
        m = _REF.match(canonical, pos, end)
        if m is None:
            return None
        rid, typ, uri, transforms, dm, dv = m.groups()
        refs.append(
            QuickReference(
                uri=_text(uri),
                type=_text(typ),
                id=_text(rid),
                transforms=None
                if transforms is None
                else tuple(t.decode("utf-8") for t in _TRANSFORM.findall(transforms)),
                digest_method=dm.decode("utf-8"),
                digest_value=dv.decode("utf-8"),
            )
        )
        pos = m.end()
    if pos != end or not refs:
        return None
    return QuickSignedInfo(
        c14n_uri=head.group(1).decode("utf-8"),
        algorithm=SignatureAlgorithm(sm_uri),
        references=tuple(refs),
    )
