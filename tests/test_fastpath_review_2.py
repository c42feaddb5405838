"""Adversarial review 2 of the JAdES fast paths against their strict paths.

1. ``json_proof.each_key_once`` (quote count) in ``jsoncodec.from_canonical_json``;
2. ``_base.json_strings_clean`` and the validation-context flag that skips ``_clean_text``'s
   screen;
3. ``jws_parse._parse_written_layout`` (the JWS JSON layout read by its delimiters);
4. ``_canonical.canonical_json`` (wire models read field by field).

Each fast path must give the strict path's value or the strict path's error. The review found
three divergences, each fixed since and kept here as a regression test: a validation started
by a callback inside a flagged one skipped its screen (the flag was a ContextVar; it is now
in the validation's own context), a one-shot ``understood`` iterable was used up by the layout
path, and values validation would not give (``model_construct``, ``model_copy``) were written
by their own type (the direct reading now checks each against its field's plan).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import threading
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import PKI_NOW, example_documents
from fastpath_helpers import (
    bytes_outcome,
    canonical_reference,
    doc_outcome,
    error_outcome,
    string_leaves,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from strategies import documents
from xades_helpers import PERSONAL, answer

from pakn_sign.codec.json_proof import _quoted_strings, each_key_once
from pakn_sign.codec.jsoncodec import from_canonical_json, from_json, to_json
from pakn_sign.errors import PaknSignError, SchemaError
from pakn_sign.models import (
    Channel,
    ClassificationCode,
    Deadline,
    DocumentRef,
    EdxmlStatus,
    Official,
    PdfLetter,
)
from pakn_sign.models._base import _FORBIDDEN, canonical_json
from pakn_sign.models.document import try_validate_document_json
from pakn_sign.models.sectors import DEFAULT_SECTORS, SectorRegistry
from pakn_sign.models.settings import ValidationSettings
from pakn_sign.signing import jades, jws_parse
from pakn_sign.signing.b64 import b64url_encode
from pakn_sign.signing.jades import JADES_LIMITS, JADES_UNDERSTOOD, sign_json
from pakn_sign.signing.jades_verify import verify_jades
from pakn_sign.signing.jws_parse import DEFAULT_UNPROTECTED, JWSLimits, parse_jws

NOW = PKI_NOW

# == 1. each_key_once: the quote count ================================================


class _Obj(list[tuple[str, Any]]):
    """A JSON object as its member list, so a name can appear twice."""


class _Esc(str):
    """A string written with every character as a \\u escape (same value, other bytes)."""

    __slots__ = ()


def _pairs(node: Any) -> Any:
    if isinstance(node, dict):
        return _Obj((k, _pairs(v)) for k, v in node.items())
    if isinstance(node, list):
        return [_pairs(v) for v in node]
    return node


def _dump(node: Any, ascii_only: bool, pretty: bool) -> str:
    if isinstance(node, _Obj):
        sep = ",\n  " if pretty else ","
        colon = ": " if pretty else ":"
        items = [
            _dump(k, ascii_only, pretty) + colon + _dump(v, ascii_only, pretty) for k, v in node
        ]
        return "{" + sep.join(items) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_dump(v, ascii_only, pretty) for v in node) + "]"
    if isinstance(node, _Esc):
        return '"' + "".join(f"\\u{ord(c):04x}" for c in node) + '"'
    return json.dumps(node, ensure_ascii=ascii_only)


def _objects(node: Any) -> list[_Obj]:
    found: list[_Obj] = []
    pending = [node]
    while pending:
        value = pending.pop()
        if isinstance(value, _Obj):
            found.append(value)
            pending += [v for _, v in value]
        elif isinstance(value, list):
            pending += value
    return found


_POOL: list[Any] = [
    0, 1, 5, 13, 1700000000, 2**70, 1.0, True, False, None, "", "1", "05", "x",
    {}, [], ["x"], {"kind": "answer"},
]  # fmt: skip


@st.composite
def _forgeries(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A valid document's JSON with members replaced, dropped, repeated or escaped."""
    tree = _pairs(json.loads(to_json(draw(documents()))))
    for _ in range(draw(st.integers(1, 4))):
        objs = _objects(tree)
        obj = draw(st.sampled_from(objs))
        if not obj:
            continue
        i = draw(st.integers(0, len(obj) - 1))
        key, value = obj[i]
        op = draw(st.sampled_from(["replace", "drop", "repeat", "escape"]))
        if op == "replace":
            obj[i] = (key, _pairs(draw(st.sampled_from(_POOL))))
        elif op == "drop":
            del obj[i]
        elif op == "repeat":  # first or last; the name itself perhaps spelled with escapes
            other = draw(st.sampled_from([value, *map(_pairs, _POOL)]))
            name = _Esc(key) if draw(st.booleans()) else key
            obj.insert(draw(st.sampled_from([0, len(obj)])), (name, other))
        elif isinstance(value, str):
            obj[i] = (key, _Esc(value))
    text = _dump(tree, draw(st.booleans()), draw(st.booleans()))
    repeated = any(len({k for k, _ in o}) != len(o) for o in _objects(tree))
    return text.encode("utf-8", "surrogatepass"), repeated


