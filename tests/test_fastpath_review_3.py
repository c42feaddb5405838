"""Adversarial review 3: the fixes of commit 6267d61 to the fast paths of review 2.

1. ``canonical_json`` with its per-field plan (``models/_canonical_plan.py``): any instance
   (validated, ``model_construct``, ``model_copy(update=...)``, subclasses, foreign models,
   mistyped values) must give ``json.dumps(to_python(m, mode="json"), sort_keys=True, ...)``
   or raise that path's exception type; the plan derivation itself (annotations, recursion,
   the ``_PLANS`` cache under threads);
2. ``CleanText``'s screen skipped only under ``STRINGS_CLEAN_KEY`` in the validation context:
   no public API lets untrusted input set it, and the bytes screen holds for invalid UTF-8;
3. ``parse_jws`` with ``understood``/``unprotected_allowed`` read once: the written-layout path
   and the full parse agree for every kind of iterable (and a string passed by mistake).

The review found four defects, each fixed since and kept here as a regression test: integers
past ``json.dumps``' digit limit were written (pydantic-core has no limit; they now take
json.dumps, which raises as the definition does), ``plan_of`` ignored field and model
serialisers and ``exclude_if`` (no model had one), a first-use race could leave a class
without a plan for good (plans are now made under a lock), and the plan cache kept foreign
classes alive (it now holds only our own).
"""

from __future__ import annotations

import datetime as dt
import enum
import gc
import json
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import pydantic
import pytest
from fastpath_helpers import bytes_outcome, canonical_reference, doc_outcome, error_outcome
from pydantic import BaseModel, Field, ValidationError, field_serializer
from xades_helpers import answer

from pakn_sign.codec.jsoncodec import from_canonical_json, from_json, to_json
from pakn_sign.codec.xmlcodec import from_xml, to_xml
from pakn_sign.errors import PaknSignError
from pakn_sign.models import Answer, DocumentRef, Official, PdfLetter
from pakn_sign.models import _canonical_plan as plan_module
from pakn_sign.models._base import (
    _FORBIDDEN,
    STRINGS_CLEAN_KEY,
    Line,
    Timestamp,
    WireModel,
    canonical_json,
    json_strings_clean,
)
from pakn_sign.models.document import parse_document, try_validate_document_json
from pakn_sign.signing import jws_parse
from pakn_sign.signing.b64 import b64url_encode
from pakn_sign.signing.jws_parse import DEFAULT_UNPROTECTED, JWSLimits, parse_jws

# == 1. canonical_json against its definition ==========================================


def _agree(model: BaseModel) -> tuple[object, ...]:
    got = bytes_outcome(canonical_json, model)
    assert got == bytes_outcome(canonical_reference, model)
    return got


_PROBE = "pakn_sign.models._review3_probe"  # plan_of only plans classes of pakn_sign.models


class _Mood(enum.StrEnum):
    CALM = "calm"


class _Level(enum.IntEnum):
    LOW = 1


class _Flags(enum.IntFlag):
    A = 1
    B = 2


class _Probe(WireModel):
    """Annotations the plan must classify: Optional[Timestamp], Literal, StrEnum, IntEnum,
    IntFlag, Annotated constraints, date | Timestamp, tuples of models and of timestamps."""

    when: Timestamp | None = None
    day_or_time: dt.date | Timestamp | None = None
    lit: Literal["a", 1, True] = "a"
    mood: _Mood = _Mood.CALM
    level: _Level = _Level.LOW
    flags: _Flags = _Flags.A
    name: Line = "x"
    count: int = Field(default=0, ge=0, le=10)
    refs: tuple[DocumentRef, ...] = ()
    times: tuple[Timestamp, ...] = ()
    mixed: tuple[str, ...] | tuple[int, ...] = ()


class _Node(WireModel):
    """A model that contains itself: no plan, pydantic's dump decides."""

    label: str
    children: tuple[_Node, ...] = ()


class _Ping(WireModel):
    pong: _Pong | None = None


class _Pong(WireModel):
    ping: _Ping | None = None


_Node.model_rebuild()
_Ping.model_rebuild()
_Pong.model_rebuild()
for _cls in (_Probe, _Node, _Ping, _Pong):
    _cls.__module__ = _PROBE  # after the build: pydantic resolves names in the real module


