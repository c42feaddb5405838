"""The shipped XSD, loaded once, and readable locations for XML errors."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from lxml import etree

from .._resources import schemas_dir
from ..errors import SchemaError
from ._xmlplan import NS

__all__ = [
    "DSIG_NS",
    "XSD_NAME",
    "element_path",
    "location_of",
    "schema",
    "validate_schema",
    "xsd_path",
]

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XSD_NAME = "pakn-1.xsd"
_PREFIXES = {NS: "pakn", DSIG_NS: "ds"}
_CLARK = re.compile(r"\{([^}]*)\}")


def xsd_path() -> Path:
    """The shipped ``pakn-1.xsd``."""
    return schemas_dir() / "xsd" / XSD_NAME


@functools.cache
def schema() -> etree.XMLSchema:
    """The compiled XSD (trusted, shipped with the package; compiled once per process)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.parse(str(xsd_path()), parser)
    return etree.XMLSchema(doc)


def _short(tag: str) -> str:
    m = _CLARK.match(tag)
    if not m:
        return tag
    prefix = _PREFIXES.get(m.group(1))
    local = tag[m.end() :]
    return f"{prefix}:{local}" if prefix else tag


def readable(message: str) -> str:
    """libxml2 messages with ``{urn:pakn-sign:pakn:1}X`` shortened to ``pakn:X``."""
    return _CLARK.sub(
        lambda m: f"{_PREFIXES[m.group(1)]}:" if m.group(1) in _PREFIXES else m.group(0), message
    )


def element_path(el: etree._Element) -> str:
    """``/pakn:Petition/pakn:Attachments/pakn:Attachment[2]/pakn:Sha256``-style path."""
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        tag = node.tag if isinstance(node.tag, str) else "node()"
        step = _short(tag)
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        parts.append(step)
        node = parent
    return "/" + "/".join(reversed(parts))


def location_of(el: etree._Element) -> str:
    """``line N, /path`` for an element (line omitted for trees built in memory)."""
    line = el.sourceline
    return f"line {line}, {element_path(el)}" if line else element_path(el)


def validate_schema(el: etree._Element) -> None:
    """Validate ``el`` (a document or a Signed container) against the XSD.

    Raises:
        SchemaError: the first violation, located by line and element path, with what
            libxml2 expected.
    """
    xsd = schema()
    if xsd.validate(el):
        return
    log: Any = xsd.error_log  # lxml-stubs lack _ErrorLog.__iter__
    entry = next(iter(log), None)
    if entry is None:  # pragma: no cover - libxml2 always logs a reason
        raise SchemaError("document does not match the PAKN XSD", location=location_of(el))
    where = readable(entry.path) if entry.path else element_path(el)
    parent = el.getparent()
    if entry.path and parent is not None:
        # libxml2 validates a subtree as its own document; give the path in the whole tree.
        where = element_path(parent) + where
    location = f"line {entry.line}, {where}" if entry.line else where
    raise SchemaError(f"XSD: {readable(entry.message)}", location=location)