@settings(max_examples=250, deadline=None)
@given(_forgeries())
def test_attack_forged_members_never_balance_the_quote_count(forgery: tuple[bytes, bool]) -> None:
    """Premise 1-3 of json_proof as a property: whatever validates holds at least
    2 x (names + text leaves) quote bytes, a repeated member is never proven unique, and
    from_canonical_json answers exactly as from_json."""
    raw, repeated = forgery
    doc = try_validate_document_json(raw)
    if doc is not None:
        counted = _quoted_strings(doc)
        assert counted < 0 or raw.count(b'"') >= 2 * counted, raw[:200]
        assert not (repeated and each_key_once(raw, doc)), raw[:200]
    assert doc_outcome(from_canonical_json, raw) == doc_outcome(from_json, raw), raw[:200]


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


@pytest.mark.parametrize("index", range(len(example_documents())))
def test_attack_numbers_for_numeric_strings(index: int) -> None:
    """``"05"`` (a status), ``"1"`` (schema_version) and every other all-digit string leaf
    spelled as a JSON number must not validate: it would be a text leaf without quotes."""
    obj = json.loads(to_json(example_documents()[index]))
    tried = 0
    for path, text in string_leaves(obj):
        if not text.isdigit():
            continue
        for number in (int(text), float(text)):
            forged = json.loads(json.dumps(obj))
            _set(forged, path, number)
            assert try_validate_document_json(json.dumps(forged).encode()) is None, path
            tried += 1
    assert tried >= 1  # schema_version at least


@pytest.mark.parametrize("status", [1, 5, 13, "5", "1"])
def test_attack_status_code_without_its_leading_zero(status: Any) -> None:
    notice = next(d for d in example_documents() if d.kind == "status_notice")
    obj = json.loads(to_json(notice))
    obj["status"] = status
    raw = json.dumps(obj, ensure_ascii=False).encode()
    assert try_validate_document_json(raw) is None
    assert doc_outcome(from_canonical_json, raw) == doc_outcome(from_json, raw)
    assert doc_outcome(from_json, raw)[0] == "error"


