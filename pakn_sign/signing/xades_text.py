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
import datetime as dt
import functools
import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from ..codec.xmlcodec import to_canonical_xml
from ..errors import ConfigurationError, PaknSignError, SigningError
from .algorithms import DigestAlgorithm, PublicKey
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
    chain = tuple(signer.certificate_chain)
    if not chain:
        raise ConfigurationError("the signer has no certificate")
    alg = signer.default_algorithm
    leaf_key = chain[0].public_key()
    if not isinstance(leaf_key, PublicKey):
        raise ConfigurationError(f"unsupported signer key type {type(leaf_key).__name__}")
    check_new_signature_algorithm(alg, leaf_key)
    doc = to_canonical_xml(document, element_id=_DOC_ID).encode()
    key_info, cert_digest, issuer_serial = _certificate_text(chain)
    when = signing_time.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    sp_c14n, sp_out = _signed_properties_templates()
    values = {
        "time": when + "Z",
        "role": _c14n_text(role.value),
        "digest": cert_digest,
        "serial": issuer_serial,
    }
    signed_props = sp_c14n.format(**values)
    digests = {
        "alg": alg.value,
        "doc_digest": _b64(hashlib.sha256(doc).digest()),
        "sp_digest": _b64(hashlib.sha256(signed_props.encode()).digest()),
    }
    signed_info = _SIGNED_INFO.format(**digests)
    try:
        value = signer.sign_raw(signed_info.encode(), alg)
    except PaknSignError:
        raise
    except Exception as exc:  # a PKCS#11 or remote backend: wrap at the boundary
        raise SigningError(f"the signer failed: {type(exc).__name__}: {exc}") from exc
    # Inside the container the pakn, ds and xades prefixes are declared once, above. The
    # document's bytes are reused as they were digested; everything else is ASCII.
    head = doc.index(b">")
    tail = "".join(
        (
            f'<ds:Signature{_DS_DECL} Id="{_SIG_ID}">',
            _SIGNED_INFO_OUT.format(**digests),
            f"<ds:SignatureValue>{_b64(value)}</ds:SignatureValue>",
            key_info,
            f'<ds:Object><xades:QualifyingProperties{_XADES_DECL} Target="#{_SIG_ID}">',
            sp_out.format(**values),
            "</xades:QualifyingProperties></ds:Object></ds:Signature></pakn:Signed>",
        )
    )
    return b"".join((_HEAD, doc[:head].replace(_PAKN_DECL_B, b"", 1), doc[head:], tail.encode()))
