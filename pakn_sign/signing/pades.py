"""PAdES baseline signatures on the agency's PDF answer letter (pyHanko; ETSI EN 319 142-1).

The profile (docs/pdf-signatures.md):

- ``role="personal"``: the competent official's approval signature, in a field named
  ``pakn-personal-<n>``; visible with name, position, agency and time (UTC+7).
- ``role="organisation"``: the records clerk's seal signature (Decree 30/2020/NĐ-CP
  Art. 32: only on a document that already carries the personal signature). Its field,
  ``pakn-organisation-<n>``, locks the whole document: a ``/Lock`` dictionary with
  ``/Action /All`` and ``/P 1`` (ISO 32000-2 §12.7.5.5, §12.8.2.2), which is how a
  *later* signature imposes DocMDP, because a certification signature must be the first
  in a document (ISO 32000-1 §12.8.2.2). On a document with no signature yet (a copy,
  Art. 33(2)) it is a true certification signature with DocMDP P=1.
- Levels: B-B; B-T (RFC 3161 signature timestamp); B-LT (chain and revocation data in the
  DSS); B-LTA (B-LT plus a document timestamp).

The field name and reason lie inside the signed revision, so the role is signed too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..errors import ConfigurationError, InvalidInput, PaknSignError, SigningError
from .algorithms import SignatureAlgorithm
from .pades_appearance import SignatureAppearance, stamp_style
from .pades_bridge import PyHankoSignerBridge, as_timestamper, reserve_bytes
from .signers import Signer

if TYPE_CHECKING:
    from ..trust.policy import TrustPolicy

__all__ = [
    "MAX_PDF_BYTES",
    "PADES_LEVELS",
    "PadesLevel",
    "SignatureAppearance",
    "check_pdf_input",
    "field_role",
    "sign_pdf",
]

T = TypeVar("T")
PadesLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]
PADES_LEVELS: tuple[str, ...] = ("B-B", "B-T", "B-LT", "B-LTA")
MAX_PDF_BYTES = 64 * 1024 * 1024
"""Larger PDFs are refused before parsing (DESIGN.md §8: limits before memory)."""
FIELD_PREFIX = "pakn-"
_REASONS = {
    "personal": "Phê duyệt nội dung văn bản (chữ ký cá nhân)",
    "organisation": "Ban hành văn bản (chữ ký số của cơ quan, tổ chức)",
}


def field_role(field_name: object) -> str | None:
    """The role a ``pakn-<role>-<n>`` field name declares, or ``None`` for other fields."""
    if not isinstance(field_name, str):
        return None  # pyHanko hands back bytes for a /T it cannot decode as text
    for role in ("personal", "organisation"):
        if field_name.startswith(f"{FIELD_PREFIX}{role}-"):
            return role
    return None


def check_pdf_input(data: bytes) -> None:
    """Refuse oversized or non-PDF input before any parser sees it (DESIGN.md §8)."""
    if len(data) > MAX_PDF_BYTES:
        raise InvalidInput(f"PDF larger than {MAX_PDF_BYTES} bytes")
    if not bytes(data[:1024]).lstrip().startswith(b"%PDF-"):
        raise InvalidInput("input is not a PDF (no %PDF- header)")


def _reader_writer(pdf_bytes: bytes) -> Any:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError

    check_pdf_input(pdf_bytes)
    try:
        return IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"cannot read the PDF: {exc}") from exc


def _existing_roles(writer: Any) -> list[tuple[str, str | None]]:
    out = []
    for sig in writer.prev.embedded_regular_signatures:
        out.append((sig.field_name, field_role(sig.field_name)))
    return out


def _plan(role: str, existing: list[tuple[str, str | None]]) -> tuple[str, bool]:
    """Field name and whether to certify, enforcing Decree 30/2020 Art. 32's order."""
    roles = [r for _, r in existing]
    if "organisation" in roles:
        raise SigningError(
            "the document already carries the organisation signature, which locks it "
            "(Decree 30/2020/NĐ-CP Art. 32: the organisation signs last)"
        )
    names = {n for n, _ in existing}
    n = 1 + sum(1 for r in roles if r == role)
    name = f"{FIELD_PREFIX}{role}-{n}"
    while name in names:
        n += 1
        name = f"{FIELD_PREFIX}{role}-{n}"
    certify = role == "organisation" and not existing
    return name, certify


def _page_index(writer: Any, page: int) -> int:
    count = int(writer.root["/Pages"]["/Count"])
    idx = count + page if page < 0 else page
    if not 0 <= idx < count:
        raise ConfigurationError(f"page {page} does not exist (the PDF has {count} pages)")
    return idx


