"""Node configuration files (JSON) for ``pakn-sign serve/send/status/audit``.

```json
{"agency_code": "000.00.00.G10", "data_dir": "nodes/g10",
 "signer": {"p12": "pki/agency-G10.p12", "password_env": "PAKN_P12_PASSWORD"},
 "directory": "directory.jws", "directory_issuers": ["pki/agency-G22.pem"],
 "tls": {"cert": "...client.pem", "key": "...key.pem", "server_cert": "...", "server_key": "..."},
 "host": "127.0.0.1", "port": 8443, "role": "agency"}
```
Relative paths are resolved against the file's directory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from ..clock import Clock, SystemClock
from ..errors import ConfigurationError
from ..signing.signer_loader import load_signer
from .backoff import RetryPolicy
from .directory import Directory
from .faults import FaultInjector
from .node import Node, NodeConfig, TLSFiles
from .sealing import cert_sha256

__all__ = ["NodeFile", "load_node_file"]


@dataclass(frozen=True)
class NodeFile:
    """A parsed node configuration file."""

    path: Path
    raw: dict[str, Any]
    host: str
    port: int
    role: str

    def resolve(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (self.path.parent / p)

    def issuer_pins(self) -> frozenset[str]:
        pins = set()
        for item in self.raw.get("directory_issuers", []):
            try:
                for cert in x509.load_pem_x509_certificates(self.resolve(item).read_bytes()):
                    pins.add(cert_sha256(cert))
            except (OSError, ValueError) as exc:
                raise ConfigurationError(f"directory issuer {item}: {exc}") from exc
        return frozenset(pins)

    def build(self, *, clock: Clock | None = None, faults: FaultInjector | None = None) -> Node:
        """Open the node: keys, directory (verified now), store and spool."""
        clock = clock or SystemClock()
        s = self.raw.get("signer", {})
        password = os.environ.get(s["password_env"]) if s.get("password_env") else s.get("password")
        signer = load_signer(
            p12=self._opt(s.get("p12")),
            password=password,
            key=self._opt(s.get("key")),
            cert=self._opt(s.get("cert")),
            chain=self._opt(s.get("chain")),
            pkcs11=s.get("pkcs11"),
        )
        directory = Directory(self.issuer_pins())
        try:
            directory.update(self.resolve(self.raw["directory"]).read_bytes(), now=clock.now())
        except OSError as exc:
            raise ConfigurationError(f"cannot read directory: {exc}") from exc
        t = self.raw.get("tls")
        tls = None
        if t:
            tls = TLSFiles(
                self.resolve(t["cert"]),
                self.resolve(t["key"]),
                self._opt(t.get("server_cert")),
                self._opt(t.get("server_key")),
            )
        return Node(
            NodeConfig(
                agency_code=self.raw["agency_code"],
                data_dir=self.resolve(self.raw["data_dir"]),
                signer=signer,
                directory=directory,
                tls=tls,
                clock=clock,
                faults=faults or FaultInjector(),
                pull_from=tuple(self.raw.get("pull_from", ())),
                retry=self.retry_policy(),
                handler_lease=dt.timedelta(seconds=float(self.raw.get("handler_lease", 60))),
            )
        )

    def retry_policy(self) -> RetryPolicy:
        """``"retry": {"base": s, "cap": s, "max_age": s, "max_attempts": n,
        "attempt_timeout": s}`` (seconds; every key optional, defaults of ``RetryPolicy``)."""
        r = self.raw.get("retry", {})
        unknown = set(r) - {"base", "cap", "max_age", "max_attempts", "attempt_timeout"}
        if unknown:
            raise ConfigurationError(f"{self.path}: unknown retry settings {sorted(unknown)}")
        d = RetryPolicy()
        secs = {k: dt.timedelta(seconds=float(r[k])) for k in r if k != "max_attempts"}
        return RetryPolicy(
            base=secs.get("base", d.base),
            cap=secs.get("cap", d.cap),
            max_age=secs.get("max_age", d.max_age),
            max_attempts=int(r.get("max_attempts", d.max_attempts)),
            attempt_timeout=secs.get("attempt_timeout", d.attempt_timeout),
        )

    def _opt(self, value: str | None) -> Path | None:
        return None if value is None else self.resolve(value)


def load_node_file(path: str | Path) -> NodeFile:
    """Read and check a node configuration file."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read node config {p}: {exc}") from exc
    for key in ("agency_code", "data_dir", "signer", "directory", "directory_issuers"):
        if key not in raw:
            raise ConfigurationError(f"node config {p} lacks {key!r}")
    return NodeFile(
        p, raw, raw.get("host", "127.0.0.1"), int(raw.get("port", 8443)), raw.get("role", "agency")
    )
