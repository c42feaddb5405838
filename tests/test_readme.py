"""The README's Python quick start runs (with the test PKI standing in for real keys)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from xades_helpers import answer

ROOT = Path(__file__).resolve().parent.parent


def test_readme_quick_start_runs(test_pki: Any, tmp_path: Path, monkeypatch: Any) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", readme, re.S)
    assert block is not None, "README has no python quick start"
    code = block.group(1)
    # Stand-ins for the files and values a real integrator has.
    shutil.copy(test_pki.get("official-g10").p12_path, tmp_path / "official.p12")
    shutil.copy(test_pki.get("000.00.00.G10").p12_path, tmp_path / "agency-seal.p12")
    shutil.copy(test_pki.root.pem_path, tmp_path / "neac-root.pem")
    shutil.copy(test_pki.root.pem_path, tmp_path / "government-ca-root.pem")
    shutil.copy(test_pki.intermediate.pem_path, tmp_path / "government-ca.pem")
    code = code.replace('password=b"..."', f"password={test_pki.password.encode()!r}")
    code = code.replace("answer: Answer = ...", "answer: Answer = EXAMPLE_ANSWER")
    # The quick start checks revocation (HARD_FAIL); give it the test PKI's CRLs.
    code = code.replace(
        'intermediates=["government-ca.pem"],', 'intermediates=["government-ca.pem"], crls=CRLS,'
    )
    assert "..." not in code, "an unreplaced placeholder remains"
    monkeypatch.chdir(tmp_path)
    crls = [str(test_pki.directory / "crl" / n) for n in ("root.crl", "intermediate.crl")]
    scope: dict[str, Any] = {"EXAMPLE_ANSWER": answer(), "CRLS": crls, "print": lambda *a: None}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["result"].document == answer()
    assert [s.role for s in scope["result"].signatures] == ["personal", "organisation"]
    assert "TOTAL_PASSED" in (tmp_path / "report.html").read_text(encoding="utf-8")