def _signed_over(payload: bytes, test_pki: Any, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A real JAdES signature over ``payload`` exactly (a signer who writes odd JSON)."""
    with monkeypatch.context() as m:
        m.setattr(jades, "to_json", lambda doc: payload)
        return sign_json(answer(), test_pki.signer(PERSONAL), role="personal", at=NOW)


def _forged_payloads() -> dict[str, bytes]:
    data = to_json(answer())
    text = '"text":"Trả lời kiến nghị về thủ tục cấp giấy phép xây dựng."'.encode()
    assert text in data
    obj = json.loads(data)
    return {
        "repeat_first": data.replace(b'"case_id"', '"text":"Bộ đồng ý.","case_id"'.encode(), 1),
        "repeat_last": data[:-1] + ',"text":"Bộ đồng ý."}'.encode(),
        "repeat_nested": data.replace(b'"full_name":', '"full_name":"Ai đó","full_name":'.encode()),
        "repeat_for_omitted_default": data.replace(b',"letter":null', b"").replace(
            b'"text":', b'"text":1,"text":'
        ),
        "escaped_name_repeat": data.replace(
            b'"issuer":', b'"issu\\u0065r":"000.00.00.G99","issuer":'
        ),
        "nel_escaped": data.replace(text, text[:-1] + b'\\u0085"'),
        "del_raw": data.replace(text, text[:-1] + b'\x7f"'),
        "pretty": json.dumps(obj, indent=2, ensure_ascii=False).encode(),
        "ascii_escaped": json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode(),
    }


@pytest.mark.parametrize("name", sorted(_forged_payloads()))
def test_attack_signed_payload_reads_as_the_strict_parse(
    name: str, test_pki: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: a validly signed payload with a repeated member (first or last, nested,
    standing in for an omitted default, escaped name) or a refused character is refused by
    verify_jades as from_json refuses it; harmless spellings verify to from_json's document."""
    payload = _forged_payloads()[name]
    signed = _signed_over(payload, test_pki, monkeypatch)
    strict = doc_outcome(from_json, payload)
    got = doc_outcome(lambda: verify_jades(signed, policy=test_pki.policy(), at=NOW).document)
    assert got == strict
    assert strict[0] == ("ok" if name in ("pretty", "ascii_escaped") else "error")


# == 2. json_strings_clean and the clean-strings context flag =========================

_REFUSED = [cp for cp in range(0x110000) if _FORBIDDEN.match(chr(cp))]
_SHORT = {0x08: b"\\b", 0x0C: b"\\f", 0x0D: b"\\r", 0x0A: b"\\n", 0x09: b"\\t", 0x22: b'\\"'}
_MARK = "QQMARKQQ"


def _spellings(cp: int) -> list[bytes]:
    out = [f"\\u{cp:04x}".encode(), f"\\u{cp:04X}".encode()]
    if cp in _SHORT:
        out.append(_SHORT[cp])
    out.append(chr(cp).encode("utf-8", "surrogatepass"))  # raw (invalid UTF-8 if a surrogate)
    return out


def _marked() -> bytes:
    doc = answer(text=f"Bộ {_MARK} xong.\nHết.").model_copy(
        update={"official": Official(full_name=f"Trần {_MARK} Bình", position="Vụ trưởng")}
    )
    return to_json(doc)


@pytest.mark.parametrize("field", [0, 1], ids=["text", "full_name"])
def test_attack_every_refused_code_point_in_every_spelling(field: int) -> None:
    """2113 refused code points, each raw, as \\u escape (both cases) and as a short escape,
    in multi-line text and in a short single line (the isprintable path): the fast path
    answers exactly as from_json, and no refused code point ever reaches a document."""
    base = _marked()
    head, middle, tail = base.split(_MARK.encode())
    extras = [b"\\ud800x", b"\\udc00\\ud800", b"\\ud83d\\ud83d", b"\xed\xa0\x80", b"\\\\u0085"]
    spelled = [s for cp in [*_REFUSED, 0x85, 0xA0, 0xFEFF, 0x2028] for s in _spellings(cp)]
    accepted = 0
    for spelling in [*spelled, *extras]:
        parts = (spelling, b"x") if field == 0 else (b"x", spelling)
        raw = head + parts[0] + middle + parts[1] + tail
        fast = doc_outcome(from_canonical_json, raw)
        assert fast == doc_outcome(from_json, raw), spelling
        if fast[0] == "ok":
            accepted += 1
            texts = [t for _, t in string_leaves(json.loads(str(fast[2])))]
            assert not any(_FORBIDDEN.search(t) for t in texts), spelling
    assert accepted >= 4  # the neighbours (NBSP, BOM, U+2028, \\n) and CR read as LF


def test_nfc_never_makes_a_refused_code_point() -> None:
    """The screen runs on the JSON bytes, ``_clean_text`` normalises afterwards: NFC of an
    allowed character must never give a refused one (exhaustive over all code points)."""
    made = [
        cp
        for cp in range(0x110000)
        if not _FORBIDDEN.match(chr(cp))
        and not unicodedata.is_normalized("NFC", chr(cp))
        and _FORBIDDEN.search(unicodedata.normalize("NFC", chr(cp)))
    ]
    assert made == []


def test_attack_clean_flag_stays_inside_its_own_call() -> None:
    """After a refusal from inside the flagged validation, and while other threads run
    flagged validations, a plain validation still screens (the flag is per call, per thread)."""
    good = to_json(answer())
    bad = good.replace(b'"kind":"answer"', b'"kind":"answer","zz":1')  # clean bytes, refused
    with pytest.raises(SchemaError):
        from_canonical_json(bad)
    with pytest.raises(ValidationError, match="U\\+0085"):
        Official(full_name="Trần\x85Bình", position="Vụ trưởng")
    stop = threading.Event()
    ran: list[int] = []

    def flagged() -> None:
        while not stop.is_set():
            from_canonical_json(good)
            ran.append(1)

    workers = [threading.Thread(target=flagged) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for i in range(400):
            with pytest.raises(ValidationError, match="U\\+0085"):
                Official(full_name=f"Trần\x85Bình {i}", position="Vụ trưởng")
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert ran


class _CallbackRegistry(SectorRegistry):
    """A deployment's sector registry that runs other validation on lookup (e.g. loading
    and validating its labels lazily)."""

    __slots__ = ()
    nested: list[str] = []  # noqa: RUF012 - a class-level log, reset by the test

    def __contains__(self, code: object) -> bool:
        try:
            Official(full_name="Trần\x85Bình", position="Vụ trưởng")
            self.nested.append("accepted")
        except ValidationError:
            self.nested.append("refused")
        return SectorRegistry.__contains__(self, code)


def test_attack_validation_nested_in_a_callback_keeps_its_screen() -> None:
    registry = _CallbackRegistry(dict(DEFAULT_SECTORS.labels))
    petition = next(d for d in example_documents() if d.kind == "petition")
    assert petition.sector is not None
    config = ValidationSettings(sectors=registry)
    _CallbackRegistry.nested = []
    from_json(to_json(petition), settings=config)
    assert _CallbackRegistry.nested == ["refused"]  # the strict path screens
    _CallbackRegistry.nested = []
    from_canonical_json(to_json(petition), settings=config)
    assert _CallbackRegistry.nested == ["refused"]


# == 3. _parse_written_layout ==========================================================


def _parse_outcome(
    raw: bytes, *, fast: bool, make_understood: Callable[[], Iterable[str]], **kw: Any
) -> tuple[object, ...]:
    saved = jws_parse._parse_written_layout
    if not fast:
        jws_parse._parse_written_layout = lambda *args: None
    try:
        parsed = parse_jws(raw, understood=make_understood(), **kw)
    except PaknSignError as exc:
        return error_outcome(exc)
    finally:
        jws_parse._parse_written_layout = saved
    inputs = [parsed.signing_input(i) for i in range(len(parsed.signatures))]
    return ("ok", parsed, inputs, type(parsed.payload), type(parsed.payload_segment))


_HEADERS = [
    b'{"alg":"RS256"}', b'{"alg":"ES256","kid":"k\xc3\xa9"}', b'{"alg":"none"}',
    b'{"alg":"RS256","b64":true,"crit":["b64"]}', b'{"alg":"RS256","b64":false,"crit":["b64"]}',
    b'{"alg":"RS256","b64":true}', b'{"alg":"RS256","b64":1,"crit":["b64"]}',
    b'{"alg":"RS256","crit":["sigT"],"sigT":"2026-11-20T09:30:00Z"}',
    b'{"alg":"RS256","alg":"none"}', b'{"alg":"RS256","jwk":{}}', b'[{"alg":"RS256"}]',
    b'{"alg":"RS256","x":NaN}', b'{"alg":"RS256"} ', b'\xef\xbb\xbf{"alg":"RS256"}',
    b'{"alg":"RS256","kid":"\xff"}', b"", b'{"alg":"RS256","x":[[[[[[[[[1]]]]]]]]]}',
    b'{"alg":"RS256","crit":[]}', b'{"alg":"RS256","crit":["x","x"]}', b'"RS256"',
    b'{"alg":"RS256","kid":"' + b"k" * 40 + b'"}',
]  # fmt: skip
_PLAUSIBLE = [_HEADERS[i] for i in (0, 1, 3, 4, 7)]  # all pass check_header (sigT if understood)


@st.composite
def _layouts(draw: st.DrawFn) -> bytes:
    """Half exactly the written layout (only headers, counts and limits vary), half near it."""
    near = draw(st.booleans())

    def pick(exact: list[str], odd: list[str]) -> str:
        return draw(st.sampled_from(exact + odd if near else exact))

    headers = _PLAUSIBLE if draw(st.booleans()) else _HEADERS  # the same for every entry
    entries = []
    for _ in range(draw(st.integers(1, 6))):
        h = b64url_encode(draw(st.sampled_from(headers)))
        head = pick([h], [h + "=", h + "A", h[:-1] + "R", ""])
        sig = pick(["AAAA", "QQ", "_-_-"], ["AB", "", "A", "AA==", "AA+/"])
        entries.append(
            pick(
                [f'{{"protected":"{head}","signature":"{sig}"}}'],
                [
                    f'{{"protected":"{head}","header":{{"kid":"k"}},"signature":"{sig}"}}',
                    f'{{"signature":"{sig}","protected":"{head}"}}',
                    f'{{"protected":"{head}"}}',
                ],
            )
        )
    payload = pick(
        ["", "e30", "QUJD", "QQ", "AAAA"], ["e3", "e30=", "e3+", "QR", "A", "é", "e30\\u0041"]
    )
    text = f'{{"payload":"{payload}","signatures":[{",".join(entries)}]}}'
    text = pick(
        [text],
        [
            text + " ",
            text[:-1] + f',"payload":"e30","signatures":[{entries[0]}]}}',
            text[:-1] + ',"payload":"e30"}',
            '{"payload":"e30",' + text[1:],
        ],
    )
    return text.encode()


_LIMITS = [
    JWSLimits(), JADES_LIMITS, JWSLimits(max_signatures=2), JWSLimits(max_signatures=1),
    JWSLimits(max_payload_bytes=1),
    JWSLimits(max_header_bytes=24), JWSLimits(max_bytes=200),
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    raw=_layouts(),
    limits=st.sampled_from(_LIMITS),
    understood=st.sampled_from([("b64",), JADES_UNDERSTOOD, ["b64", "sigT"], "b64"]),
    unprotected=st.sampled_from([DEFAULT_UNPROTECTED, frozenset({"etsiU"})]),
)
def test_attack_generated_layouts_get_the_full_parse_answer(
    raw: bytes, limits: JWSLimits, understood: Any, unprotected: Any
) -> None:
    """Layouts built from near-valid pieces (non-canonical base64url, padding, empty pieces,
    non-ASCII, headers with duplicates, crit, b64, NaN, BOM, deep nesting), 1-6 entries
    against tight limits, and envelopes with repeated members after the written layout."""
    kw = {"limits": limits, "unprotected_allowed": unprotected}
    fast = _parse_outcome(raw, fast=True, make_understood=lambda: understood, **kw)
    assert fast == _parse_outcome(raw, fast=False, make_understood=lambda: understood, **kw)


def test_attack_repeated_envelope_members_behind_the_layout() -> None:
    """Ends with the layout's ``"}]}`` and starts with its ``{"payload":"``, but holds a second
    payload and signatures array (last-wins parsers read those): refused as duplicates."""
    head = b64url_encode(b'{"alg":"RS256"}')
    one = f'{{"protected":"{head}","signature":"AAAA"}}'
    raw = f'{{"payload":"e30","signatures":[{one}],"payload":"W10","signatures":[{one}]}}'
    assert jws_parse._parse_written_layout(raw.encode(), JWSLimits(), ("b64",), ()) is None
    outcome = _parse_outcome(raw.encode(), fast=True, make_understood=lambda: ("b64",))
    assert outcome[0] == "error"
    assert "duplicate" in str(outcome[3])


def test_attack_one_shot_understood_iterable() -> None:
    h0 = b64url_encode(b'{"alg":"RS256","crit":["x"],"x":1}')
    h1 = b64url_encode(b'{"alg":"RS256"}')
    raw = (
        f'{{"payload":"e30","signatures":[{{"protected":"{h0}","signature":"AAAA"}},'
        f'{{"protected":"{h1}","header":{{"kid":"k"}},"signature":"AAAA"}}]}}'
    ).encode()

    def names() -> Iterable[str]:
        return (n for n in ("b64", "x"))

    strict = _parse_outcome(raw, fast=False, make_understood=names)
    assert strict[0] == "ok"
    assert _parse_outcome(raw, fast=True, make_understood=names) == strict


# == 4. canonical_json ==================================================================


class _Size(enum.IntEnum):
    SEVEN = 7


_ODD_TEXT = "\x00\x1f\x7f\x85\x9f\xa0\u2028\u2029\ufeff\ufffe\uffff\U0001f600\"\\/<>&'\t\n\r"
_HCM = ZoneInfo("Asia/Ho_Chi_Minh")
_NY = ZoneInfo("America/New_York")
_DATETIMES: list[Callable[[dt.datetime], dt.datetime]] = [
    lambda d: d.astimezone(_HCM),
    lambda d: dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=_NY),
    lambda d: d.replace(microsecond=5),
    lambda d: d.replace(tzinfo=None),
    lambda d: d.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5, seconds=7))),
    lambda d: d.replace(tzinfo=ZoneInfo("UTC")),
    lambda d: dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
]


