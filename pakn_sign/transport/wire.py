"""Wire models of the exchange: envelope header, receipt, partner directory.

Each is signed as a JWS flattened JSON object whose payload is the model's canonical
JSON (sorted keys, compact, UTF-8): the bytes that are signed are the bytes that are
parsed (never re-serialised before verification).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ..codec.jsoncodec import loads_strict
from ..errors import InvalidInput, SchemaError
from ..models._base import canonical_json  # the one canonical form (re-exported)

__all__ = [
    "DirectoryDocument",
    "EnvelopeHeader",
    "PartInfo",
    "PartnerEntry",
    "PullRequest",
    "Receipt",
    "ReplyRef",
    "TraceEntry",
    "canonical_json",
    "parse_wire",
]

M = TypeVar("M", bound=BaseModel)

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
AgencyCode = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[0-9A-Za-z.\-]+$")]
MessageId = Annotated[
    str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
]


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PartInfo(_Wire):
    """One manifest entry: the part's name, media type, exact size and SHA-256."""

    name: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00]+$")]
    media_type: Annotated[str, Field(min_length=3, max_length=127)]
    size: Annotated[int, Field(ge=0)]
    sha256: Sha256Hex


class ReplyRef(_Wire):
    """The message this one answers, bound by id and envelope digest."""

    message_id: MessageId
    envelope_digest: Sha256Hex


class TraceEntry(_Wire):
    """One hop: which node handled the message, when, and how."""

    organ_id: AgencyCode
    at: AwareDatetime
    action: Literal["sent", "forwarded", "relayed"]
    message_id: MessageId


class EnvelopeHeader(_Wire):
    """The signed header: routing, times, and the manifest binding every part by digest."""

    kind: Literal["envelope"] = "envelope"
    version: Literal["1"] = "1"
    message_id: MessageId
    conversation_id: Annotated[str, Field(min_length=1, max_length=128)]
    sender: AgencyCode
    recipient: AgencyCode
    in_reply_to: ReplyRef | None = None
    created_at: AwareDatetime
    expires_at: AwareDatetime
    subject: Annotated[str, Field(max_length=500)] = ""
    parts: Annotated[list[PartInfo], Field(min_length=1, max_length=64)]
    trace: Annotated[list[TraceEntry], Field(max_length=32)] = []


class Receipt(_Wire):
    """The receiver's signed statement of what it durably stored (or why it refused)."""

    kind: Literal["receipt"] = "receipt"
    version: Literal["1"] = "1"
    message_id: MessageId
    envelope_digest: Sha256Hex
    part_digests: list[Sha256Hex]
    received_at: AwareDatetime
    receiver: AgencyCode
    sender: AgencyCode
    status: Literal["accepted", "rejected"]
    error_code: str | None = None
    error_message: Annotated[str, Field(max_length=1000)] | None = None


class PartnerEntry(_Wire):
    """One partner in the directory; several fingerprints allow key rotation by overlap."""

    agency_code: AgencyCode
    name: Annotated[str, Field(min_length=1, max_length=300)]
    endpoint: Annotated[str, Field(max_length=500)] | None = None
    signing_cert_sha256: Annotated[list[Sha256Hex], Field(min_length=1)]
    tls_certificates: Annotated[
        list[Annotated[str, Field(max_length=16384)]], Field(max_length=8)
    ] = []
    """Base64 DER of the node's TLS certificates; the only TLS peers accepted (pinned)."""
    max_message_bytes: Annotated[int, Field(gt=0)] = 64 * 1024 * 1024
    max_part_bytes: Annotated[int, Field(gt=0)] = 2 * 1024 * 1024 * 1024
    pull: bool = False


class PullRequest(_Wire):
    """An agency without inbound connectivity asks the hub for its next message (signed)."""

    kind: Literal["pull"] = "pull"
    version: Literal["1"] = "1"
    agency: AgencyCode
    at: AwareDatetime
    nonce: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class DirectoryDocument(_Wire):
    """VPCP's signed, versioned, expiring list of partners."""

    kind: Literal["directory"] = "directory"
    version: Annotated[int, Field(ge=1)]
    issued_at: AwareDatetime
    expires_at: AwareDatetime
    issuer: AgencyCode
    partners: list[PartnerEntry]


def parse_wire(cls: type[M], data: bytes, *, what: str) -> M:
    """Parse signed payload bytes strictly into ``cls`` (JSON mode; duplicate keys refused)."""
    try:
        # The hardened parser first (size, depth, duplicate keys, NaN): pydantic's own
        # parser would keep the last of two equal keys.
        loads_strict(data)
        return cls.model_validate_json(data, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        pointer = "/" + "/".join(str(p) for p in err["loc"])
        raise SchemaError(f"{what}: {err['msg']}", location=pointer) from None
    except InvalidInput as exc:
        raise SchemaError(f"{what}: {exc.message}", location=exc.location) from None


def utc(value: dt.datetime) -> dt.datetime:
    """Normalise an aware time to UTC for the wire."""
    return value.astimezone(dt.UTC)
