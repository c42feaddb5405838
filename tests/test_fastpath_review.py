"""Adversarial review of the verification fast paths (1/3): the model read after an XML
verification (``xmlcodec.document_from_signed``: quick decode, then the canonical writer,
accepted only on byte equality with the digested octets) against ``from_xml`` of the octets.

A fast path may only accept what the strict path accepts, with the same value, and must
leave everything else to the strict path (same error class, code, message and location).
Hand-written attacks (``test_attack_*``) and hypothesis mutations of every document kind
compare the two; tests/test_fastpath_review_dsig.py and tests/test_fastpath_review_json.py
hold the SignedInfo, base64, memo and JSON parts of the review.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import pytest
from conftest import example_documents
from fastpath_helpers import doc_outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pakn_sign.codec import xmlcodec
from pakn_sign.codec.xmlcodec import NS, document_from_signed, from_xml, to_canonical_xml
from pakn_sign.codec.xmlparse import parse_xml
from pakn_sign.errors import InvalidInput

# == 1. The model read after an XML verification ==========================================


@functools.cache
def _bases() -> tuple[str, ...]:
    """The canonical text (Id ``pakn-doc``) of the example document of every kind."""
    return tuple(to_canonical_xml(d, element_id="pakn-doc") for d in example_documents())


def _model_paths(doc_text: str, container_ns: str = "") -> tuple[bool, object, object]:
    """(quick path taken, document_from_signed's outcome, from_xml's) for ``doc_text``
    signed inside a container, with the canonical octets a Reference to it digests."""
    data = f'<pakn:Signed xmlns:pakn="{NS}"{container_ns}>{doc_text}</pakn:Signed>'.encode()
    el = parse_xml(data).getroot()[0]
    canonical = etree.tostring(el, method="c14n", exclusive=True, with_comments=False)
    quick = xmlcodec._canonical_model(el, canonical) is not None
    return (
        quick,
        doc_outcome(document_from_signed, el, canonical),
        doc_outcome(from_xml, canonical),
    )


_LEAF = re.compile(r"<pakn:(\w+)>([^<]*)</pakn:\1>")


def _with_leaf(text: str, local: str, content: str) -> str:
    """``text`` with the first leaf element ``pakn:local`` holding raw XML ``content``."""
    m = next(m for m in _LEAF.finditer(text) if m.group(1) == local)
    return text[: m.start(2)] + content + text[m.end(2) :]


def _petition() -> str:
    return next(t for t in _bases() if t.startswith("<pakn:Petition "))


# (name, document text, whether the quick path takes it)
_XML_ATTACKS: list[tuple[str, Callable[[], str], bool]] = [
    ("as_written", _petition, True),
    ("cr_char_ref_in_text", lambda: _with_leaf(_petition(), "Content", "a&#xD;b"), False),
    ("crlf_char_refs_in_text", lambda: _with_leaf(_petition(), "Content", "a&#13;&#10;b"), False),
    ("tab_char_ref_in_text", lambda: _with_leaf(_petition(), "Content", "a&#x9;b"), True),
    ("lf_char_ref_in_title", lambda: _with_leaf(_petition(), "Title", "a&#10;b"), False),
    ("cdata_markup_in_text", lambda: _with_leaf(_petition(), "Title", "<![CDATA[a<b>&c]]>"), True),
    ("cdata_split_text", lambda: _with_leaf(_petition(), "Title", "Kiến<![CDATA[ nghị]]>"), True),
    ("whitespace_only_text", lambda: _with_leaf(_petition(), "Title", " \n "), False),
    ("padded_text", lambda: _with_leaf(_petition(), "Title", " Kiến nghị "), False),
    ("nfd_text", lambda: _with_leaf(_petition(), "Title", "Kie\u0302\u0301n nghi\u0323"), False),
    ("comment_in_text", lambda: _with_leaf(_petition(), "Title", "Kiến<!--x--> nghị"), False),
    ("pi_in_text", lambda: _with_leaf(_petition(), "Title", "Kiến<?x y?> nghị"), False),
    (
        "element_in_text",
        lambda: _with_leaf(_petition(), "Title", "a<pakn:Title>b</pakn:Title>"),
        False,
    ),
    ("enum_case", lambda: _with_leaf(_petition(), "Channel", "PORTAL"), False),
    ("enum_padded", lambda: _with_leaf(_petition(), "Channel", " portal"), False),
    ("time_with_z", lambda: _with_leaf(_petition(), "ReceivedAt", "2026-11-20T02:30:00Z"), False),
    (
        "time_with_zero_fraction",
        lambda: _with_leaf(_petition(), "ReceivedAt", "2026-11-20T09:30:00.000+07:00"),
        False,
    ),
    (
        "time_offset_beyond_14h",
        lambda: _with_leaf(_petition(), "ReceivedAt", "2026-11-20T09:30:00+14:01"),
        False,
    ),
    (
        "time_offset_exactly_14h",
        lambda: _with_leaf(_petition(), "ReceivedAt", "0001-01-01T00:00:00+14:00"),
        True,
    ),
    (
        "time_year_9999_minus_14h",
        lambda: _with_leaf(_petition(), "ReceivedAt", "9999-12-31T23:59:59.999999-14:00"),
        True,
    ),
    (
        "time_hour_24",
        lambda: _with_leaf(_petition(), "ReceivedAt", "2026-11-20T24:00:00+07:00"),
        False,
    ),
    (
        "name_of_200_code_points",
        lambda: _with_leaf(_petition(), "FullName", "x" * 199 + "😀"),
        True,
    ),
    (
        "name_of_201_code_points",
        lambda: _with_leaf(_petition(), "FullName", "x" * 200 + "😀"),
        False,
    ),
    (
        "nbsp_line_separator_in_name",
        lambda: _with_leaf(_petition(), "FullName", "a\u00a0b\u2028c"),
        True,
    ),
    ("unicode_digits_in_phone", lambda: _with_leaf(_petition(), "Phone", "\u0661" * 10), False),
    ("nbsp_in_email", lambda: _with_leaf(_petition(), "Email", "a\u00a0b@c.vn"), False),
    ("del_char_ref", lambda: _with_leaf(_petition(), "Title", "a&#x7F;b"), False),
    ("c1_control_char_ref", lambda: _with_leaf(_petition(), "Content", "a&#x85;b"), False),
]


def _swap_attr(text: str, old: str, new: str) -> str:
    head, sep, rest = text.partition(">")
    return head.replace(old, new) + sep + rest


def _on_first_child(text: str, attrs: str) -> str:
    # the first child element of the root gets ``attrs`` (e.g. a namespace declaration)
    head, sep, rest = text.partition(">")
    child = rest.index(">")
    return head + sep + rest[:child] + attrs + rest[child:]


_XML_ATTACKS += [
    ("xml_lang_on_root", lambda: _swap_attr(_petition(), ' Id="', ' xml:lang="vi" Id="'), False),
    ("xml_space_on_child", lambda: _on_first_child(_petition(), ' xml:space="preserve"'), False),
    ("id_on_inner_element", lambda: _on_first_child(_petition(), ' Id="inner"'), False),
    (
        "foreign_attribute_on_child",
        lambda: _on_first_child(_petition(), ' xmlns:f="urn:f" f:a="1"'),
        False,
    ),
    ("unused_prefix_on_child", lambda: _on_first_child(_petition(), ' xmlns:f="urn:f"'), True),
    ("empty_default_ns_on_child", lambda: _on_first_child(_petition(), ' xmlns=""'), True),
    (
        "pakn_ns_redeclared_on_child",
        lambda: _on_first_child(_petition(), f' xmlns:pakn="{NS}"'),
        True,
    ),
    ("id_not_ncname", lambda: _swap_attr(_petition(), 'Id="pakn-doc"', 'Id="1doc"'), False),
    ("id_with_colon", lambda: _swap_attr(_petition(), 'Id="pakn-doc"', 'Id="a:b"'), False),
    (
        "default_ns_on_child",
        lambda: re.sub(
            r"<pakn:Title>(.*?)</pakn:Title>",
            rf'<Title xmlns="{NS}">\1</Title>',
            _petition(),
            count=1,
        ),
        False,
    ),
    (
        "other_prefix_same_ns_on_child",
        lambda: re.sub(
            r"<pakn:Title>(.*?)</pakn:Title>",
            rf'<q:Title xmlns:q="{NS}">\1</q:Title>',
            _petition(),
            count=1,
        ),
        False,
    ),
    (
        "tail_text_between_children",
        lambda: _petition().replace("</pakn:Title>", "</pakn:Title>x", 1),
        False,
    ),
    (
        "whitespace_between_children",
        lambda: _petition().replace("</pakn:Title>", "</pakn:Title>\n", 1),
        False,
    ),
    (
        "comment_between_children",
        lambda: _petition().replace("</pakn:Title>", "</pakn:Title><!--c-->", 1),
        False,
    ),
    (
        "duplicate_child",
        lambda: re.sub(r"(<pakn:Title>.*?</pakn:Title>)", r"\1\1", _petition(), count=1),
        False,
    ),
    (
        "empty_optional_element",
        lambda: (
            _petition().replace("</pakn:Content>", "</pakn:Content><pakn:Note></pakn:Note>", 1)
            if "<pakn:Note>" not in _petition()
            else _with_leaf(_petition(), "Note", "")
        ),
        False,
    ),
]


@pytest.mark.parametrize("name", [name for name, _, _ in _XML_ATTACKS])
def test_attack_model_fast_path_variants(name: str) -> None:
    """Each variant of a signed document's text: the model read after verification is the
    strict path's (same model or same located error), taken quickly only when canonical."""
    make, takes = next((m, t) for n, m, t in _XML_ATTACKS if n == name)
    text = make()
    try:
        quick, fast, slow = _model_paths(text)
    except InvalidInput:
        pytest.fail(f"{name}: the variant does not even parse")
    assert fast == slow
    assert quick is takes