class _ForeignAnswer(Answer):
    """A subclass outside pakn_sign.models with a serialiser of its own."""

    note: str = "n"

    @field_serializer("text")
    def _upper(self, value: str) -> str:
        return value.upper()


class _Big(BaseModel):
    """A foreign model, validated: an int field without bounds."""

    n: int


_UTC = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
_REF = DocumentRef(document_id="000.00.00.G22,2026/11/05,46/VPCP-PAKN", sha256="ab" * 32)

_CASES: dict[str, Callable[[], BaseModel]] = {
    "probe_defaults": lambda: _Probe(),
    "probe_full": lambda: _Probe(
        when=_UTC,
        day_or_time=_UTC.astimezone(dt.timezone(dt.timedelta(hours=7))),
        lit=True,
        mood=_Mood.CALM,
        level=_Level.LOW,
        flags=_Flags.A | _Flags.B,
        refs=(_REF, _REF),
        times=(_UTC,),
        mixed=("a", "b"),
    ),
    "probe_date_in_union": lambda: _Probe(day_or_time=dt.date(2026, 1, 2)),
    "probe_literal_int": lambda: _Probe(lit=1),
    "probe_literal_other_value": lambda: _Probe().model_copy(update={"lit": "zz"}),
    "probe_literal_bool_for_int": lambda: _Probe().model_copy(update={"lit": False}),
    "probe_strenum_value_as_str": lambda: _Probe().model_copy(update={"mood": "calm"}),
    "probe_intenum_value_as_int": lambda: _Probe().model_copy(update={"level": 1}),
    "probe_intenum_in_strenum": lambda: _Probe().model_copy(update={"mood": _Level.LOW}),
    "probe_bool_in_intenum": lambda: _Probe().model_copy(update={"level": True}),
    "probe_mixed_tuple_items": lambda: _Probe().model_copy(update={"mixed": (1, "a")}),
    "probe_nested_tuple_of_models": lambda: _Probe().model_copy(update={"refs": ((_REF,),)}),
    "probe_list_of_models": lambda: _Probe().model_copy(update={"refs": [_REF]}),
    "probe_date_in_timestamp_tuple": lambda: _Probe().model_copy(
        update={"times": (dt.date(2026, 1, 1),)}
    ),
    "probe_none_in_tuple": lambda: _Probe().model_copy(update={"refs": (None,)}),
    "probe_constraint_ignored_by_copy": lambda: _Probe().model_copy(update={"count": 99}),
    "node_recursive": lambda: _Node(label="a", children=(_Node(label="b"),)),
    "ping_pong_mutual": lambda: _Ping(pong=_Pong(ping=_Ping())),
    "foreign_subclass_with_serializer": lambda: _ForeignAnswer(**dict(answer())),
    "foreign_subclass_in_field": lambda: answer().model_copy(
        update={"forwarding": type("R", (DocumentRef,), {})(**dict(_REF))}
    ),
    "none_in_required_text": lambda: answer().model_copy(update={"text": None}),
    "none_in_required_model": lambda: Answer.model_construct(
        **{**dict(answer()), "official": None}
    ),
    "construct_extra_attribute": lambda: Answer.model_construct(**dict(answer()), extra_x=1),
    "datetime_subclass_in_timestamp": lambda: answer().model_copy(
        update={"issued_at": type("D", (dt.datetime,), {})(2026, 1, 1, tzinfo=dt.UTC)}
    ),
    "date_in_timestamp": lambda: answer().model_copy(update={"issued_at": dt.date(2026, 1, 1)}),
    "tuple_in_text": lambda: answer().model_copy(update={"text": ("a", "b")}),
    "model_in_text": lambda: answer().model_copy(update={"text": _REF}),
    "official_in_letter": lambda: answer().model_copy(
        update={"letter": Official(full_name="A", position="B")}
    ),
    "letter_with_bool_size": lambda: answer().model_copy(
        update={
            "letter": PdfLetter(name="a.pdf", size=1, sha256="ab" * 32).model_copy(
                update={"size": False}
            )
        }
    ),
    "big_int_within_digit_limit": lambda: _Big(n=10**4299),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_attack_instances_write_the_definitions_bytes(case: str) -> None:
    _agree(_CASES[case]())


def test_plans_classify_the_probe_annotations() -> None:
    """The plan for ``_Probe`` holds the exact types validation gives, field by field."""
    plan = {name: (allowed, items) for name, allowed, items in plan_module.plan_of(_Probe) or ()}
    none = type(None)
    assert plan["when"] == (frozenset({dt.datetime, none}), frozenset())
    assert plan["day_or_time"][0] == frozenset({dt.date, dt.datetime, none})
    assert plan["lit"][0] == frozenset({str, int, bool})
    assert plan["mood"][0] == frozenset({_Mood})
    assert plan["level"][0] == frozenset({_Level})
    assert plan["count"][0] == frozenset({int})
    assert plan["refs"] == (frozenset({tuple}), frozenset({DocumentRef}))
    assert plan["times"] == (frozenset({tuple}), frozenset({dt.datetime}))
    assert plan_module.plan_of(_Node) is None  # contains itself
    assert plan_module.plan_of(_Ping) is None
    assert plan_module.plan_of(_Pong) is None
    assert plan_module.plan_of(_ForeignAnswer) is None  # outside pakn_sign.models


# Integers past sys.get_int_max_str_digits(): json.dumps of the dump raises ValueError.


@pytest.mark.parametrize(
    "make",
    [
        lambda: _Big(n=10**4300),
        lambda: _Big(n=-(10**4300)),
        lambda: PdfLetter(name="a.pdf", size=1, sha256="ab" * 32).model_copy(
            update={"size": 10**4300}
        ),
    ],
    ids=["foreign_validated", "foreign_negative", "wire_model_copy"],
)
def test_attack_int_past_the_digit_limit(make: Callable[[], BaseModel]) -> None:
    assert _agree(make())[0] == "error"


class _Latent(WireModel):
    """As a model of pakn_sign.models would be with a serialiser or exclude_if of its own."""

    text: str = "abc"
    hidden: str | None = Field(default=None, exclude_if=lambda v: v is None)

    @field_serializer("text")
    def _upper(self, value: str) -> str:
        return value.upper()


_Latent.__module__ = _PROBE


def test_attack_plan_of_a_model_with_its_own_serializer() -> None:
    _agree(_Latent())


def _wire_classes() -> list[type[WireModel]]:
    import importlib
    import pkgutil

    import pakn_sign.models as package

    found: set[type[WireModel]] = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, WireModel) and value is not WireModel:
                found.add(value)
    return sorted(found, key=lambda c: c.__qualname__)


