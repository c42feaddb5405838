"""The fast paths of the XML pipeline give exactly the answers of the slow checks they replace.

``parse_xml`` checks depth and text-node limits with libxml2 XPath instead of a Python tree
walk, and decodes UTF-8 in Python only to locate an error libxml2 already raised
(docs/xml-signatures.md, "Performance"). These tests hold the two in step.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pakn_sign.codec import xmlparse
from pakn_sign.codec.xmlparse import XmlLimits, parse_xml
from pakn_sign.errors import InvalidInput

_KINDS = ("el", "comment", "pi", "text")


@st.composite
def trees(draw: st.DrawFn) -> bytes:
    """Small documents mixing elements, comments, PIs and text at random depths."""

    def node(depth: int) -> str:
        kind = draw(st.sampled_from(_KINDS if depth < 9 else _KINDS[1:]))
        size = draw(st.integers(0, 12))
        text = draw(st.sampled_from(["a", "ệ", "𝄞", "&amp;", "&#x1EC7;"])) * size
        if kind == "comment":
            return f"<!--{text.replace('&', 'x')}-->"
        if kind == "pi":
            return f"<?p {text.replace('&', 'x')}?>"
        if kind == "text":
            return text
        kids = "".join(node(depth + 1) for _ in range(draw(st.integers(0, 3))))
        return f"<e>{kids}</e>"

    return ("<r>" + "".join(node(2) for _ in range(draw(st.integers(0, 3)))) + "</r>").encode()


def _slow(root: etree._Element, limits: XmlLimits) -> bool:
    try:
        xmlparse._check_shape(root, limits)
    except InvalidInput:
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(trees(), st.integers(0, 10), st.integers(0, 30))
def test_shape_fast_path_matches_walk(data: bytes, depth: int, text: int) -> None:
    limits = XmlLimits(max_depth=depth, max_text_bytes=text)
    root = etree.fromstring(data)
    # size 10**9 forces the text scan that small inputs are allowed to skip
    assert xmlparse._shape_exceeded(root, limits, 10**9) == _slow(root, limits)
    assert xmlparse._shape_exceeded(root, limits, len(data)) == _slow(root, limits)


def test_attack_deep_comment_counts_as_a_level() -> None:
    data = b"<r>" + b"<e>" * 3 + b"<!--x-->" + b"</e>" * 3 + b"</r>"
    with pytest.raises(InvalidInput) as err:
        parse_xml(data, limits=XmlLimits(max_depth=4))
    assert err.value.code == "input.too_deep"
    parse_xml(data, limits=XmlLimits(max_depth=5))


_LEAD = [0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF]
_CONT = [0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0x41, 0x00, 0xC3]
_HEADS = [
    b"",
    b"<?xml version='1.0' encoding='UTF-8'?>\n",
    b"<?xml version='1.0' encoding='utf8'?>\n",
    b"<?xml version='1.0'?>\n",
    b"\xef\xbb\xbf",
]


def test_attack_invalid_utf8_never_parses() -> None:
    """Random invalid sequences anywhere (text, attributes, names, comments, PIs, CDATA)."""
    rng = random.Random(20261129)
    body = '<a x="Nghệ"><b>Trả lời ễ 𝄞</b><!-- chú --><?pi dữ?><![CDATA[ữ]]></a>'.encode()
    for _ in range(3000):
        data = bytearray(body)
        for _ in range(rng.randint(1, 3)):
            tail = [rng.choice(_CONT) for _ in range(rng.randint(0, 4))]
            pos = rng.randrange(len(data) + 1)
            data[pos:pos] = bytes([rng.choice(_LEAD), *tail])
        raw = rng.choice(_HEADS) + bytes(data[: rng.randrange(len(data) + 1)])
        try:
            raw.decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        with pytest.raises(InvalidInput):
            parse_xml(raw)


@pytest.mark.parametrize(
    "seq", [b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", b"\xf0\x9f\x98"]
)
def test_attack_invalid_utf8_named_by_byte_and_line(seq: bytes) -> None:
    data = b"<?xml version='1.0' encoding='UTF-8'?>\n<a>\n<b>x" + seq + b"</b></a>"
    with pytest.raises(InvalidInput) as err:
        parse_xml(data)
    assert err.value.location == "line 3"
    assert f"0x{seq[0]:02x}" in err.value.message


def test_doctype_found_without_exclamation_prefilter_gap() -> None:
    for data in (b"<!DOCTYPE a><a/>", b"<a/><!doctype x>", b"<a><!ENTITY x 'y'></a>"):
        with pytest.raises(InvalidInput) as err:
            parse_xml(data)
        assert err.value.code == "input.dtd_forbidden"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["a", "b", "c", None])),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["a", "b", "c", "d"]),
)
def test_id_index_matches_find_by_id(ids: list[tuple[str | None, str | None]], value: str) -> None:
    from pakn_sign.signing.xmldsig_refs import IdIndex, find_by_id

    root = etree.Element("r")
    for id_, id2 in ids:
        el = etree.SubElement(etree.SubElement(root, "w"), "e")
        if id_ is not None:
            el.set("Id", id_)
        if id2 is not None:
            el.set("ID", id2)
    doc = root.getroottree()
    attrs = ("Id", "ID")

    def answer(fn: object) -> object:
        try:
            return fn()  # type: ignore[operator]
        except InvalidInput as exc:
            return exc.message

    index = IdIndex(doc, attrs)
    expected = [el for el in root.iter() if value in (el.get("Id"), el.get("ID"))]
    reference = expected[0] if len(expected) == 1 else len(expected)
    assert answer(lambda: find_by_id(doc, value, attrs)) in (reference, _message(value, expected))
    assert answer(lambda: index.find(value)) == answer(lambda: find_by_id(doc, value, attrs))
    assert index.serves(doc)
    assert not index.serves(etree.ElementTree(etree.Element("x")))


def _message(value: str, found: list[etree._Element]) -> str:
    what = "not found" if not found else f"found {len(found)} times (ambiguous)"
    return f"Reference target #{value} {what}; it must occur exactly once"


def test_certificate_objects_reused_across_parses() -> None:
    import datetime as dt
    import tempfile
    from pathlib import Path

    from pakn_sign.signing.xmldsig_keyinfo import parse_key_info
    from pakn_sign.trust.testpki import TestPKI

    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI.create(Path(tmp), now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
        import base64

        from cryptography.hazmat.primitives.serialization import Encoding

        der = pki.intermediate.cert.public_bytes(Encoding.DER)
    ki = etree.fromstring(
        '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
        f"<ds:X509Certificate>{base64.b64encode(der).decode()}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo>"
    )
    first, second = parse_key_info(ki), parse_key_info(ki)
    assert first.certificates[0] is second.certificates[0]
    assert first.certificates_der == (der,)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_canonical_text_equals_lxml_exclusive_c14n(data: st.DataObject) -> None:
    """encode_model_c14n is byte for byte what a verifier's C14N makes of the element."""
    from strategies import DOCUMENT_STRATEGIES

    from pakn_sign.codec import _xmlmap, xmlcodec

    doc = data.draw(
        st.sampled_from(sorted(DOCUMENT_STRATEGIES)).flatmap(lambda k: DOCUMENT_STRATEGIES[k])
    )
    text = _xmlmap.encode_model_c14n(doc, implied=xmlcodec._IMPLIED, element_id="pakn-doc")
    tree_c14n = etree.tostring(
        xmlcodec.to_xml_element(doc, element_id="pakn-doc"), method="c14n", exclusive=True
    )
    assert text.encode() == tree_c14n
    # and what the signed container's parser sees (the container declares pakn: too)
    wrapped = etree.fromstring(f'<pakn:Signed xmlns:pakn="{xmlcodec.NS}">{text}</pakn:Signed>')
    assert etree.tostring(wrapped[0], method="c14n", exclusive=True) == tree_c14n