def _leaf_texts() -> st.SearchStrategy[str]:
    xml_char = st.characters(
        codec="utf-8",
        exclude_categories=("Cs",),
        exclude_characters="\ufffe\uffff" + "".join(map(chr, [*range(9), 11, 12, *range(14, 32)])),
    )
    import enum

    from pakn_sign import models

    enum_values = sorted(
        str(m.value)
        for o in vars(models).values()
        if isinstance(o, type) and issubclass(o, enum.Enum)
        for m in o
    )
    edge = [
        "0", "00", "+1", "-1", "1 ", "104857600", "104857601", "true", "1", "vi", "VI",
        "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00.5+00:00", "0001-01-01T00:00:00+14:00",
        "2024-02-29", "2023-02-29", "0001-01-01", "a@b.c", "a b@c.d", "x@\u00e9.vn",
        "+123456789012345", "ABC123", "abc-1.2_x", "000.00.00.G22", "1.A01",
        "000.00.00.G22,2024/02/29,1/X", "000.00.00.G22,2024/01/01,1/\u00a0",
        "000.00.00.G22,0000/01/01,1/X", "a" * 64, "0" * 64, "\u0661\u0662\u0663",
    ]  # fmt: skip
    return st.one_of(
        st.sampled_from(enum_values + edge),
        st.text(xml_char, max_size=12),
        st.text(st.sampled_from("aăđệ0123456789.,/@+-:TZ \t\n\r<>&\u00a0\u0301"), max_size=10),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, 9), leaf=st.integers(0, 10_000), value=_leaf_texts())
