"""XAdES B-B over a document model, written as text: no tree, no canonicalisation pass.

A model signed at level B-B is the common case and needs no tree at all (DESIGN.md §9):

* the document's Exclusive C14N form comes straight from the codec
  (:func:`~pakn_sign.codec.xmlcodec.to_canonical_xml`), and its digest is taken over it;
* SignedProperties and SignedInfo are written in their Exclusive C14N form from templates,
  so the octets digested and signed are the text itself;
* the output embeds those same strings (redundant namespace declarations removed), so what
  a verifier canonicalises is exactly what was digested and signed.

Same layout, identifiers, algorithms and checks as ``add_xades_signature`` over
``build_signature`` (``sig-1``, ``#pakn-doc`` and the SignedProperties, Exclusive C14N,
SHA-256, KeyInfo with the whole chain); ``tests/test_xml_fastpaths.py`` holds the two
byte-equal after canonicalisation. Levels B-T and B-LT, and bytes input, use the tree path.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from ..codec.xmlcodec import to_canonical_bytes
from ..errors import ConfigurationError, PaknSignError, SigningError
from .algorithms import DigestAlgorithm, PublicKey, SignatureAlgorithm
from .c14n import EXC_C14N
from .signers import Signer, check_new_signature_algorithm
from .xades_order import SignerRole
from .xades_props import (
    DS_NS,
    SIGNED_PROPERTIES_TYPE,
    XADES_NS,
    certificate_facts,
    qualifying_properties_text,
)

__all__ = ["sign_model_b_b"]

PAKN_NS = "urn:pakn-sign:pakn:1"
_SIG_ID = "sig-1"
"""A model carries no signature yet: its first one is always ``sig-1``."""
_DOC_ID = "pakn-doc"
_SHA256 = DigestAlgorithm.SHA256
_DS_DECL = f' xmlns:ds="{DS_NS}"'
_XADES_DECL = f' xmlns:xades="{XADES_NS}"'
_PAKN_DECL = f' xmlns:pakn="{PAKN_NS}"'
_HEAD = f"<?xml version='1.0' encoding='UTF-8'?>\n<pakn:Signed{_PAKN_DECL}>".encode()
_PAKN_DECL_B = _PAKN_DECL.encode()
_SIG_START = f'<ds:Signature{_DS_DECL} Id="{_SIG_ID}">'.encode()
_END = b"</xades:QualifyingProperties></ds:Object></ds:Signature></pakn:Signed>"

# SignedInfo in Exclusive C14N form (attributes in C14N order: Id, Type, URI).
_REF_TAIL = (
    "<ds:Transforms>"
    f'<ds:Transform Algorithm="{EXC_C14N}"></ds:Transform>'
    "</ds:Transforms>"
    f'<ds:DigestMethod Algorithm="{_SHA256.value}"></ds:DigestMethod>'
)
_SIGNED_INFO = (
    f"<ds:SignedInfo{_DS_DECL}>"
    f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"></ds:CanonicalizationMethod>'
    '<ds:SignatureMethod Algorithm="{alg}"></ds:SignatureMethod>'
    f'<ds:Reference Id="{_SIG_ID}-ref-doc" URI="#{_DOC_ID}">{_REF_TAIL}'
    "<ds:DigestValue>{doc_digest}</ds:DigestValue></ds:Reference>"
    f'<ds:Reference Type="{SIGNED_PROPERTIES_TYPE}" URI="#{_SIG_ID}-signedprops">{_REF_TAIL}'
    "<ds:DigestValue>{sp_digest}</ds:DigestValue></ds:Reference>"
    "</ds:SignedInfo>"
)
_SIGNED_INFO_OUT = _SIGNED_INFO.replace(_DS_DECL, "", 1)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64b(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False)


def _c14n_text(value: str) -> str:
    # C14N 1.0 §2.3 text escaping.
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
    )


_MARK = "PAKNSLOT"


@functools.cache
def _signed_properties_templates() -> tuple[str, str]:
    """SignedProperties as format strings: (Exclusive C14N form, form inside the output).

    Derived once from the tree path's own template (markers in the slots, parsed,
    canonicalised, markers turned back into fields), so the two cannot drift apart.
    """
    slots = ("time", "digest", "serial", "role")
    qp = etree.fromstring(
        qualifying_properties_text(
            signature_id=_SIG_ID,
            signed_properties_id=f"{_SIG_ID}-signedprops",
            signing_time=_MARK + "time",
            cert_digest_algorithm=_SHA256,
            cert_digest=_MARK + "digest",
            issuer_serial=_MARK + "serial",
            role=_MARK + "role",
            document_reference_id=f"{_SIG_ID}-ref-doc",
            mime_type="application/xml",
        )
    )
    text = etree.tostring(qp[0], method="c14n", exclusive=True).decode()
    text = text.replace("{", "{{").replace("}", "}}")
    for slot in slots:
        if text.count(_MARK + slot) != 1:  # pragma: no cover - a template change
            raise AssertionError(f"SignedProperties template slot {slot} not found once")
        text = text.replace(_MARK + slot, "{" + slot + "}")
    return text, text.replace(_XADES_DECL, "", 1).replace(_DS_DECL, "")


@functools.lru_cache(maxsize=64)
def _certificate_text(chain: tuple[x509.Certificate, ...]) -> tuple[str, str, str]:
    """(KeyInfo, SigningCertificateV2 digest, IssuerSerialV2) for a chain, computed once."""
    ders = [c.public_bytes(serialization.Encoding.DER) for c in chain]
    key_info = (
        "<ds:KeyInfo><ds:X509Data>"
        + "".join(f"<ds:X509Certificate>{_b64(d)}</ds:X509Certificate>" for d in ders)
        + "</ds:X509Data></ds:KeyInfo>"
    )
    digest, serial = certificate_facts(chain[0], _SHA256)
    return key_info, digest, serial


class _Frame(NamedTuple):
    """Everything of one signature fixed by (chain, algorithm, role), split at the slots."""

    sp_c14n: tuple[bytes, bytes]
    after_value: tuple[bytes, bytes]
    """KeyInfo up to the signing time in SignedProperties, and the rest of the output."""
    signed_info: tuple[bytes, bytes, bytes]
    signed_info_out: tuple[bytes, bytes, bytes]
    """``<ds:Signature>`` and SignedInfo as written inside the container."""


_FRAMES: dict[tuple[int, SignatureAlgorithm, SignerRole], tuple[Any, _Frame]] = {}


def _frame(chain_seq: Any, alg: SignatureAlgorithm, role: SignerRole) -> _Frame:
    """``_build_frame``, memoised on the identity of a signer's (immutable) chain tuple.

    Hashing the chain for ``_certificate_text``'s cache re-reads every certificate (~5 us);
    a signer hands back the same tuple each time. Only tuples are memoised (a list could
    change under us); the entry holds the tuple, so its id is not reused while it lives. A
    refusal (no certificate, SHA-1, RSA < 2048) raises before anything is stored.
    """
    if type(chain_seq) is tuple:
        key = (id(chain_seq), alg, role)
        hit = _FRAMES.get(key)
        if hit is not None and hit[0] is chain_seq:
            return hit[1]
    frame = _build_frame(tuple(chain_seq), alg, role)
    if type(chain_seq) is tuple:
        if len(_FRAMES) >= 256:
            _FRAMES.clear()
        _FRAMES[key] = (chain_seq, frame)
    return frame


def _split(text: str, *marks: str) -> tuple[str, ...]:
    parts: list[str] = []
    for mark in marks:
        head, found, text = text.partition(mark)
        if not found:  # pragma: no cover - a template change
            raise AssertionError(f"template slot {mark} not found")
        parts.append(head)
    return (*parts, text)


def _build_frame(
    chain: tuple[x509.Certificate, ...], alg: SignatureAlgorithm, role: SignerRole
) -> _Frame:
    if not chain:
        raise ConfigurationError("the signer has no certificate")
    leaf_key = chain[0].public_key()
    if not isinstance(leaf_key, PublicKey):
        raise ConfigurationError(f"unsupported signer key type {type(leaf_key).__name__}")
    check_new_signature_algorithm(alg, leaf_key)
    key_info, cert_digest, issuer_serial = _certificate_text(chain)
    sp_c14n, sp_out = _signed_properties_templates()
    values = {
        "time": _MARK,
        "role": _c14n_text(role.value),
        "digest": cert_digest,
        "serial": issuer_serial,
    }
    slots = {"alg": alg.value, "doc_digest": _MARK + "doc", "sp_digest": _MARK + "sp"}
    sp_c = _split(sp_c14n.format(**values), _MARK)
    sp_o = _split(sp_out.format(**values), _MARK)
    si = _split(_SIGNED_INFO.format(**slots), _MARK + "doc", _MARK + "sp")
    si_o = _split(_SIGNED_INFO_OUT.format(**slots), _MARK + "doc", _MARK + "sp")
    tail = (
        f'{key_info}<ds:Object><xades:QualifyingProperties{_XADES_DECL} Target="#{_SIG_ID}">'
        + sp_o[0]
    )
    return _Frame(
        (sp_c[0].encode(), sp_c[1].encode()),
        (tail.encode(), sp_o[1].encode() + _END),
        (si[0].encode(), si[1].encode(), si[2].encode()),
        (_SIG_START + si_o[0].encode(), si_o[1].encode(), si_o[2].encode()),
    )


def sign_model_b_b(
    document: Any, signer: Signer, *, role: SignerRole, signing_time: dt.datetime
) -> bytes:
    """The ``<pakn:Signed>`` bytes of ``document`` with one XAdES B-B signature (``sig-1``).

    Raises:
        ConfigurationError: no certificate, unsupported key, SHA-1 or RSA < 2048; not a
            document model.
        InvalidInput: text XML 1.0 cannot carry.
        SigningError: the signer failed.
    """
    alg = signer.default_algorithm
    frame = _frame(signer.certificate_chain, alg, role)
    doc = to_canonical_bytes(document, element_id=_DOC_ID)
    u = signing_time.astimezone(dt.UTC)
    when = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"
    when_b = when.encode()
    sp_c = frame.sp_c14n
    doc_digest = _b64b(hashlib.sha256(doc).digest())
    sp_digest = _b64b(hashlib.sha256(sp_c[0] + when_b + sp_c[1]).digest())
    si = frame.signed_info
    try:
        value = signer.sign_raw(si[0] + doc_digest + si[1] + sp_digest + si[2], alg)
    except PaknSignError:
        raise
    except Exception as exc:  # a PKCS#11 or remote backend: wrap at the boundary
        raise SigningError(f"the signer failed: {type(exc).__name__}: {exc}") from exc
    # Inside the container the pakn, ds and xades prefixes are declared once, above. The
    # document's bytes are reused as they were digested; everything else is ASCII.
    head = doc.index(b">")
    si_o, after = frame.signed_info_out, frame.after_value
    return b"".join(
        (_HEAD, doc[:head].replace(_PAKN_DECL_B, b"", 1), doc[head:],
         si_o[0], doc_digest, si_o[1], sp_digest, si_o[2],
         b"<ds:SignatureValue>", _b64b(value), b"</ds:SignatureValue>",
         after[0], when_b, after[1])
    )  # fmt: skip