def test_canonical_text_escapes_markup_and_cr() -> None:
    from conftest import example_documents

    from pakn_sign.codec import _xmlmap, xmlcodec

    petition = next(d for d in example_documents() if d.kind == "petition")
    doc = petition.model_copy(update={"title": "a & b < c > d \" e ' f \r\n g\th ệ"})
    text = _xmlmap.encode_model_c14n(doc, implied=xmlcodec._IMPLIED)
    assert "<pakn:Title>a &amp; b &lt; c &gt; d \" e ' f &#xD;\n g\th ệ</pakn:Title>" in text
    assert text.encode() == etree.tostring(
        xmlcodec.to_xml_element(doc), method="c14n", exclusive=True
    )
    with pytest.raises(InvalidInput) as err:
        _xmlmap.encode_model_c14n(
            petition.model_copy(update={"title": "x\x0by"}), implied=xmlcodec._IMPLIED
        )
    assert err.value.location == "/Petition/Title"


@pytest.mark.parametrize("algorithm", ["rsa2048", "p256"])
@pytest.mark.parametrize("role", ["personal", "organisation"])
def test_text_signature_equals_tree_signature(algorithm: str, role: str, tmp_path: Path) -> None:
    """The B-B text path writes what the tree path writes (after C14N; ECDSA values differ)."""
    import datetime as dt

    from conftest import example_documents

    from pakn_sign.signing.sign_xml import _container_from_model, sign_xml
    from pakn_sign.signing.xades import XAdESLevel, add_xades_signature
    from pakn_sign.signing.xades_order import SignerRole
    from pakn_sign.trust.testpki import TestPKI

    now = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    pki = TestPKI.create(tmp_path, now=now, algorithm=algorithm)
    signer = pki.signer("official-g10")
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    for doc in example_documents():
        fast = etree.fromstring(sign_xml(doc, signer, role=role, at=now))
        tree = _container_from_model(doc)
        add_xades_signature(
            tree, signer, role=SignerRole(role), level=XAdESLevel.B_B, signing_time=now
        )
        if algorithm != "rsa2048":  # ECDSA is randomised: compare all but the value
            for root in (fast, tree):
                value = root.find(f"{ds}Signature/{ds}SignatureValue")
                assert value is not None
                value.text = ""
        c14n = [etree.tostring(r, method="c14n", exclusive=True) for r in (fast, tree)]
        assert c14n[0] == c14n[1], doc.kind