def test_model_fast_path_equals_strict_on_any_leaf_value(which: int, leaf: int, value: str) -> None:
    """Any text in any leaf of any kind: same model or same error (the XSD and the model
    agree on every value the model keeps as written)."""
    text = _bases()[which % len(_bases())]
    root = etree.fromstring(text.encode())
    leaves = [e for e in root.iter() if e is not root and not len(e)]
    leaves[leaf % len(leaves)].text = value
    _, fast, slow = _model_paths(etree.tostring(root, encoding="unicode"))
    assert fast == slow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, 9), pick=st.integers(0, 10_000), op=st.sampled_from(range(5)))
def test_model_fast_path_equals_strict_on_any_structure_change(
    which: int, pick: int, op: int
) -> None:
    """Delete, duplicate (once or to 21), empty or move any element: same answer."""
    import copy

    root = etree.fromstring(_bases()[which % len(_bases())].encode())
    elements = list(root.iter())[1:]
    el = elements[pick % len(elements)]
    if op == 0:
        el.getparent().remove(el)  # type: ignore[union-attr]
    elif op in (1, 2):
        for _ in range(1 if op == 1 else 20):
            el.addnext(copy.deepcopy(el))
    elif op == 3:
        el.text, el[:] = None, []
    elif el.getnext() is not None:
        el.getnext().addnext(el)  # type: ignore[union-attr]
    _, fast, slow = _model_paths(etree.tostring(root, encoding="unicode"))
    assert fast == slow