def _odd(value: Any, draw: st.DrawFn) -> Any:
    """Unusual values set without validation (model_copy(update=...)); none of the
    mistyped kinds listed in ``_DIVERGENT``."""
    if isinstance(value, BaseModel):
        changed = {k: _odd(v, draw) for k, v in value.__dict__.items() if draw(st.booleans())}
        return value.model_copy(update=changed) if changed else value
    if type(value) is dt.datetime:
        return draw(st.sampled_from(_DATETIMES))(value)
    if type(value) is dt.date:
        return draw(st.sampled_from([value, dt.date(1, 1, 1), dt.date(9999, 12, 31)]))
    if type(value) is tuple:
        items = [_odd(v, draw) for v in value]
        return items if draw(st.booleans()) else tuple(items)
    if type(value) is str:
        odd = [value, _ODD_TEXT, Channel.WEB, ClassificationCode.INVALID, _Size.SEVEN]
        return draw(st.sampled_from(odd))
    if type(value) is int:
        return draw(st.sampled_from([value, _Size.SEVEN, 2**70, -1]))
    if isinstance(value, enum.Enum):
        return draw(st.sampled_from([value, value.value, EdxmlStatus.ARRIVED]))
    return value


@settings(max_examples=150, deadline=None)
@given(doc=documents(), data=st.data())
def test_attack_odd_values_write_pydantics_bytes(doc: Any, data: Any) -> None:
    """model_copy(update=...) with zone-aware, folded, naive, odd-offset and year-1
    datetimes, extreme dates, lists for tuples, StrEnum and IntEnum members in str fields,
    plain values in enum fields, IntEnum and big integers, control and noncharacters."""
    odd = _odd(doc, data.draw)
    assert bytes_outcome(canonical_json, odd) == bytes_outcome(canonical_reference, odd)


