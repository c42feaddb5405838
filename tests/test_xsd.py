"""The hand-written XSD and the models stay in step; the XML examples validate and do not drift."""

from __future__ import annotations

import enum
import importlib.util
import typing
from pathlib import Path

import pytest
from conftest import ROOT, example_documents
from lxml import etree

from pakn_sign.codec._xmlplan import (
    ListShape,
    ModelShape,
    ScalarShape,
    Shape,
    UnionShape,
    member_plan,
    model_plan,
)
from pakn_sign.codec._xmlschema import schema, xsd_path
from pakn_sign.models import DOCUMENT_TYPES

XS = "http://www.w3.org/2001/XMLSchema"
XSD = etree.parse(str(xsd_path()))
TYPES = {
    el.get("name"): el for el in XSD.getroot() if el.get("name") and el.tag != f"{{{XS}}}element"
}
GLOBAL_ELEMENTS = {el.get("name"): el for el in XSD.getroot().iterfind(f"{{{XS}}}element")}
EXAMPLE_DIR = ROOT / "examples" / "documents"
KINDS = sorted(DOCUMENT_TYPES)


def _xml_examples() -> dict[str, bytes]:
    path = EXAMPLE_DIR / "make_xml_examples.py"
    spec = importlib.util.spec_from_file_location("pakn_make_xml_examples", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.xml_examples())


def _type(name: str | None) -> etree._Element:
    assert name is not None
    assert name.startswith("pakn:"), name
    return TYPES[name.removeprefix("pakn:")]


def _particles(ctype: etree._Element) -> tuple[str, list[etree._Element]]:
    """('sequence'|'choice', the xs:element children) of a complexType."""
    for group in ("sequence", "choice"):
        found = ctype.find(f"{{{XS}}}{group}")
        if found is not None:
            return group, found.findall(f"{{{XS}}}element")
    raise AssertionError(f"complexType {ctype.get('name')} has no sequence or choice")


def _enum_values(stype: etree._Element) -> set[str]:
    return {e.get("value") for e in stype.iter(f"{{{XS}}}enumeration")}  # type: ignore[misc]


def _bare(annotation: object) -> object:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return _bare(args[0]) if len(args) == 1 else annotation


def _check_shape(shape: Shape, type_name: str | None, where: str, annotation: object) -> None:
    if isinstance(shape, ScalarShape):
        stype = _type(type_name)
        assert stype.tag == f"{{{XS}}}simpleType", f"{where}: expected a simple type"
        bare = _bare(annotation)
        if isinstance(bare, type) and issubclass(bare, enum.Enum):
            assert _enum_values(stype) == {m.value for m in bare}, where
        if typing.get_origin(bare) is typing.Literal:
            assert _enum_values(stype) == {str(v) for v in typing.get_args(bare)}, where
        return
    ctype = _type(type_name)
    if isinstance(shape, ModelShape):
        _check_model(model_plan(shape.cls), ctype, where)
    elif isinstance(shape, UnionShape):
        group, elements = _particles(ctype)
        assert group == "choice", where
        assert [e.get("name") for e in elements] == [n for n, _ in shape.members], where
        for el, (name, cls) in zip(elements, shape.members, strict=True):
            _check_model(member_plan(shape, cls), _type(el.get("type")), f"{where}/{name}")
    else:
        assert isinstance(shape, ListShape)
        group, elements = _particles(ctype)
        assert len(elements) == 1, where
        item = elements[0]
        assert item.get("name") == shape.item_local, where
        assert item.get("maxOccurs") not in (None, "1"), f"{where}: a list allows repeats"
        item_ann = typing.get_args(_bare(annotation))[0]
        _check_shape(shape.item, item.get("type"), f"{where}/{shape.item_local}", item_ann)


def _check_model(plan, ctype: etree._Element, where: str) -> None:
    group, elements = _particles(ctype)
    assert group == "sequence", where
    assert [e.get("name") for e in elements] == [f.local for f in plan.fields], where
    for el, spec in zip(elements, plan.fields, strict=True):
        info = plan.cls.model_fields[spec.name]
        # On the wire the version marker is required though Python gets a default (STYLE §6).
        required = info.is_required() or spec.name == "schema_version"
        assert (el.get("minOccurs") == "0") == (not required), f"{where}/{spec.local}: minOccurs"
        annotation = info.annotation
        _check_shape(spec.shape, el.get("type"), f"{where}/{spec.local}", annotation)


@pytest.mark.parametrize("kind", KINDS)
def test_xsd_and_model_agree(kind: str) -> None:
    cls = DOCUMENT_TYPES[kind]
    element = GLOBAL_ELEMENTS[cls.__name__]
    ctype = _type(element.get("type"))
    _check_model(model_plan(cls, frozenset({"kind"})), ctype, cls.__name__)
    attrs = [a.get("name") for a in ctype.iterfind(f"{{{XS}}}attribute")]
    assert attrs == ["Id"]


def test_xsd_declares_exactly_the_kinds_and_the_container() -> None:
    names = {cls.__name__ for cls in DOCUMENT_TYPES.values()}
    assert set(GLOBAL_ELEMENTS) == names | {"Signed"}
    choice = TYPES["Signed"].find(f"{{{XS}}}sequence/{{{XS}}}choice")
    assert choice is not None
    assert {e.get("ref") for e in choice} == {f"pakn:{n}" for n in names}
    any_ = TYPES["Signed"].find(f"{{{XS}}}sequence/{{{XS}}}any")
    assert any_ is not None
    assert any_.get("namespace") == "http://www.w3.org/2000/09/xmldsig#"
    assert any_.get("processContents") == "skip"


def test_every_declaration_is_documented_in_vietnamese() -> None:
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    tags = [f"{{{XS}}}{t}" for t in ("element", "simpleType", "complexType")]
    missing = []
    for el in XSD.getroot().iter(*tags):
        if el.get("ref"):
            continue  # a reference to a documented global element
        docs = el.findall(f"{{{XS}}}annotation/{{{XS}}}documentation")
        if not any(d.get(lang) == "vi" and (d.text or "").strip() for d in docs):
            missing.append(el.get("name"))
    assert missing == []


def test_xsd_compiles_once_and_is_cached() -> None:
    assert schema() is schema()


@pytest.mark.parametrize("name", [f"{kind}.xml" for kind in KINDS])
def test_example_validates_against_the_xsd(name: str) -> None:
    tree = etree.parse(str(EXAMPLE_DIR / name))
    assert schema().validate(tree), schema().error_log


@pytest.mark.parametrize("name", [f"{kind}.xml" for kind in KINDS])
def test_committed_xml_example_has_not_drifted(name: str) -> None:
    expected = _xml_examples()[name]
    assert (EXAMPLE_DIR / name).read_bytes() == expected, (
        "run .venv/bin/python examples/documents/make_xml_examples.py"
    )


def test_examples_cover_every_kind() -> None:
    assert {doc.kind for doc in example_documents()} == set(KINDS)
    assert sorted(p.stem for p in Path(EXAMPLE_DIR).glob("*.xml")) == KINDS
