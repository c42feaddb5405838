"""The proofs that let ``from_canonical_json`` skip the strict parse, and their premises.

``json_proof.each_key_once`` (every member name once, by counting quotes) and
``_base.json_strings_clean`` (no refused code point can be in the strings, by screening the
bytes) must never let through what ``from_json`` refuses, nor read a document differently.
Each attack is spelled so that a naive count or screen would miss it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import example_documents
from fastpath_helpers import doc_outcome, string_leaves
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from strategies import documents

from pakn_sign.codec import jsoncodec
from pakn_sign.codec.json_proof import each_key_once
from pakn_sign.codec.jsoncodec import DEFAULT_JSON_LIMITS, from_canonical_json, from_json, to_json
from pakn_sign.errors import InvalidInput, SchemaError
from pakn_sign.models import Answer, DocumentRef, Official
from pakn_sign.models._base import _FORBIDDEN, json_strings_clean
from pakn_sign.models.document import DOCUMENT_TYPES, try_validate_document_json


def _answer(**changes: Any) -> Answer:
    fields: dict[str, Any] = {
        "document_id": "000.00.00.G10,2026/11/20,123/BNN-PAKN",
        "case_id": "000.00.00.G22,2026/11/01,45/PAKN",
        "forwarding": DocumentRef(
            document_id="000.00.00.G22,2026/11/05,46/VPCP-PAKN", sha256="ab" * 32
        ),
        "issuer": "000.00.00.G10",
        "issued_at": "2026-11-20T09:00:00+00:00",
        "official": Official(full_name="Trần Thị Bình", position="Vụ trưởng"),
        "text": "Bộ đã xem xét kiến nghị.",
    }
    return Answer.model_validate({**fields, **changes}, strict=False)


def _same(raw: bytes) -> tuple[object, ...]:
    fast = doc_outcome(from_canonical_json, raw)
    assert fast == doc_outcome(from_json, raw), raw[:200]
    return fast


# == each_key_once ====================================================================


@pytest.mark.parametrize("index", range(len(example_documents())))
def test_canonical_bytes_of_every_kind_are_proven(index: int) -> None:
    data = to_json(example_documents()[index])
    doc = try_validate_document_json(data)
    assert doc is not None
    assert each_key_once(data, doc)


def test_canonical_payload_takes_neither_slower_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a slower path ran for canonical bytes")

    data = to_json(_answer())
    monkeypatch.setattr(jsoncodec, "from_json", refuse)
    monkeypatch.setattr(jsoncodec, "canonical_json", refuse)
    assert from_canonical_json(data) == _answer()


def test_attack_duplicate_member_standing_in_for_an_omitted_default() -> None:
    """``letter`` (default None, two quotes) left out and ``text`` given twice with a number
    first (two quotes): a bare quote count would balance; the input did not set every
    field, so nothing is proven."""
    data = to_json(_answer())
    assert b',"letter":null' in data
    forged = data.replace(b',"letter":null', b"").replace(b'"text":', b'"text":1,"text":')
    doc = try_validate_document_json(forged)
    assert doc is not None
    assert not each_key_once(forged, doc)
    with pytest.raises(InvalidInput, match="duplicate object key 'text'"):
        from_canonical_json(forged)
    _same(forged)


@pytest.mark.parametrize(
    "splice",
    [
        b'"text":"x",',  # plain duplicate
        b'"t\\u0065xt":"x",',  # the name spelled with an escape
        b'"text" :"x",',  # space before the colon: not followed by '":'
        b'"text"\n:"x",',
        b'"text"\t:\t"x",',
        b'"text"\r\n:"x",',
    ],
)
def test_attack_duplicate_member_spelled_to_escape_the_count(splice: bytes) -> None:
    data = to_json(_answer())
    forged = data.replace(b'"text":', splice + b'"text":', 1)
    assert _same(forged)[0] == "error"


def test_attack_escaped_quote_fakes_member_boundaries() -> None:
    """A value holding ``","text":"`` (escaped) next to a real duplicate: an escaped quote
    adds a quote byte, so the count declines and the slower proofs decide."""
    data = to_json(_answer(text='a ","text":"b'))
    doc = try_validate_document_json(data)
    assert doc is not None
    assert not each_key_once(data, doc)
    assert _same(data)[0] == "ok"
    forged = data.replace(b'"issuer":', b'"issuer":"000.00.00.G99","issuer":', 1)
    assert _same(forged)[0] == "error"


def test_attack_escaped_quotes_invert_the_count_to_hide_duplicates() -> None:
    """Escaped quotes in ``position`` and ``text`` with two duplicate ``case_id`` members:
    whatever the escapes do to a quote count, the duplicates are refused."""
    data = to_json(_answer(official={"full_name": "Bình", "position": 'Vụ"trưởng'}, text='Bộ"đã'))
    dup = b'"case_id":"000.00.00.G22,2026/11/01,45/PAKN",'
    forged = b"{" + dup * 2 + data[1:]
    assert _same(forged)[0] == "error"


def test_attack_duplicate_member_inside_a_nested_model() -> None:
    data = to_json(_answer())
    forged = data.replace(b'"full_name":', '"full_name":"Nguyễn Văn A","full_name":'.encode())
    assert _same(forged)[0] == "error"


def test_colons_spaces_and_backslashes_inside_strings_do_not_matter() -> None:
    for text in (":đã trả lời: như sau:", "C:\\thư mục\\", "a , b : c { } [ ]"):
        data = to_json(_answer(text=text))
        doc = try_validate_document_json(data)
        assert doc is not None
        assert each_key_once(data, doc)
        assert _same(data)[0] == "ok"


def test_pretty_printed_payload_is_proven_too() -> None:
    data = json.dumps(json.loads(to_json(_answer())), indent=2, ensure_ascii=False).encode()
    doc = try_validate_document_json(data)
    assert doc is not None
    assert each_key_once(data, doc)
    assert _same(data)[0] == "ok"


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replaced(node[path[0]], path[1:], value)
    return copy


@pytest.mark.parametrize("index", range(len(example_documents())))
def test_premise_text_leaves_come_only_from_json_strings(index: int) -> None:
    """The count's premise 2: strict validation never turns a number, boolean, object or
    array into a leaf held as text (str, enum, date, datetime), so such a leaf always had
    its two quotes in the input. ``null`` may only give None."""
    obj = json.loads(to_json(example_documents()[index]))
    for path, _ in string_leaves(obj):
        for value in (0, 1700000000, True, {}, [], None):
            data = json.dumps(_replaced(obj, path, value), ensure_ascii=False).encode()
            doc = try_validate_document_json(data)
            if doc is None:
                continue
            leaf: Any = doc
            for step in path:
                leaf = leaf[step] if isinstance(step, int) else getattr(leaf, step)
            assert value is None, (path, value)
            assert leaf is None, (path, value)


_SPLICES = [
    b'"text":"x",', b'"kind":"answer",', b'"letter":null,', b'"sha256":"' + b"ab" * 32 + b'",',
    b" ", b"\n", b'"t\\u0065xt":"y",', b'\\"', b"\\\\", b":", b'"', b",",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(doc=documents(), data=st.data())
def test_spliced_members_and_spacing_get_the_strict_answer(doc: Any, data: st.DataObject) -> None:
    raw = to_json(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw)))
        raw = raw[:i] + data.draw(st.sampled_from(_SPLICES)) + raw[i:]
    if data.draw(st.booleans()):  # drop a member that has a default, if there is one
        raw = re.sub(rb',"[a-z_]+":null', b"", raw, count=1)
    _same(raw)


def _schema_nodes(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schema_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_nodes(value)


@pytest.mark.parametrize("kind", sorted(DOCUMENT_TYPES))
def test_premises_of_the_proof_hold_for_every_kind(kind: str) -> None:
    """What the proof leaves to validation: no float or free-form value (NaN, huge numbers,
    unknown members would otherwise pass), integers bounded far below 10**4300 digits, and
    nesting well inside the strict parse's depth limit."""
    cls: type[BaseModel] = DOCUMENT_TYPES[kind]
    schema = cls.model_json_schema()
    for node in _schema_nodes(schema):
        assert node.get("type") != "number"
        if node.get("type") == "integer":
            assert node.get("maximum", 1 << 64) < 1 << 53, node
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, node
        assert "patternProperties" not in node
    assert json.dumps(schema).count("$ref") < DEFAULT_JSON_LIMITS.max_depth


