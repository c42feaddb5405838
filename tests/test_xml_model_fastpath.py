"""The verifier's model fast path gives exactly ``from_xml`` of the signed octets.

``document_from_signed(el, canonical)`` maps the model from the already parsed element and
accepts it only when ``to_canonical_xml(model)`` is byte-equal to the digested octets
(docs/xml-signatures.md, "Performance"). That is sound because every valid model's canonical
text is XSD-valid and reads back as the same model (the first test); anything else must
take the full path and give its answer (the others).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from strategies import DOCUMENT_STRATEGIES

from pakn_sign.codec import xmlcodec
from pakn_sign.codec._xmlschema import validate_schema
from pakn_sign.codec.xmlcodec import NS, document_from_signed, from_xml, to_canonical_xml
from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import PaknSignError

KINDS = sorted(DOCUMENT_STRATEGIES)


def _exc_c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def _in_container(doc_text: str, extra_ns: str = "") -> etree._Element:
    data = f'<pakn:Signed xmlns:pakn="{NS}"{extra_ns}>{doc_text}</pakn:Signed>'.encode()
    return parse_xml(data).getroot()[0]


def _outcome(fn: object, *args: object) -> object:
    try:
        return fn(*args)  # type: ignore[operator]
    except PaknSignError as exc:
        return (type(exc).__name__, exc.code, exc.message, exc.location)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("kind", KINDS)
def test_canonical_text_of_a_valid_model_is_xsd_valid_and_reads_back(
    kind: str, data: st.DataObject
) -> None:
    doc = data.draw(DOCUMENT_STRATEGIES[kind])
    text = to_canonical_xml(doc, element_id="pakn-doc").encode()
    validate_schema(etree.fromstring(text))  # raises SchemaError if not
    assert from_xml(text) == doc
    el = _in_container(text.decode())
    assert _exc_c14n(el) == text
    assert xmlcodec._canonical_model(el, text) == doc  # the fast path is taken


def _variants(text: str) -> list[tuple[str, str]]:
    """(document text, extra namespace declarations on the container) that are not canonical."""
    head, _, rest = text.partition(">")
    body, _, tail = rest.rpartition("</")
    first_close = rest.index("</")
    return [
        (f"{head}><!-- c -->{rest}", ""),  # comment (C14N drops it: same octets, other tree)
        (f"{head}><?pi x?>{rest}", ""),  # processing instruction
        (f'{head} xsi:type="x">{rest}', f' xmlns:xsi="{_XSI}"'),  # xsi attribute
        (f'{head} Extra="1">{rest}', ""),  # foreign attribute
        (f"{head}>\n  {rest}", ""),  # whitespace in element-only content
        (f"{head}>x{rest}", ""),  # text in element-only content (XSD refuses)
        (
            text.replace("<pakn:", "<p:")
            .replace("</pakn:", "</p:")
            .replace("xmlns:pakn=", "xmlns:p="),
            "",
        ),  # another prefix
        (f"{head}>{rest[:first_close]}\u0065\u0301{rest[first_close:]}", ""),  # non-NFC
        (f"{head}>{body}<pakn:Bogus/></{tail}", ""),  # unknown element
        (f"{head}><pakn:SchemaVersion>9</pakn:SchemaVersion>{rest}", ""),  # duplicate field
    ]


_XSI = "http://www.w3.org/2001/XMLSchema-instance"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.integers(0, 9))
@pytest.mark.parametrize("kind", KINDS)
def test_anything_not_canonical_gets_the_full_paths_answer(
    kind: str, data: st.DataObject, which: int
) -> None:
    doc = data.draw(DOCUMENT_STRATEGIES[kind])
    text, extra = _variants(to_canonical_xml(doc, element_id="pakn-doc"))[which]
    el = _in_container(text, extra)
    canonical = _exc_c14n(el)
    assert xmlcodec._canonical_model(el, canonical) is None
    assert _outcome(document_from_signed, el, canonical) == _outcome(from_xml, canonical)


def test_attack_comment_in_signed_text_returns_the_canonical_content() -> None:
    """A comment splitting a text node: the model is the canonical (comment-free) text."""
    from conftest import example_documents

    petition = next(d for d in example_documents() if d.kind == "petition")
    text = to_canonical_xml(petition, element_id="pakn-doc")
    title = f"<pakn:Title>{petition.title}</pakn:Title>"
    hostile = text.replace(title, f"<pakn:Title>Kiến<!-- x -->{petition.title[4:]}</pakn:Title>")
    el = _in_container(hostile)
    canonical = _exc_c14n(el)
    assert xmlcodec._canonical_model(el, canonical) is None
    got = document_from_signed(el, canonical)
    assert got == from_xml(canonical)
    assert got.title == "Kiến" + petition.title[4:]


def test_model_error_is_the_full_paths_located_error() -> None:
    from conftest import example_documents

    petition = next(d for d in example_documents() if d.kind == "petition")
    text = to_canonical_xml(petition, element_id="pakn-doc")
    bad = text.replace("<pakn:Channel>portal</pakn:Channel>", "<pakn:Channel>fax</pakn:Channel>")
    assert bad != text
    el = _in_container(bad)
    canonical = _exc_c14n(el)
    with pytest.raises(PaknSignError) as slow:
        from_xml(canonical)
    with pytest.raises(PaknSignError) as fast:
        document_from_signed(el, canonical)
    assert (fast.value.code, fast.value.message, fast.value.location) == (
        slow.value.code,
        slow.value.message,
        slow.value.location,
    )