def test_canonical_text_refusal_names_the_list_item() -> None:
    from conftest import example_documents

    from pakn_sign.codec import _xmlmap, xmlcodec

    petition = next(d for d in example_documents() if getattr(d, "attachments", None))
    items = list(petition.attachments)
    items[-1] = items[-1].model_copy(update={"name": "a\x00b"})
    bad = petition.model_copy(update={"attachments": tuple(items)})
    with pytest.raises(InvalidInput) as err:
        _xmlmap.encode_model_c14n(bad, implied=xmlcodec._IMPLIED)
    where = f"/{type(bad).__name__}/Attachments[{len(items) - 1}]/Name"
    assert err.value.location == where
    with pytest.raises(InvalidInput) as err:
        xmlcodec.to_xml_element(bad)
    assert err.value.location == where


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *["a", "ệ", "&", "<", ">", "\r", "\n", "\t", "\x01", "\x1f", "\ufffe", "\uffff"],
                *["\ud800", "\U0001d11e", "\u00a0", "\uffe0", "]]>", '"', "'"],
            ]
        ),
        min_size=1,
        max_size=8,
    ).map("".join)
)
def test_canonical_bytes_check_matches_value_by_value_escaping(title: str) -> None:
    """The one byte-level scan of the canonical writer decides as the per-value regex did:
    same octets as lxml's C14N of the tree, or the same located refusal."""
    from conftest import example_documents

    from pakn_sign.codec import _xmlmap, xmlcodec

    petition = next(d for d in example_documents() if d.kind == "petition")
    doc = petition.model_construct(**{**dict(petition), "title": title})  # no model checks
    try:
        got: object = _xmlmap.encode_model_c14n_bytes(doc, implied=xmlcodec._IMPLIED)
    except InvalidInput as exc:
        got = exc.location
    try:
        want: object = "".join(_escaped_reference(doc)).encode()
    except _Refused:
        want = "/Petition/Title"
    assert got == want


class _Refused(Exception):
    pass


def _escaped_reference(doc: object) -> list[str]:
    """The value-by-value writer (the path the byte scan falls back to), as a reference."""
    from pakn_sign.codec import _xmlmap, xmlcodec
    from pakn_sign.codec._xmlplan import model_plan

    out = [f'<pakn:Petition xmlns:pakn="{xmlcodec.NS}"', ">"]
    try:
        _xmlmap._c14n_fields(
            out,
            model_plan(type(doc), xmlcodec._IMPLIED),  # type: ignore[arg-type]
            doc,  # type: ignore[arg-type]
            doc.model_dump(mode="json"),  # type: ignore[attr-defined]
            None,
        )
    except _xmlmap._BadText:
        raise _Refused from None
    return [*out, "</pakn:Petition>"]