_ANSWER_VARIANTS: dict[str, tuple[Callable[[str], str], bool]] = {
    # name: (edit of the canonical Answer text, whether the quick path takes the result)
    "canonical": (lambda t: t, True),
    "cdata_and_char_refs": (
        lambda t: t.replace("Trả lời", "<![CDATA[Trả]]> l&#x1EDD;i", 1),
        True,
    ),
    "unused_namespace_on_child": (
        lambda t: t.replace("<pakn:Official>", '<pakn:Official xmlns:u="urn:u">', 1),
        True,
    ),
    "utc_as_z": (lambda t: t.replace("09:00:00+00:00", "09:00:00Z", 1), False),
    "nfd_text": (lambda t: t.replace("Trả lời", "Tra\u0309 lo\u031b\u0300i", 1), False),
    "other_prefix": (
        lambda t: t.replace("<pakn:", "<a:").replace("</pakn:", "</a:").replace("s:pakn=", "s:a="),
        False,
    ),
}


@pytest.mark.parametrize("name", list(_ANSWER_VARIANTS))
def test_attack_verified_document_is_the_model_of_the_signed_octets(
    name: str, test_pki: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: a document written another valid way, signed as written, verified. The
    result's document is ``from_xml`` of exactly the signed octets, either way."""
    import datetime as dt

    from xades_helpers import PERSONAL, answer

    from pakn_sign import verify_xades
    from pakn_sign.signing.sign_xml import sign_xml
    from pakn_sign.verify import verify

    edit, takes = _ANSWER_VARIANTS[name]
    now = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    text = edit(to_canonical_xml(answer(), element_id="pakn-doc"))
    container = f'<pakn:Signed xmlns:pakn="{NS}">{text}</pakn:Signed>'  # signed as written
    signed = sign_xml(container.encode(), test_pki.signer(PERSONAL), role="personal", at=now)
    taken: list[bool] = []

    def spy(el: etree._Element, canonical: bytes) -> Any:
        taken.append(xmlcodec._canonical_model(el, canonical) is not None)
        return document_from_signed(el, canonical)

    monkeypatch.setattr(verify_xades, "document_from_signed", spy)
    result = verify(signed, policy=test_pki.policy(), at=now)
    assert doc_outcome(lambda: result.document) == doc_outcome(from_xml, result.signed_bytes)
    assert result.document == answer()
    assert taken == [takes]
