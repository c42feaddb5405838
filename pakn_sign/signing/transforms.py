"""Reference transforms of our strict XMLDSig profile: what is allowed, what is refused.

A Reference may carry at most the enveloped-signature transform followed by one C14N
method (XMLDSig 1.1 §6.6). Everything that can select, rewrite or fetch content (XSLT,
XPath, XPath Filter 2.0, XPointer, Base64 decoding, decryption) is refused with
``UnsupportedFeature``: those are the transforms signature-wrapping and DoS attacks
are built from, and none is needed to sign a PAKN document.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lxml import etree

from ..errors import ConfigurationError, InvalidInput, UnsupportedFeature
from .c14n import C14N10, C14N11, EXC_C14N, C14NMethod

__all__ = [
    "BASE64",
    "ENVELOPED",
    "FORBIDDEN_TRANSFORMS",
    "TRANSFORM_NAMES",
    "XPATH",
    "XPATH_FILTER2",
    "XSLT",
    "TransformPlan",
    "parse_transforms",
    "plan_of_uris",
    "transform_uris",
]

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
EC_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"

ENVELOPED = DS_NS + "enveloped-signature"
BASE64 = DS_NS + "base64"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XPATH_FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"

FORBIDDEN_TRANSFORMS: dict[str, str] = {
    XSLT: "XSLT transforms run attacker-supplied programs",
    XPATH: "XPath transforms select content by expression (signature wrapping, DoS)",
    XPATH_FILTER2: "XPath Filter 2.0 selects content by expression",
    "http://www.w3.org/2001/04/xmldsig-more/xptr": "XPointer transforms are not supported",
    BASE64: "the Base64 transform signs decoded octets, not the XML we return",
    "http://www.w3.org/2002/07/decrypt#XML": "the decryption transform is not supported",
    "http://www.w3.org/2002/07/decrypt#Binary": "the decryption transform is not supported",
}
"""Transform URIs refused on sight, with the reason given in the error."""

TRANSFORM_NAMES: dict[str, str] = {
    "enveloped-signature": ENVELOPED,
    "exc-c14n": EXC_C14N,
    "c14n": C14N10,
    "c14n11": C14N11,
}
"""Short names accepted by ``ReferenceSpec.transforms`` (full URIs are accepted too)."""


@dataclass(frozen=True, slots=True)
class TransformPlan:
    """The transforms of one Reference, reduced to what our profile can express."""

    enveloped: bool = False
    """Remove the enclosing Signature before canonicalising (XMLDSig §6.6.4)."""
    c14n: C14NMethod | None = None
    """The C14N method; ``None`` means the default inclusive C14N 1.0 (XMLDSig §4.4.3.2)."""
    inclusive_prefixes: tuple[str, ...] = ()
    """Exclusive C14N InclusiveNamespaces PrefixList."""

    @property
    def method(self) -> C14NMethod:
        """The C14N method actually applied (default: C14N 1.0 without comments)."""
        return self.c14n or C14NMethod.from_uri(C14N10)


def _prefix_list(transform: etree._Element) -> tuple[str, ...]:
    prefixes: tuple[str, ...] = ()
    for child in transform:
        if not isinstance(child.tag, str):
            continue  # comments and PIs inside a Transform carry no meaning
        if child.tag != f"{{{EC_NS}}}InclusiveNamespaces" or prefixes:
            raise InvalidInput(f"unexpected {child.tag!r} inside an Exclusive C14N Transform")
        prefixes = tuple((child.get("PrefixList") or "").split())
    return prefixes


def parse_transforms(transforms: etree._Element | None) -> TransformPlan:
    """Read a ``ds:Transforms`` element into a plan, refusing anything outside the profile.

    Raises:
        UnsupportedFeature: a forbidden or unknown transform, or an order we do not run
            (anything after the C14N method, two C14N methods).
        InvalidInput: malformed Transform elements.
    """
    if transforms is None:
        return TransformPlan()
    enveloped = False
    c14n: C14NMethod | None = None
    prefixes: tuple[str, ...] = ()
    for t in transforms:
        if not isinstance(t.tag, str):
            continue
        if t.tag != f"{{{DS_NS}}}Transform":
            raise InvalidInput(f"unexpected {t.tag!r} in ds:Transforms")
        uri = t.get("Algorithm")
        enveloped, c14n = _apply(uri, enveloped, c14n, any(isinstance(c.tag, str) for c in t))
        if uri != ENVELOPED and c14n is not None and c14n.exclusive:
            prefixes = _prefix_list(t)
    return TransformPlan(enveloped=enveloped, c14n=c14n, inclusive_prefixes=prefixes)


def _apply(
    uri: str | None, enveloped: bool, c14n: C14NMethod | None, params: bool
) -> tuple[bool, C14NMethod | None]:
    """One Transform (its Algorithm; ``params``: it has element children) after the others."""
    if not uri:
        raise InvalidInput("ds:Transform without an Algorithm")
    if uri in FORBIDDEN_TRANSFORMS:
        raise UnsupportedFeature(
            f"transform {uri}: {FORBIDDEN_TRANSFORMS[uri]}", code="xmldsig.transform"
        )
    if c14n is not None:
        # After C14N the data is an octet stream; a further transform would re-parse it.
        raise UnsupportedFeature(f"transform {uri!r} after canonicalization")
    if uri == ENVELOPED:
        if enveloped or params:
            raise UnsupportedFeature("repeated or parameterised enveloped-signature")
        return True, None
    method = C14NMethod.from_uri(uri)  # unknown URIs raise UnsupportedFeature here
    if params and not method.exclusive:
        raise InvalidInput(f"unexpected parameters for transform {uri!r}")
    return enveloped, method


@functools.lru_cache(maxsize=64)
def plan_of_uris(uris: tuple[str, ...]) -> TransformPlan:
    """:func:`parse_transforms` of a ds:Transforms whose Transform children are childless
    elements with these Algorithm URIs, in order (same refusals, same messages)."""
    enveloped = False
    c14n: C14NMethod | None = None
    for uri in uris:
        enveloped, c14n = _apply(uri, enveloped, c14n, False)
    return TransformPlan(enveloped=enveloped, c14n=c14n)


def transform_uris(names: tuple[str, ...] | list[str]) -> list[str]:
    """Map ``ReferenceSpec`` transform names (or URIs) to URIs; signing allows only
    enveloped-signature and Exclusive C14N."""
    uris = [TRANSFORM_NAMES.get(n, n) for n in names]
    allowed = ([ENVELOPED] if uris[:1] == [ENVELOPED] else []) + [EXC_C14N]
    if uris != allowed:
        raise ConfigurationError(
            f"signing supports only ('enveloped-signature',) 'exc-c14n'; got {tuple(names)}"
        )
    return uris
