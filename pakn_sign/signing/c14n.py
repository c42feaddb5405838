"""Canonical XML for XMLDSig: C14N 1.0, C14N 1.1 and Exclusive C14N, via libxml2 (lxml).

lxml exposes libxml2's C14N 1.0 and Exclusive C14N 1.0. C14N 1.1 (W3C REC 2008) differs
from 1.0 only in how ``xml:*`` attributes of *omitted ancestors* are carried into a
document subset (1.1 §2.4: ``xml:id`` is not inherited, ``xml:base`` is fixed up). lxml
also drops inherited ``xml:lang``/``xml:space`` when canonicalising a subtree, which 1.0
requires. So an inclusive method over a subtree whose omitted ancestors carry any ``xml:*``
attribute raises ``UnsupportedFeature``; everywhere else the output is exactly the REC's.

Same-document references never include comments (XMLDSig 1.1 §4.4.3.3: the bare-name
and ``""`` node-sets are "without comments"), so ``with_comments`` only ever applies to
SignedInfo. lxml's default is *with* comments, so every call here states it explicitly.
Inclusive C14N of a subtree runs on a re-parsed copy (libxml2 bug, see ``_standalone``);
Exclusive C14N, which is all we sign with, runs on the tree itself.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from ..errors import InvalidInput, UnsupportedFeature

__all__ = [
    "C14N10",
    "C14N10_COMMENTS",
    "C14N11",
    "C14N11_COMMENTS",
    "EXC_C14N",
    "EXC_C14N_COMMENTS",
    "C14NMethod",
    "canonicalize",
]

C14N10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N10_COMMENTS = C14N10 + "#WithComments"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
C14N11_COMMENTS = C14N11 + "#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = EXC_C14N + "WithComments"

_XML_NS = "{http://www.w3.org/XML/1998/namespace}"


@dataclass(frozen=True, slots=True)
class C14NMethod:
    """One canonicalization algorithm, identified by its URI."""

    uri: str
    """The algorithm URI as written in CanonicalizationMethod / Transform."""
    exclusive: bool
    """Exclusive XML Canonicalization 1.0 (namespaces rendered where visibly used)."""
    with_comments: bool
    """The ``#WithComments`` variant."""

    @classmethod
    def from_uri(cls, uri: str) -> C14NMethod:
        """Look up a C14N URI; anything else raises ``UnsupportedFeature``."""
        method = _BY_URI.get(uri)
        if method is None:
            if uri not in _METHODS:
                raise UnsupportedFeature(
                    f"canonicalization method {uri!r} is not supported", code="xmldsig.c14n"
                )
            # Frozen values: one per URI, shared (building a frozen dataclass costs ~1 us).
            method = _BY_URI.setdefault(uri, cls(uri, *_METHODS[uri]))
        return method


_METHODS: dict[str, tuple[bool, bool]] = {
    C14N10: (False, False),
    C14N10_COMMENTS: (False, True),
    C14N11: (False, False),
    C14N11_COMMENTS: (False, True),
    EXC_C14N: (True, False),
    EXC_C14N_COMMENTS: (True, True),
}


_BY_URI: dict[str, C14NMethod] = {}


def _check_inherited_xml_attrs(el: etree._Element) -> None:
    # C14N 1.0 §2.4 / C14N 1.1 §2.4: xml:* attributes of omitted ancestors change the
    # output of inclusive methods; lxml cannot render that, so refuse instead of guessing.
    for anc in el.iterancestors():
        for name in anc.attrib:
            if str(name).startswith(_XML_NS):
                raise UnsupportedFeature(
                    f"inclusive C14N of a subtree below an element with {name!r} "
                    "(xml:* attribute inheritance) is not supported",
                    code="xmldsig.c14n",
                )


def _path_from(top: etree._Element, node: etree._Element) -> list[int] | None:
    path: list[int] = []
    cur: etree._Element | None = node
    while cur is not None and cur is not top:
        parent = cur.getparent()
        if parent is None:
            return None
        path.append(parent.index(cur))
        cur = parent
    return path[::-1] if cur is top else None


