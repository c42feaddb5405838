"""Same-document Reference resolution and digest input: the signature-wrapping defences.

XMLDSig 1.1 §4.4.3.3 lets a Reference URI be anything; our profile takes only ``""``
(the whole document) and ``"#id"`` (a bare-name XPointer). An ``id`` must occur exactly
once in the whole document, on one of the caller's allowed attribute names (no DTD-
declared IDs, no ``xml:id`` magic): a duplicated Id is refused, never "first match wins",
so the element that was digested is the only one a caller can be handed.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence

from lxml import etree

from ..errors import ConfigurationError, InvalidInput, InvalidSignature, UnsupportedFeature
from .c14n import canonicalize
from .transforms import TransformPlan

__all__ = ["IdIndex", "find_by_id", "reference_input"]

_MANIFEST = "{http://www.w3.org/2000/09/xmldsig#}Manifest"
_SIGNED_INFO = "{http://www.w3.org/2000/09/xmldsig#}SignedInfo"
_ATTR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_ID_VALUE = re.compile(r"^[^\s()#'\"/]+$")


@functools.lru_cache(maxsize=32)
def _id_xpath(attrs: tuple[str, ...]) -> str:
    for a in attrs:
        if not _ATTR_NAME.match(a):
            raise ConfigurationError(f"id attribute name {a!r} is not a plain XML name")
    if not attrs:
        raise ConfigurationError("at least one id attribute name is needed")
    # One C-level scan with the value bound as a variable (no string splicing). Walking
    # the attribute axis (//@Id/..) is ~5x cheaper in libxml2 than testing every element
    # (//*[@Id=$v]); the union of parents is the same node-set.
    return " | ".join(f"//@{a}[. = $v]/.." for a in attrs)


_LOCAL = threading.local()


def _compiled_any(attrs: tuple[str, ...]) -> etree.XPath:
    cache: dict[tuple[str, ...], etree.XPath] = _LOCAL.__dict__.setdefault("any_xpaths", {})
    xp = cache.get(attrs)
    if xp is None:
        _id_xpath(attrs)  # validates the names
        xp = cache[attrs] = etree.XPath(" | ".join(f"//@{a}/.." for a in attrs))
    return xp


def _compiled(attrs: tuple[str, ...]) -> etree.XPath:
    # Compiling costs more than the scan on a 4 KB document; lxml XPath objects must not be
    # shared between threads, so the cache is per thread.
    cache: dict[tuple[str, ...], etree.XPath] = _LOCAL.__dict__.setdefault("xpaths", {})
    xp = cache.get(attrs)
    if xp is None:
        xp = cache[attrs] = etree.XPath(_id_xpath(attrs))
    return xp


def find_by_id(doc: etree._ElementTree, value: str, id_attributes: Sequence[str]) -> etree._Element:
    """The one element whose allowed id attribute equals ``value``.

    Raises:
        InvalidInput: no such element, or more than one (signature wrapping defence).
    """
    found = _compiled(tuple(id_attributes))(doc, v=value)
    assert isinstance(found, list)
    return _one(value, [el for el in found if isinstance(el, etree._Element)])


def _one(value: str, found: list[etree._Element]) -> etree._Element:
    if len(found) != 1:
        what = "not found" if not found else f"found {len(found)} times (ambiguous)"
        raise InvalidInput(
            f"Reference target #{value} {what}; it must occur exactly once",
            code="xmldsig.reference_target",
        )
    return found[0]


class IdIndex:
    """Every element carrying an allowed id attribute, by value: one document scan serves all
    the References of a signature (the tree must not change while the index is used).

    Same answers as :func:`find_by_id` (one element per value, else ``InvalidInput``).
    """

    def __init__(self, doc: etree._ElementTree, id_attributes: Sequence[str]) -> None:
        attrs = tuple(id_attributes)
        self._doc = doc
        self._by_value: dict[str, list[etree._Element]] = {}
        found = _compiled_any(attrs)(doc)
        assert isinstance(found, list)
        for el in found:
            assert isinstance(el, etree._Element)
            # An element whose Id and ID are equal is one match, as in the XPath predicate.
            for v in {el.get(a) for a in attrs} - {None}:
                self._by_value.setdefault(str(v), []).append(el)

    def serves(self, doc: etree._ElementTree) -> bool:
        """True when the index was built over ``doc`` (the same underlying document)."""
        return self._doc.getroot() is doc.getroot()

    def find(self, value: str) -> etree._Element:
        """The one element whose id is ``value`` (``InvalidInput`` if none or several)."""
        return _one(value, self._by_value.get(value, []))


def _resolve(
    signature: etree._Element, uri: str, id_attributes: Sequence[str], index: IdIndex | None
) -> tuple[etree._Element, etree._Element | etree._ElementTree]:
    doc = signature.getroottree()
    if uri == "":
        # §4.4.3.3: "" is the whole document without comments (PIs outside the root kept).
        return doc.getroot(), doc
    if uri.startswith("#"):
        value = uri[1:]
        if value.startswith("xpointer("):
            raise UnsupportedFeature(
                f"XPointer reference {uri!r} is not supported", code="xmldsig.reference_uri"
            )
        if not _ID_VALUE.match(value):
            raise InvalidInput(f"Reference URI {uri!r} is not a bare-name id")
        if index is not None and index.serves(doc):
            el = index.find(value)
        else:
            el = find_by_id(doc, value, id_attributes)
        return el, el
    # http:, https:, file:, relative paths, urn:…: never fetched, never read.
    raise UnsupportedFeature(
        f"Reference URI {uri!r} is external; only same-document references are supported",
        code="xmldsig.reference_uri",
    )


def reference_input(
    signature: etree._Element,
    uri: str | None,
    plan: TransformPlan,
    id_attributes: Sequence[str],
    index: IdIndex | None = None,
) -> tuple[etree._Element, bytes]:
    """The referenced element and the canonical octets its digest is computed over.

    ``index``: an :class:`IdIndex` of the document built with the same ``id_attributes``
    (saves a scan per Reference); ``None`` scans.

    Raises:
        UnsupportedFeature: external or XPointer URIs, a missing URI attribute.
        InvalidInput: a target that is absent or not unique.
    """
    if uri is None:
        raise UnsupportedFeature("Reference without URI (application-defined data)")
    element, node = _resolve(signature, uri, id_attributes, index)
    if element.tag == _MANIFEST or element.tag == _SIGNED_INFO:
        # A Manifest's own References are not checked by core validation (XMLDSig §5.1);
        # returning one as "signed" would hand callers unverified pointers.
        raise UnsupportedFeature(
            f"Reference {uri!r} points at a ds:{etree.QName(element).localname}; "
            "Manifests are not supported",
            code="xmldsig.manifest",
        )
    if plan.enveloped and (element is signature or signature in element.iterancestors()):
        # §6.6.4: the transform drops the whole enclosing Signature, so content inside it
        # (an enveloping Object) would be digested as *nothing*; never hand it out as signed.
        raise InvalidSignature(
            f"enveloped-signature transform on {uri!r}, which is inside the Signature",
            sub_indication="HASH_FAILURE",
        )
    data = canonicalize(
        node,
        plan.method,
        inclusive_prefixes=plan.inclusive_prefixes,
        exclude=signature if plan.enveloped else None,
        with_comments=False,  # bare-name and "" node-sets never include comments
    )
    return element, data