def test_every_code_point_is_written_as_pydantic_writes_it() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for text in (every, "a\ud800b"):  # a lone surrogate: both raise
        odd = answer().model_copy(update={"text": text})
        assert bytes_outcome(canonical_json, odd) == bytes_outcome(canonical_reference, odd)


def _deadline() -> Deadline:
    return Deadline(due_on=dt.date(2026, 12, 1), rule="d92.art15", legal_source="Nghị định 92")


_UTC_TIME = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
_DIVERGENT: dict[str, Callable[[], BaseModel]] = {
    # date field holding an aware datetime: "+00:00" (isoformat) vs pydantic's "Z"
    "date_field_holds_utc_datetime": lambda: _deadline().model_copy(update={"due_on": _UTC_TIME}),
    # text field holding a datetime; with a seconds offset isoformat writes "+05:00:07"
    "text_field_holds_utc_datetime": lambda: answer().model_copy(update={"text": _UTC_TIME}),
    # int field holding a bool: true vs 1
    "int_field_holds_bool": lambda: PdfLetter(name="a.pdf", size=1, sha256="ab" * 32).model_copy(
        update={"size": True}
    ),
    # model_construct without a required field: KeyError vs the fields present
    "construct_without_required_field": lambda: PdfLetter.model_construct(  # type: ignore[call-arg]
        name="a.pdf", sha256="ab" * 32
    ),
    # Timestamp field holding a string: written as is vs PydanticSerializationError
    "timestamp_holds_string": lambda: answer().model_copy(update={"issued_at": "2026-11-20"}),
    # a model field holding another wire model: its fields vs pydantic's {}
    "model_field_holds_other_model": lambda: answer().model_copy(
        update={"official": DocumentRef(document_id=answer().case_id, sha256="ab" * 32)}
    ),
}


