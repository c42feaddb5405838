"""Hostile and malformed input is refused with a typed error and a location, cheaply.

Every refusal is checked for its error class, its location, and its cost: wall time under a
generous bound, Python allocations (tracemalloc) and the process high-water mark
(ru_maxrss, which also sees libxml2's C allocations) under a bound far below what an
expanded bomb would need.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time
import tracemalloc
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import example_documents, require_vectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pakn_sign.cli.main import main
from pakn_sign.codec.detect import load_document
from pakn_sign.codec.jsoncodec import to_json
from pakn_sign.codec.xmlcodec import from_xml, to_xml
from pakn_sign.codec.xmlparse import XmlLimits
from pakn_sign.errors import InvalidInput, PaknSignError, SchemaError

DEFUSED = [
    "cyclic.xml",
    "dtd.xml",
    "external.xml",
    "external_file.xml",
    "quadratic.xml",
    "simple-ns.xml",
    "simple.xml",
    "xmlbomb.xml",
    "xmlbomb2.xml",
]
EXAMPLES = {doc.kind: doc for doc in example_documents()}
PETITION_XML = to_xml(EXAMPLES["petition"])
MAX_SECONDS = 5.0
MAX_PY_BYTES = 8 * 1024 * 1024
MAX_RSS_GROWTH_KB = 64 * 1024


def _maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def refused(call: Callable[[], object], error: type[PaknSignError] = InvalidInput) -> PaknSignError:
    """Run ``call``, expect ``error`` with a location, within the time and memory bounds."""
    rss_before = _maxrss_kb()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(error) as info:
            call()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"took {elapsed:.2f} s"
    assert peak < MAX_PY_BYTES, f"Python peak {peak} bytes"
    assert _maxrss_kb() - rss_before < MAX_RSS_GROWTH_KB, "process memory grew"
    assert info.value.location, f"no location in {info.value!r}"
    return info.value


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback TCP server that records any connection (none may ever arrive)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            hits.append(conn.recv(256))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1], hits
    stop.set()
    thread.join()
    srv.close()


# -- the public defusedxml corpus -----------------------------------------------------------


@pytest.mark.parametrize("name", DEFUSED, ids=DEFUSED)
def test_attack_defusedxml_vector_refused_by_codec(name: str) -> None:
    data = (require_vectors("xmldsig/defusedxml-test-data") / name).read_bytes()
    err = refused(lambda: from_xml(data))
    assert err.location is not None
    assert err.location.startswith("line ")


@pytest.mark.parametrize("name", DEFUSED, ids=DEFUSED)
def test_attack_defusedxml_vector_refused_by_validate(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = require_vectors("xmldsig/defusedxml-test-data") / name
    assert main(["validate", str(path)]) == 4
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{path}: line ")


# -- entity and DTD attacks -----------------------------------------------------------------


def test_attack_billion_laughs() -> None:
    levels = "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' if i else '<!ENTITY l0 "lol">' for i in range(10)
    )
    data = f'<?xml version="1.0"?>\n<!DOCTYPE b [{levels}]>\n<b>&l9;</b>'.encode()
    err = refused(lambda: from_xml(data))
    assert err.code == "input.dtd_forbidden"
    assert err.location == "line 2"


def test_attack_quadratic_blowup() -> None:
    entity = "A" * 100_000
    data = f'<!DOCTYPE q [<!ENTITY a "{entity}">]><q>{"&a;" * 10_000}</q>'.encode()
    err = refused(lambda: from_xml(data))
    assert err.code == "input.dtd_forbidden"


def test_attack_external_entity_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (
        f'<!DOCTYPE p [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<pakn:Petition xmlns:pakn="urn:pakn-sign:pakn:1">&x;</pakn:Petition>'
    ).encode()
    err = refused(lambda: from_xml(data))
    assert "TOP-SECRET" not in str(err)


def test_attack_external_entity_http(listener: tuple[int, list[bytes]]) -> None:
    port, hits = listener
    data = (f'<!DOCTYPE p [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]>\n<p>&x;</p>').encode()
    refused(lambda: from_xml(data))
    time.sleep(0.3)
    assert hits == []


def test_attack_external_dtd(listener: tuple[int, list[bytes]]) -> None:
    port, hits = listener
    data = f'<?xml version="1.0"?>\n<!DOCTYPE p SYSTEM "http://127.0.0.1:{port}/p.dtd">\n<p/>'
    err = refused(lambda: from_xml(data.encode()))
    assert err.location == "line 2"
    time.sleep(0.3)
    assert hits == []


def test_attack_parameter_entities(listener: tuple[int, list[bytes]]) -> None:
    port, hits = listener
    data = (
        f'<!DOCTYPE p [<!ENTITY % ext SYSTEM "http://127.0.0.1:{port}/e.dtd"> %ext;]>\n<p/>'
    ).encode()
    refused(lambda: from_xml(data))
    time.sleep(0.3)
    assert hits == []


def test_attack_entity_declaration_hidden_in_lowercase() -> None:
    data = b'<!doctype p [<!entity a "b">]><p>&a;</p>'
    assert refused(lambda: from_xml(data)).code == "input.dtd_forbidden"


def test_attack_undeclared_entity_reference() -> None:
    data = PETITION_XML.replace(b"<pakn:Title>", b"<pakn:Title>&secret;")
    err = refused(lambda: from_xml(data))
    assert err.location is not None
    assert err.location.startswith("line ")


def test_attack_xinclude() -> None:
    include = (
        b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'
    )
    data = PETITION_XML.replace(b"<pakn:Title>", include + b"<pakn:Title>")
    err = refused(lambda: from_xml(data), SchemaError)
    assert "root:" not in str(err)
    assert err.location is not None
    assert "/pakn:Petition" in err.location


def test_attack_xsi_schema_location(listener: tuple[int, list[bytes]]) -> None:
    port, hits = listener
    attr = (
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xsi:schemaLocation="urn:pakn-sign:pakn:1 http://127.0.0.1:%d/x.xsd"' % port
    )
    data = PETITION_XML.replace(
        b'xmlns:pakn="urn:pakn-sign:pakn:1"', b'xmlns:pakn="urn:pakn-sign:pakn:1"' + attr
    )
    err = refused(lambda: from_xml(data))
    assert err.code == "input.unsupported"
    time.sleep(0.3)
    assert hits == []


def test_attack_comment_splitting_text() -> None:
    # Exclusive C14N drops comments: "ab<!---->cd" is signed as "abcd"; refuse, never guess.
    data = PETITION_XML.replace(b"<pakn:Title>", b"<pakn:Title>x<!-- hidden -->")
    err = refused(lambda: from_xml(data))
    assert err.code == "input.comment_forbidden"
    assert err.location is not None
    assert err.location.endswith("/pakn:Petition/pakn:Title")


# -- size and shape -------------------------------------------------------------------------


def test_attack_deep_nesting_100000() -> None:
    data = b"<a>" * 100_000 + b"</a>" * 100_000
    err = refused(lambda: from_xml(data))
    assert err.location is not None
    assert err.location.startswith("line ")


def test_attack_deep_nesting_within_libxml2_limit() -> None:
    data = b'<pakn:Petition xmlns:pakn="urn:pakn-sign:pakn:1">' + b"<a>" * 200 + b"</a>" * 200
    data += b"</pakn:Petition>"
    assert refused(lambda: from_xml(data)).code == "input.too_deep"


def test_attack_50mb_text_node() -> None:
    data = b"<p>" + b"A" * (50 * 1024 * 1024) + b"</p>"
    err = refused(lambda: from_xml(data))
    assert err.code == "input.too_large"


def test_attack_50mb_text_node_with_raised_size_limit() -> None:
    data = b"<p>" + b"A" * (50 * 1024 * 1024) + b"</p>"
    limits = XmlLimits(max_bytes=64 * 1024 * 1024)
    err = refused(lambda: from_xml(data, limits=limits))
    assert err.location is not None


def test_text_node_over_the_configured_limit() -> None:
    content = "Nội dung. " * 2000
    doc = EXAMPLES["petition"].model_copy(update={"content": content})
    limits = XmlLimits(max_text_bytes=10_000)
    err = refused(lambda: from_xml(to_xml(doc), limits=limits))
    assert err.code == "input.too_large"


# -- encoding -------------------------------------------------------------------------------


def test_invalid_utf8() -> None:
    data = PETITION_XML.replace("Nghệ An".encode(), b"Ngh\xff An")
    err = refused(lambda: from_xml(data))
    line = data[: data.index(b"\xff")].count(b"\n") + 1
    assert err.location == f"line {line}"
    assert "0xff" in err.message


def test_utf16_refused() -> None:
    data = PETITION_XML.decode().replace("UTF-8", "UTF-16").encode("utf-16")
    assert refused(lambda: from_xml(data)).location == "line 1"


def test_declared_latin1_refused() -> None:
    data = PETITION_XML.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'")
    assert "ISO-8859-1" in refused(lambda: from_xml(data)).message


# -- schema ---------------------------------------------------------------------------------


def test_wrong_namespace() -> None:
    data = PETITION_XML.replace(b"urn:pakn-sign:pakn:1", b"urn:pakn-sign:pakn:2")
    err = refused(lambda: from_xml(data), SchemaError)
    assert "urn:pakn-sign:pakn:1" in err.message
    assert err.location == "line 2, /{urn:pakn-sign:pakn:2}Petition"


def test_missing_required_element() -> None:
    lines = PETITION_XML.split(b"\n")
    title = next(i for i, line in enumerate(lines) if b"<pakn:Title>" in line)
    data = b"\n".join(lines[:title] + lines[title + 1 :])
    err = refused(lambda: from_xml(data), SchemaError)
    assert err.location == f"line {title + 1}, /pakn:Petition/pakn:Content"
    assert "pakn:Title" in err.message  # what was expected


def test_unknown_element_refused() -> None:
    data = PETITION_XML.replace(b"<pakn:Title>", b"<pakn:Extra>x</pakn:Extra><pakn:Title>")
    err = refused(lambda: from_xml(data), SchemaError)
    assert "pakn:Extra" in err.message


def test_nfd_text_is_accepted_and_normalised() -> None:
    # The models accept NFD and normalise it to NFC (docs/documents.md): test that choice.
    title = EXAMPLES["petition"].title
    nfd = unicodedata.normalize("NFD", title)
    assert nfd != title
    data = PETITION_XML.replace(title.encode(), nfd.encode())
    assert data != PETITION_XML
    doc = from_xml(data)
    assert doc.title == title
    assert to_xml(doc) == PETITION_XML


def test_duplicate_json_keys() -> None:
    data = to_json(EXAMPLES["petition"])
    dup = b'{"title":"x",' + data[1:]
    err = refused(lambda: load_document(dup))
    assert "title" in str(err)


def test_neither_xml_nor_json() -> None:
    err = refused(lambda: load_document(b"  \n%PDF-1.7"))
    assert err.location == "offset 3"


# -- property: mutations of valid documents never escape the error tree ---------------------

_SAMPLES = [to_xml(doc) for doc in EXAMPLES.values()] + [to_json(d) for d in EXAMPLES.values()]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        byte = draw(st.integers(0, 255) | st.sampled_from(list(b"<>&;\"'/{}[],:\\")))
        if action == "replace":
            data[pos] = byte
        elif action == "delete":
            del data[pos]
        else:
            data.insert(pos, byte)
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_documents_raise_only_pakn_errors(data: bytes) -> None:
    # Anything but a PaknSignError (or success) propagates and fails the test.
    with contextlib.suppress(PaknSignError):
        load_document(data)