def sign_pdf(
    pdf_bytes: bytes,
    signer: Signer,
    *,
    role: Literal["personal", "organisation"],
    level: PadesLevel = "B-B",
    tsa: object | None = None,
    appearance: SignatureAppearance | None = None,
    policy: TrustPolicy | None = None,
    at: dt.datetime | None = None,
    algorithm: SignatureAlgorithm | None = None,
    location: str | None = None,
) -> bytes:
    """Add a PAdES signature as an incremental update and return the new PDF bytes.

    Args:
        pdf_bytes: the letter (unsigned, or already carrying the personal signature).
        signer: any :class:`~pakn_sign.signing.signers.Signer`; its key stays with it.
        role: ``personal`` (first) or ``organisation`` (last; locks the document).
        level: ``B-B``, ``B-T``, ``B-LT`` or ``B-LTA``.
        tsa: for B-T and above: a TSA URL, an ``HttpTimestampAuthority``/
            ``LocalTimestampAuthority``, or a pyHanko ``TimeStamper``.
        appearance: the visible signature; ``None`` signs invisibly.
        policy: for B-LT/B-LTA: the trust policy whose anchors, intermediates, CRLs and
            OCSP responses are embedded (fetching only if the policy allows it).
        at: the signing time written to ``/M`` and shown; ``None`` is now.
        algorithm: the signature algorithm; default the signer's.
        location: ``/Location`` (e.g. "Hà Nội").

    Raises:
        InvalidInput: not a PDF, too large, unreadable.
        ConfigurationError: bad level/role/page, B-T without TSA, B-LT without policy.
        SigningError: order violation, signer or TSA failure.
    """
    from ..clock import SystemClock, ensure_aware

    when = SystemClock().now() if at is None else ensure_aware(at, name="at")
    if role not in ("personal", "organisation"):
        raise ConfigurationError(f"role must be 'personal' or 'organisation', got {role!r}")
    if level not in PADES_LEVELS:
        raise ConfigurationError(f"level must be one of {PADES_LEVELS}, got {level!r}")
    if level != "B-B" and tsa is None:
        raise ConfigurationError(f"PAdES-{level} needs a timestamp authority (tsa=)")
    if level in ("B-LT", "B-LTA") and policy is None:
        raise ConfigurationError(f"PAdES-{level} needs a trust policy to embed validation data")
    bridge = PyHankoSignerBridge(signer, algorithm)
    writer = _reader_writer(pdf_bytes)
    name, certify = _plan(role, _existing_roles(writer))
    try:
        pdf_signer, style_params = _pdf_signer(
            writer, bridge, role, level, name, certify, tsa, appearance, policy, when, location
        )
        reserved = reserve_bytes(signer, timestamped=level != "B-B")
        for attempt in range(3):
            try:
                return _run(_sign(pdf_signer, writer, reserved, when, style_params))
            except Exception as exc:
                if "larger than expected" not in str(exc) or attempt == 2:
                    raise
            reserved *= 2  # a larger TSA chain than estimated: reserve more, sign again
            writer = _reader_writer(pdf_bytes)
    except PaknSignError:
        raise
    except Exception as exc:  # pyHanko, asn1crypto, certvalidator: wrapped at the boundary
        cause = exc.__cause__ if isinstance(exc.__cause__, PaknSignError) else None
        if cause is not None:
            raise cause from exc
        raise SigningError(f"PAdES signing failed: {type(exc).__name__}: {exc}") from exc
    raise SigningError("PAdES signing failed: signature container did not fit")  # unreachable


def _pdf_signer(
    writer: Any,
    bridge: PyHankoSignerBridge,
    role: str,
    level: str,
    name: str,
    certify: bool,
    tsa: object | None,
    appearance: SignatureAppearance | None,
    policy: TrustPolicy | None,
    when: dt.datetime,
    location: str | None,
) -> tuple[Any, dict[str, str] | None]:
    from pyhanko.sign.fields import (
        FieldMDPAction,
        FieldMDPSpec,
        MDPPerm,
        SigFieldSpec,
        SigSeedSubFilter,
    )
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

    lock = role == "organisation" and not certify
    box = None
    page = 0
    style = None
    if appearance is not None:
        page = _page_index(writer, appearance.page)
        box = appearance.box_for(role)
        style = stamp_style(appearance, role=role, at=when)
    spec = SigFieldSpec(
        sig_field_name=name,
        on_page=page,
        box=box,
        field_mdp_spec=FieldMDPSpec(FieldMDPAction.ALL) if lock else None,
        doc_mdp_update_value=MDPPerm.NO_CHANGES if lock else None,
    )
    vc = None
    if level in ("B-LT", "B-LTA"):
        from ..trust.paths import build_validation_context

        assert policy is not None
        vc = build_validation_context(
            policy, moment=when, candidates=list(bridge.pakn_signer.certificate_chain[1:])
        )
    meta = PdfSignatureMetadata(
        field_name=name,
        md_algorithm=bridge.md_algorithm,
        subfilter=SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        reason=_REASONS[role],
        location=location,
        embed_validation_info=vc is not None,
        use_pades_lta=level == "B-LTA",
        validation_context=vc,
        # RFC 5280 §4.2.1.3: either bit serves document signing (one match suffices).
        signer_key_usage={"digital_signature", "non_repudiation"},
    )
    signer = PdfSigner(
        meta,
        signer=bridge,
        timestamper=as_timestamper(tsa) if level != "B-B" else None,
        stamp_style=style,
        new_field_spec=spec,
    )
    return signer, None


async def _sign(
    pdf_signer: Any, writer: Any, reserved: int, when: dt.datetime, params: Any
) -> bytes:
    # pyHanko's async_sign_pdf, with our clock for /M instead of datetime.now(): one
    # signature, no dry run (bytes_reserved is given).
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    session = pdf_signer.init_signing_session(writer)
    session.system_time = when
    validation_info = await session.perform_presign_validation(writer)
    tbs = session.prepare_tbs_document(
        validation_info=validation_info, bytes_reserved=reserved, appearance_text_params=params
    )
    prepared, output = tbs.digest_tbs_document(in_place=False, output=None)
    post = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=when,
            adobe_revinfo_attr=None
            if validation_info is None
            else validation_info.adobe_revinfo_attr,
        ),
    )
    await post.post_signature_processing(output)
    output.seek(0)
    return bytes(output.read())


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run pyHanko's async API from sync code (a private thread inside a running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
