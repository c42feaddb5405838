"""The ``Document`` union of all kinds and the one entry point that validates untrusted data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar, overload

from pydantic import Field, TypeAdapter, ValidationError

from ..errors import InvalidInput, SchemaError
from ._base import validate_clean_json
from .handling import Answer, AnswerReturn, Forwarding, StatusNotice
from .intake import Classification, InformationRequest, InformationSupplement, Petition
from .public import CitizenFeedback, Publication
from .settings import CONTEXT_KEY, ValidationSettings

__all__ = [
    "DOCUMENT_ADAPTER",
    "DOCUMENT_TYPES",
    "Document",
    "check_envelope",
    "check_expected",
    "json_pointer",
    "parse_document",
    "schema_error_from",
    "try_validate_document_json",
    "validate_document_json",
]

Document = Annotated[
    Petition
    | Classification
    | InformationRequest
    | InformationSupplement
    | Forwarding
    | StatusNotice
    | Answer
    | AnswerReturn
    | CitizenFeedback
    | Publication,
    Field(discriminator="kind"),
]
"""Any document kind, told apart by its ``kind`` field."""

DOCUMENT_TYPES: dict[str, type[Any]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        Petition,
        Classification,
        InformationRequest,
        InformationSupplement,
        Forwarding,
        StatusNotice,
        Answer,
        AnswerReturn,
        CitizenFeedback,
        Publication,
    )
}
"""``kind`` -> model class, in lifecycle order."""

DOCUMENT_ADAPTER: TypeAdapter[Document] = TypeAdapter(Document)

_D = TypeVar("_D")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")  # RFC 6901 §3


def json_pointer(loc: tuple[int | str, ...], data: Any) -> str:
    """An RFC 6901 pointer for pydantic's error ``loc`` walked over ``data``.

    Pydantic puts union tags into ``loc``: the document's ``kind`` first, then e.g.
    ``person`` for the sender. The first is dropped when it is the data's ``kind``; others
    are skipped by following the data: a step that is not a key (or index) of the data is a
    tag, unless it is the last one (a missing field).
    """
    if loc and isinstance(data, Mapping) and loc[0] == data.get("kind"):
        loc = loc[1:]
    parts: list[str] = []
    node: Any = data
    for i, step in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, Mapping) and isinstance(step, str):
            if step in node:
                node = node[step]
            elif not last:
                continue  # a union tag
            else:
                node = None
        elif isinstance(node, list | tuple) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        elif not last:
            continue
        parts.append(_escape(str(step)))
    return "/" + "/".join(parts) if parts else ""


def schema_error_from(exc: ValidationError, data: Any) -> SchemaError:
    """One ``SchemaError`` for a pydantic error: the first problem, located by JSON pointer."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    message = first["msg"]
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # The error sits on the union; point at its discriminator field instead.
        loc = (*loc, str((first.get("ctx") or {}).get("discriminator", "kind")).strip("'"))
    elif first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == "extra_forbidden":
        message = "unexpected field (not in the schema)"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return SchemaError(f"{message}{more}", location=json_pointer(loc, data) or "/")


def _context(settings: ValidationSettings | None) -> dict[str, Any] | None:
    return {CONTEXT_KEY: settings} if settings is not None else None


def validate_document_json(
    data: bytes | str, parsed: Any, *, settings: ValidationSettings | None = None
) -> Document:
    """Validate JSON text whose parse (for error locations) is ``parsed``. Codec use."""
    try:
        return DOCUMENT_ADAPTER.validate_json(data, context=_context(settings))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            # What Python's parser let through and pydantic's does not (e.g. a lone
            # surrogate escape, which no UTF-8 text can carry): unreadable, not a schema miss.
            raise InvalidInput(f"unreadable JSON: {first['msg']}") from exc
        raise schema_error_from(exc, parsed) from exc


def try_validate_document_json(
    data: bytes, *, settings: ValidationSettings | None = None
) -> Document | None:
    """The document ``data`` validates to, or None (errors are the caller's strict path's)."""
    try:  # the core validator itself: TypeAdapter.validate_json only passes its defaults on
        return validate_clean_json(  # type: ignore[no-any-return]
            DOCUMENT_ADAPTER.validator.validate_json, data, _context(settings)
        )
    except ValidationError:
        return None


@overload
def parse_document(
    obj: Mapping[str, Any], *, expect: None = None, settings: ValidationSettings | None = None
) -> Document: ...
@overload
def parse_document(
    obj: Mapping[str, Any], *, expect: type[_D], settings: ValidationSettings | None = None
) -> _D: ...
def parse_document(
    obj: Mapping[str, Any],
    *,
    expect: type[Any] | None = None,
    settings: ValidationSettings | None = None,
) -> Any:
    """Validate a JSON-shaped object (``dict``/``list``/``str``/``int``/``bool``/``None``).

    Values follow JSON conventions: datetimes as ISO 8601 strings with offset, enums as
    their values, arrays as lists. Raises ``SchemaError`` (``location`` = JSON pointer).

    Args:
        obj: the object, e.g. from ``json.loads`` or built from XML.
        expect: a kind class; any other kind raises ``SchemaError``.
        settings: validation settings (agency-code mode, sector registry).
    """
    check_envelope(obj)
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"not a JSON-shaped object: {exc}", location="/") from exc
    return check_expected(validate_document_json(text, obj, settings=settings), expect)


def check_envelope(obj: object) -> None:
    """Raise ``SchemaError`` unless ``obj`` is an object with ``kind`` and ``schema_version``."""
    if not isinstance(obj, Mapping):
        raise SchemaError(f"expected a JSON object, got {type(obj).__name__}", location="/")
    for key in ("kind", "schema_version"):
        if key not in obj:
            raise SchemaError("required field is missing", location=f"/{key}")


def check_expected(doc: Document, expect: type[Any] | None) -> Any:
    """Return ``doc`` if it is an ``expect`` (or ``expect`` is None); ``SchemaError`` if not."""
    if expect is not None and not isinstance(doc, expect):
        raise SchemaError(
            f"expected a {expect.__name__} document, found kind {doc.kind!r}", location="/kind"
        )
    return doc