# == json_strings_clean ===============================================================


@pytest.mark.parametrize(
    "text",
    ["a\u0085b", "a\x7fb", "a\ufffeb", "a\uffffb", "a\u0001b", "a\x08b", "a\x0cb", "a\x9fb"],
)
def test_attack_refused_character_in_signed_text_still_refused(text: str) -> None:
    """Raw (DEL, C1, noncharacters) and escaped (\\u0001, \\b, \\f): the byte screen sends
    each to the model's own screen, which refuses it as from_json does."""
    spelled = json.dumps(text, ensure_ascii=False)[1:-1].encode()
    data = to_json(_answer()).replace("Bộ".encode(), spelled)
    assert not json_strings_clean(data)
    outcome = _same(data)
    assert outcome[0] == "error"
    assert outcome[1] == SchemaError.__name__


@pytest.mark.parametrize("escape", [b"\\u0041", b"\\ud800", b"\\b", b"\\f", b"\\r", b"\\u0085"])
def test_escapes_that_can_spell_a_refused_character_are_not_screened(escape: bytes) -> None:
    assert not json_strings_clean(b'{"a":"x' + escape + b'"}')


@pytest.mark.parametrize(
    "raw", [b'{"a":"x\\ny\\tz"}', b'{"a":"\\"q\\" \\/"}', '{"a":"Tiếng Việt"}'.encode()]
)
def test_harmless_escapes_and_vietnamese_pass_the_screen(raw: bytes) -> None:
    assert json_strings_clean(raw)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\x7f\x85\ufffe\\")))
def test_screen_passes_only_text_free_of_refused_characters(text: str) -> None:
    for ascii_only in (False, True):
        data = json.dumps({"a": text}, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        if json_strings_clean(data):
            assert _FORBIDDEN.search(text) is None, text