def _remove_keep_tail(el: etree._Element) -> None:
    # XMLDSig §6.6.4: the enveloped-signature transform removes the Signature element and
    # its descendants only; the text after it (its lxml "tail") stays in the document.
    parent = el.getparent()
    assert parent is not None
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


_COPY_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False
)


def _standalone(
    node: etree._Element | etree._ElementTree,
) -> etree._Element | etree._ElementTree:
    """A self-contained copy for *inclusive* C14N.

    lxml 6.1 / libxml2 2.14 inclusive C14N of a subtree, and of a ``deepcopy`` of one,
    writes a spurious ``xmlns=""`` on descendants when the default namespace is declared
    above the apex (found on the merlin vectors). Serialising the subtree (lxml writes
    every in-scope declaration on it) and re-parsing our own output gives a tree whose
    declarations are all its own; its inclusive C14N is then correct.
    """
    data = etree.tostring(node, encoding="UTF-8", with_tail=False)
    copy_root = etree.fromstring(data, parser=_COPY_PARSER)
    return copy_root.getroottree() if isinstance(node, etree._ElementTree) else copy_root


def _without(
    node: etree._Element | etree._ElementTree, exclude: etree._Element, *, exclusive: bool
) -> etree._Element | etree._ElementTree | None:
    """A copy of ``node`` minus ``exclude``, or ``None`` if ``exclude`` is not inside it."""
    top = node.getroot() if isinstance(node, etree._ElementTree) else node
    if exclude is top:
        raise UnsupportedFeature("enveloped-signature transform on the Signature itself")
    path = _path_from(top, exclude)
    if path is None:
        return None
    # A copy keeps the caller's tree untouched (no detach/re-attach of the Signature,
    # which would make lxml re-home its namespace declarations). Exclusive C14N of a
    # deepcopy was checked equal to the original on all 9,118 vector elements.
    dup = copy.deepcopy(node) if exclusive else _standalone(node)
    target = dup.getroot() if isinstance(dup, etree._ElementTree) else dup
    for i in path:
        target = target[i]
    _remove_keep_tail(target)
    return dup


def canonicalize(
    node: etree._Element | etree._ElementTree,
    method: C14NMethod,
    *,
    inclusive_prefixes: Sequence[str] = (),
    exclude: etree._Element | None = None,
    with_comments: bool | None = None,
) -> bytes:
    """Canonical bytes of an element (subtree) or a whole document.

    Args:
        node: an element (its subtree is the node-set) or an ElementTree (whole document,
            including processing instructions outside the root element).
        method: the algorithm.
        inclusive_prefixes: Exclusive C14N InclusiveNamespaces PrefixList.
        exclude: an element to leave out (enveloped-signature transform).
        with_comments: override the method's comment handling (``False`` for references).

    Raises:
        UnsupportedFeature: ``#default`` in a PrefixList, or inclusive C14N of a subtree
            whose omitted ancestors carry ``xml:*`` attributes.
    """
    comments = method.with_comments if with_comments is None else with_comments
    if "#default" in inclusive_prefixes:
        # libxml2 ignores the #default token (Exc-C14N §3), so its output would be wrong.
        raise UnsupportedFeature("'#default' in InclusiveNamespaces PrefixList")
    if not method.exclusive and isinstance(node, etree._Element):
        _check_inherited_xml_attrs(node)
    if exclude is not None:
        reduced = _without(node, exclude, exclusive=method.exclusive)
        if reduced is not None:
            node = reduced
        elif not method.exclusive and isinstance(node, etree._Element):
            node = _standalone(node)
    elif not method.exclusive and isinstance(node, etree._Element) and node.getparent() is not None:
        node = _standalone(node)
    try:
        return etree.tostring(
            node,
            method="c14n",
            exclusive=method.exclusive,
            with_comments=comments,
            inclusive_ns_prefixes=list(inclusive_prefixes) if method.exclusive else None,
        )
    except etree.C14NError as exc:
        # libxml2 refuses e.g. relative namespace URIs (C14N 1.0 §2.3).
        raise InvalidInput(f"cannot canonicalize: {exc}", code="xmldsig.c14n") from exc