def test_planned_models_have_no_serializer_the_plan_ignores() -> None:
    """Guard for the latent gap: a planned model must carry no serialiser decorator and no
    ``exclude_if``, or the direct writer would write what pydantic would not."""
    planned = [c for c in _wire_classes() if plan_module.plan_of(c) is not None]
    assert len(planned) >= 15
    for cls in planned:
        decorators = cls.__pydantic_decorators__
        assert not decorators.field_serializers, cls
        assert not decorators.model_serializers, cls
        assert all(f.exclude_if is None for f in cls.model_fields.values()), cls


def test_attack_first_use_from_many_threads_writes_the_same_bytes() -> None:
    """Plans computed concurrently from scratch: every thread gets the definition's bytes."""
    saved = dict(plan_module._PLANS)
    models = [answer(), _REF, _Probe(refs=(_REF,)), Official(full_name="A", position="B")]
    expected = [canonical_reference(m) for m in models]
    errors: list[str] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(50):
            for m, want in zip(models, expected, strict=True):
                if canonical_json(m) != want:
                    errors.append(type(m).__name__)

    try:
        plan_module._PLANS.clear()
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    finally:
        plan_module._PLANS.clear()
        plan_module._PLANS.update(saved)
    assert errors == []


def test_attack_first_use_race_leaves_no_class_unplanned(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = dict(plan_module._PLANS)
    original = plan_module._types
    entered, release = threading.Event(), threading.Event()
    holder: list[threading.Thread] = []

    def slow_types(annotation: Any, iso: Any) -> Any:
        if holder and threading.current_thread() is holder[0]:
            entered.set()
            release.wait(10)
        return original(annotation, iso)

    try:
        plan_module._PLANS.clear()
        monkeypatch.setattr(plan_module, "_types", slow_types)
        holder.append(threading.Thread(target=plan_module.plan_of, args=(DocumentRef,)))
        holder[0].start()
        assert entered.wait(10)  # DocumentRef is in progress in the other thread
        got: list[bytes] = []
        other = threading.Thread(target=lambda: got.append(canonical_json(answer())))
        other.start()  # plans Answer (waits for the planner) or writes by pydantic's dump
        other.join(0.2)
        release.set()
        holder[0].join(10)
        other.join(10)
        assert got == [canonical_reference(answer())]  # the right bytes either way
        assert plan_module.plan_of(DocumentRef) is not None
        assert plan_module.plan_of(Answer) is not None  # Answer holds a DocumentRef
    finally:
        release.set()
        plan_module._PLANS.clear()
        plan_module._PLANS.update(saved)


def test_attack_plan_cache_keeps_no_foreign_class_alive() -> None:
    made = pydantic.create_model("Made", x=(int, 1))
    ref = weakref.ref(made)
    assert canonical_json(made()) == b'{"x":1}'
    del made
    gc.collect()
    assert ref() is None


# == 2. The clean-strings flag: no public way in for untrusted input ====================


def _with_text(raw_text: bytes) -> bytes:
    data = to_json(answer())
    marker = '"text":"Trả lời'.encode()
    assert marker in data
    return data.replace(marker, b'"text":"' + raw_text + "Trả lời".encode(), 1)


# Invalid UTF-8 that a lenient decoder would read as a refused code point: overlong forms of
# U+0000/U+0001/U+0085/U+007F, CESU-8 surrogates, beyond U+10FFFF, and stray continuation bytes.
_INVALID_UTF8 = [
    b"\xc0\x80", b"\xc0\x81", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x82\x85", b"\xe0\x81\xbf",
    b"\xf0\x80\x82\x85", b"\xed\xa0\xbd\xed\xb8\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80",
    b"\xf8\x88\x80\x80\x80", b"\x85", b"\x9f", b"\xef\xbf", b"\xfe\xff",
]  # fmt: skip


@pytest.mark.parametrize("spelling", _INVALID_UTF8, ids=lambda b: b.hex())
def test_attack_invalid_utf8_never_validates_under_the_flag(spelling: bytes) -> None:
    raw = _with_text(spelling)
    # The byte screen passes all but one of them: the flag is set and the UTF-8 decoder of
    # pydantic's JSON parser is what refuses them.
    assert json_strings_clean(raw) == (spelling != b"\xef\xbf")
    assert try_validate_document_json(raw) is None
    strict = doc_outcome(from_json, raw)
    assert strict[0] == "error"
    assert doc_outcome(from_canonical_json, raw) == strict


_REFUSED_SAMPLE = "\x00\x01\x08\x0b\x0c\x0e\x1f\x7f\x80\x85\x9f\ufffe\uffff"


def _answer_inputs(text: str) -> tuple[dict[str, Any], bytes]:
    """Answer input with ``text``: as Python values (strict mode) and as JSON bytes."""
    obj = json.loads(to_json(answer()))
    obj["text"] = text
    return {**dict(answer()), "text": text}, json.dumps(obj).encode()


@pytest.mark.parametrize("context", [None, {}, {STRINGS_CLEAN_KEY: 1}, {STRINGS_CLEAN_KEY: "1"}])
def test_attack_context_without_the_exact_flag_screens(context: Any) -> None:
    """Only ``True`` itself skips the screen (1 == True, but is not True)."""
    for ch in _REFUSED_SAMPLE:
        python, data = _answer_inputs(f"Nội dung {ch} dài hơn.")
        with pytest.raises(ValidationError, match="is not allowed"):
            Answer.model_validate(python, context=context)
        with pytest.raises(ValidationError, match="is not allowed"):
            Answer.model_validate_json(data, context=context)


class _Dict(dict[str, Any]):
    pass


def test_attack_dict_subclass_context_screens() -> None:
    python, data = _answer_inputs("Nội dung \x85 dài hơn.")
    with pytest.raises(ValidationError, match="is not allowed"):
        Answer.model_validate(python, context=_Dict({STRINGS_CLEAN_KEY: True}))
    with pytest.raises(ValidationError, match="is not allowed"):
        Answer.model_validate_json(data, context=_Dict({STRINGS_CLEAN_KEY: True}))


def test_the_flag_is_an_explicit_callers_choice() -> None:
    """The key does skip the screen when a caller sets it: the tests above can fail."""
    python, data = _answer_inputs("Nội dung \x85 dài hơn.")
    for doc in (
        Answer.model_validate(python, context={STRINGS_CLEAN_KEY: True}),
        Answer.model_validate_json(data, context={STRINGS_CLEAN_KEY: True}),
    ):
        assert _FORBIDDEN.search(doc.text)


@pytest.mark.parametrize("ch", list(_REFUSED_SAMPLE))
def test_attack_public_entry_points_refuse_refused_code_points(ch: str) -> None:
    """JSON members, JSON-shaped objects, XML and constructors: none passes the flag on."""
    obj = json.loads(to_json(answer()))
    obj["text"] = f"Nội dung {ch} dài hơn."
    obj["official"]["full_name"] = "Trần Bình"  # a short single line stays clean
    raw = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
    escaped = json.dumps(obj).encode()
    for data in (raw, escaped):
        assert try_validate_document_json(data) is None
        for fn in (from_json, from_canonical_json):
            with pytest.raises(PaknSignError):
                fn(data)
    with pytest.raises(PaknSignError):
        parse_document(obj)
    with pytest.raises(ValidationError):
        Answer(**{**dict(answer()), "text": obj["text"]})
    with pytest.raises(ValidationError):
        Official(full_name=f"Trần {ch} Bình", position="Vụ trưởng")


def test_attack_xml_text_with_a_refused_code_point() -> None:
    """XML 1.0 refuses C0 controls itself; C1 controls and DEL are legal XML characters and
    reach the model through the XML codec's validation, which runs without the flag."""
    xml = to_xml(answer())
    body = "Trả lời kiến nghị".encode()
    assert body in xml
    for ch in ("\x85", "\x7f", "\x9f"):
        forged = xml.replace(body, f"Trả lời {ch} kiến nghị".encode(), 1)
        with pytest.raises(PaknSignError):
            from_xml(forged)
    assert from_xml(xml).text == answer().text


# == 3. parse_jws: understood / unprotected_allowed read once =========================


class _OneShot:
    """An iterable that can be iterated once only (a second pass finds nothing)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._it: Iterator[str] = iter(list(names))

    def __iter__(self) -> Iterator[str]:
        return self._it


class _Shifting:
    """An iterable whose every pass yields something else: only one pass may count."""

    def __init__(self, names: list[str]) -> None:
        self._names = names
        self.passes = 0

    def __iter__(self) -> Iterator[str]:
        self.passes += 1
        return iter(self._names if self.passes == 1 else [])


_KINDS: dict[str, Callable[[list[str]], Iterable[str]]] = {
    "set": set,
    "frozenset": frozenset,
    "list": list,
    "tuple": tuple,
    "generator": lambda names: (n for n in names),
    "iterator": iter,
    "dict": dict.fromkeys,
    "dict_keys": lambda names: dict.fromkeys(names).keys(),
    "one_shot": _OneShot,
    "shifting": _Shifting,
    "string_by_mistake": lambda names: "".join(names),
}


def _jws(headers: list[bytes], *, unprotected: dict[str, Any] | None = None) -> bytes:
    entries = []
    for i, h in enumerate(headers):
        entry: dict[str, Any] = {"protected": b64url_encode(h)}
        if unprotected is not None and i == len(headers) - 1:
            entry["header"] = unprotected
        entry["signature"] = "AAAA"
        entries.append(entry)
    text = json.dumps({"payload": "e30", "signatures": entries}, separators=(",", ":"))
    return text.encode()


_CRIT_X = b'{"alg":"RS256","crit":["x"],"x":1}'
_PLAIN = b'{"alg":"RS256"}'
_CRIT_B64 = b'{"alg":"RS256","b64":true,"crit":["b64"]}'


def _outcome_jws(raw: bytes, *, fast: bool, **kw: Any) -> tuple[object, ...]:
    saved = jws_parse._parse_written_layout
    if not fast:
        jws_parse._parse_written_layout = lambda *args: None
    try:
        parsed = parse_jws(raw, **kw)
    except PaknSignError as exc:
        return error_outcome(exc)
    finally:
        jws_parse._parse_written_layout = saved
    return ("ok", parsed, [parsed.signing_input(i) for i in range(len(parsed.signatures))])


_LAYOUTS = {
    "crit_then_plain": [_CRIT_X, _PLAIN],
    "plain_then_crit": [_PLAIN, _CRIT_X, _CRIT_X],
    "crit_b64_twice": [_CRIT_B64, _CRIT_B64],
}


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
@pytest.mark.parametrize("kind", sorted(_KINDS))
@pytest.mark.parametrize("names", [["b64", "x"], ["x"], []], ids=["b64_x", "x", "none"])
def test_attack_understood_of_every_kind(layout: str, kind: str, names: list[str]) -> None:
    """The written layout (fast) and the full parse, each with a fresh iterable of the same
    kind, and the same input re-spaced (never the layout): one answer for all three."""
    raw = _jws(_LAYOUTS[layout])
    spaced = json.dumps(json.loads(raw)).encode()
    make = _KINDS[kind]
    assert jws_parse._parse_written_layout(raw, JWSLimits(), {"b64", "x"}, ()) is not None
    fast = _outcome_jws(raw, fast=True, understood=make(names))
    assert fast == _outcome_jws(raw, fast=False, understood=make(names))
    spaced_outcome = _outcome_jws(spaced, fast=True, understood=make(names))
    assert spaced_outcome[0] == fast[0]
    if fast[0] == "error":
        assert spaced_outcome == fast
    # The answer is the materialised set's answer (a string is its characters).
    wanted = set("".join(names)) if kind == "string_by_mistake" else set(names)
    needs = {"x"} if layout != "crit_b64_twice" else {"b64"}
    assert (fast[0] == "ok") == (needs <= wanted), fast


@pytest.mark.parametrize("kind", sorted(_KINDS))
@pytest.mark.parametrize("names", [["kid", "etsiU"], ["etsiU"]], ids=["kid", "no_kid"])
def test_attack_unprotected_allowed_of_every_kind(kind: str, names: list[str]) -> None:
    """Two entries with an unprotected ``kid`` each (full parse), and the written layout
    without any (fast path, which never needs the set): a fresh iterable per call."""
    make = _KINDS[kind]
    with_kid = _jws([_PLAIN, _PLAIN, _PLAIN], unprotected={"kid": "k"})
    both = json.loads(with_kid)
    both["signatures"][0]["header"] = {"kid": "k0"}
    raw = json.dumps(both, separators=(",", ":")).encode()
    got = _outcome_jws(raw, fast=True, unprotected_allowed=make(names))
    assert got == _outcome_jws(raw, fast=False, unprotected_allowed=make(names))
    wanted = set("".join(names)) if kind == "string_by_mistake" else set(names)
    assert (got[0] == "ok") == ("kid" in wanted), got
    layout = _jws([_PLAIN, _PLAIN])
    fast = _outcome_jws(layout, fast=True, unprotected_allowed=make(names))
    assert fast[0] == "ok"
    assert fast == _outcome_jws(layout, fast=False, unprotected_allowed=make(names))


def test_caller_sets_are_neither_copied_nor_changed() -> None:
    understood = {"b64", "x"}
    allowed = set(DEFAULT_UNPROTECTED)
    parse_jws(_jws([_CRIT_X, _PLAIN]), understood=understood, unprotected_allowed=allowed)
    assert understood == {"b64", "x"}
    assert allowed == set(DEFAULT_UNPROTECTED)


@pytest.mark.parametrize("kind", ["generator", "one_shot", "string_by_mistake", "list"])
def test_attack_compact_with_every_kind(kind: str) -> None:
    """The compact path keeps the caller's iterable (one signature, read once)."""
    head = b64url_encode(_CRIT_X)
    raw = f"{head}.e30.AAAA".encode()
    got = _outcome_jws(raw, fast=True, understood=_KINDS[kind](["x"]), allow_compact=True)
    assert got[0] == "ok"
    wrong = _outcome_jws(raw, fast=True, understood=_KINDS[kind](["y"]), allow_compact=True)
    assert wrong[0] == "error"
    assert wrong[1] == "UnsupportedFeature"