class _Plain(enum.Enum):
    TEXT = "x"
    PAIR = (1, 2)
    DAY = dt.date(2026, 1, 1)


class _Str(str):
    __slots__ = ()


class _Int(int):
    __slots__ = ()


class _Official(Official):  # a subclass outside pakn_sign.models: pydantic's dump decides
    pass


def _letter(size: Any) -> BaseModel:
    return PdfLetter(name="a.pdf", size=1, sha256="ab" * 32).model_copy(update={"size": size})


def _text(value: Any) -> BaseModel:
    return answer().model_copy(update={"text": value})


_AGREEING: dict[str, Callable[[], BaseModel]] = {
    "unknown_member_in_update": lambda: answer().model_copy(update={"zz": 1}),
    "construct_with_extra": lambda: PdfLetter.model_construct(  # type: ignore[call-arg]
        name="a", size=1, sha256="0", z=2
    ),
    "bool_field_holds_int": lambda: next(
        d for d in example_documents() if d.kind == "status_notice"
    ).model_copy(update={"progress_update": 2}),
    "int_field_holds_intenum": lambda: _letter(_Size.SEVEN),
    "int_field_holds_big_int": lambda: _letter(2**70),
    "int_field_holds_float": lambda: _letter(1.5),
    "int_field_holds_nan": lambda: _letter(float("nan")),
    "int_field_holds_int_subclass": lambda: _letter(_Int(3)),
    "text_holds_intenum": lambda: _text(_Size.SEVEN),
    "text_holds_plain_enum": lambda: _text(_Plain.TEXT),
    "text_holds_enum_of_tuple": lambda: _text(_Plain.PAIR),
    "text_holds_enum_of_date": lambda: _text(_Plain.DAY),
    "text_holds_str_subclass": lambda: _text(_Str("x")),
    "text_holds_list": lambda: _text(["a", 1, None]),
    "text_holds_set": lambda: _text({"a"}),
    "text_holds_bytes": lambda: _text(b"ab"),
    "text_holds_date": lambda: _text(dt.date(2026, 1, 1)),
    "text_holds_naive_datetime": lambda: _text(dt.datetime(2026, 1, 1, 0, 0, 0, 5)),
    "text_holds_models": lambda: _text((answer().official,)),
    "model_field_holds_dict": lambda: answer().model_copy(update={"official": {"b": 1, "a": 2}}),
    "model_field_holds_none": lambda: answer().model_copy(update={"official": None}),
    "model_field_holds_subclass": lambda: answer().model_copy(
        update={"official": _Official(full_name="A", position="B")}
    ),
    "timestamp_holds_date": lambda: answer().model_copy(update={"issued_at": dt.date(2026, 1, 1)}),
}


@pytest.mark.parametrize("case", sorted(_AGREEING))
def test_mistyped_values_the_two_readings_agree_on(case: str) -> None:
    """Values outside the field's type where both readings give the same bytes (or the
    same exception): the direct reading declines or writes what pydantic writes."""
    model = _AGREEING[case]()
    assert bytes_outcome(canonical_json, model) == bytes_outcome(canonical_reference, model)


@pytest.mark.parametrize("case", sorted(_DIVERGENT))
def test_attack_direct_reading_of_mistyped_values(case: str) -> None:
    model = _DIVERGENT[case]()
    assert bytes_outcome(canonical_json, model) == bytes_outcome(canonical_reference, model)
