"""schemas/openapi.yaml describes the node's HTTP interface exactly: it parses, its routes
are the ones the ASGI app serves (probed), its wire-model components are those of
pakn_sign/transport/wire.py, its examples validate, and real responses match it.

Regenerate the wire-model components: ``.venv/bin/python tests/test_openapi.py --write``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from pydantic.json_schema import models_json_schema

sys.path.insert(0, str(Path(__file__).resolve().parent))
from transport_helpers import MINISTRY, VPCP, MutableClock, make_mesh, signed_directory

from pakn_sign.signing.b64 import b64url_decode
from pakn_sign.transport.sender import OutgoingPart
from pakn_sign.transport.wire import (
    DirectoryDocument,
    EnvelopeHeader,
    PullRequest,
    Receipt,
)
from pakn_sign.trust.testpki import TestPKI

SPEC = Path(__file__).resolve().parent.parent / "schemas" / "openapi.yaml"
MARKER = (
    "    # --- Wire models (generated from pakn_sign/transport/wire.py; do not edit by hand) ---\n"
)
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
ENDPOINTS = {VPCP: f"http://{VPCP}", MINISTRY: f"http://{MINISTRY}"}
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def wire_components() -> dict[str, Any]:
    models = (EnvelopeHeader, Receipt, DirectoryDocument, PullRequest)
    _, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    return dict(top["$defs"])


def load_spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("pki"), algorithm="p256", now=NOW)


@pytest.fixture
def mesh(pki: TestPKI, tmp_path: Path):  # type: ignore[no-untyped-def]
    d = signed_directory(pki, now=NOW, endpoints=ENDPOINTS)
    m = make_mesh(pki, tmp_path, MutableClock(NOW), [VPCP, MINISTRY], d)
    yield m
    for node in m.nodes.values():
        asyncio.run(node.aclose())


def _validator(spec: dict[str, Any], ref: str) -> jsonschema.Draft202012Validator:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; resolve $refs against the whole document.
    return jsonschema.Draft202012Validator(
        {"$ref": ref, "components": spec["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_document_parses_as_openapi_31(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    assert {"info", "paths", "components"} <= set(spec)
    assert spec["components"]["securitySchemes"]["mutualTLS"]["type"] == "mutualTLS"
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert method in METHODS, (path, method)
            assert op["responses"], (path, method)
            for status in op["responses"]:
                assert status.isdigit()
                assert 200 <= int(status) < 600


def test_every_ref_resolves(spec: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    assert refs
    for ref in refs:
        target: Any = spec
        for key in ref.removeprefix("#/").split("/"):
            target = target[key]
        assert isinstance(target, dict), ref


def test_wire_components_match_the_models(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name, schema in wire_components().items():
        assert schemas.get(name) == schema, f"{name} drifted: run tests/test_openapi.py --write"


def test_examples_validate_against_their_schemas(spec: dict[str, Any]) -> None:
    examples = spec["components"]["examples"]
    assert examples
    for _name, ex in examples.items():
        _validator(spec, f"#/components/schemas/{ex['x-payload-of']}").validate(ex["value"])
    # ... and the models agree (the examples are real payloads, not just schema-shaped).
    Receipt.model_validate_json(json.dumps(examples["AcceptedReceipt"]["value"]))
    EnvelopeHeader.model_validate_json(json.dumps(examples["Envelope"]["value"]))
    bad = dict(examples["AcceptedReceipt"]["value"], status="maybe")
    with pytest.raises(jsonschema.ValidationError):
        _validator(spec, "#/components/schemas/Receipt").validate(bad)


def _probe(mesh, method: str, path: str, **kw: Any) -> httpx.Response:  # type: ignore[no-untyped-def]
    app = mesh.nodes[MINISTRY].app

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as c:
            return await c.request(method, path, **kw)

    return asyncio.run(go())


GENERIC_404 = {"error": "not found"}


def _served(mesh, method: str, path: str) -> bool:  # type: ignore[no-untyped-def]
    r = _probe(mesh, method, path, content=b"{}")
    return not (r.status_code == 404 and r.headers["content-type"] == "application/json"
                and r.json() == GENERIC_404)  # fmt: skip


def test_routes_are_exactly_those_the_app_serves(spec: dict[str, Any], mesh) -> None:  # type: ignore[no-untyped-def]
    sample_id = "019ac8f2-5b1e-7c3a-9d4e-2f6a8b0c1d2e"
    documented = {
        (method.upper(), path.replace("{message_id}", sample_id))
        for path, item in spec["paths"].items()
        for method in item
    }
    candidates = {
        (m.upper(), p)
        for m in METHODS
        if m != "head"
        for p in (
            "/v1/messages",
            f"/v1/receipts/{sample_id}",
            "/v1/directory",
            "/v1/health",
            "/v1/pull",
            "/v1/pull/ack",
            "/",
            "/v1",
            "/v1/receipts",
            "/v2/messages",
            "/openapi.yaml",
        )
    }
    served = {c for c in candidates if _served(mesh, *c)}
    assert served == documented


def test_responses_match_the_document(spec: dict[str, Any], mesh) -> None:  # type: ignore[no-untyped-def]
    ops = spec["paths"]

    def check(method: str, path: str, r: httpx.Response, spec_path: str | None = None) -> None:
        op = ops[spec_path or path][method.lower()]
        resp = op["responses"][str(r.status_code)]
        ctype = r.headers.get("content-type", "")
        if "content" not in resp:
            assert r.content == b""
            return
        assert ctype in resp["content"], (path, r.status_code, ctype)
        schema = resp["content"][ctype]["schema"]
        body = r.json()
        jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)

    check("GET", "/v1/health", _probe(mesh, "GET", "/v1/health"))
    r = _probe(mesh, "POST", "/v1/messages", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    check("POST", "/v1/messages", r)
    envelope = {"content-type": "application/vnd.pakn.envelope"}
    r = _probe(mesh, "POST", "/v1/messages", content=b"x", headers=envelope)
    assert r.status_code == 400
    check("POST", "/v1/messages", r)
    r = _probe(mesh, "POST", "/v1/messages", content=b"x",
               headers={**envelope, "pakn-header-length": str(10**7)})  # fmt: skip
    assert r.status_code == 413
    check("POST", "/v1/messages", r)
    missing = "/v1/receipts/019ac8f2-5b1e-7c3a-9d4e-2f6a8b0c1d2e"
    r = _probe(mesh, "GET", missing)
    assert r.status_code == 404
    check("GET", missing, r, "/v1/receipts/{message_id}")
    r = _probe(mesh, "GET", "/v1/directory")
    assert r.status_code == 200
    check("GET", "/v1/directory", r)
    payload = json.loads(b64url_decode(r.json()["payload"]))
    _validator(spec, "#/components/schemas/DirectoryDocument").validate(payload)

    # A real message: the receipt answered, and the same one served by GET, match the document.
    sender = mesh.nodes[VPCP]
    rec = sender.sender.submit(
        recipient=MINISTRY, parts=[OutgoingPart("petition.xml", "application/xml", b"<p/>")]
    )
    status, receipt = asyncio.run(
        sender.http.post_message(f"http://{MINISTRY}", rec.header, rec.parts, sender.sender.faults)
    )
    assert status == 200
    path = f"/v1/receipts/{rec.message_id}"
    r = _probe(mesh, "GET", path)
    assert r.content == receipt
    check("GET", path, r, "/v1/receipts/{message_id}")
    _validator(spec, "#/components/schemas/Receipt").validate(
        json.loads(b64url_decode(r.json()["payload"]))
    )


def _write() -> None:
    text = SPEC.read_text(encoding="utf-8")
    head = text[: text.index(MARKER) + len(MARKER)]
    body = yaml.safe_dump(wire_components(), sort_keys=False, allow_unicode=True, width=100)
    SPEC.write_text(head + "".join(f"    {line}\n" for line in body.splitlines()), "utf-8")


if __name__ == "__main__" and "--write" in sys.argv:
    _write()
