"""The README's demo: the whole exchange as separate processes over mutual TLS."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pakn_sign.transport.config import load_node_file


@pytest.mark.slow
def test_demo_runs_the_whole_exchange(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pakn_sign", "demo", "--algorithm", "p256", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    assert "OK: the whole exchange verified" in text
    assert "personal     Trần Thị Bình" in text
    assert "organisation BỘ NÔNG NGHIỆP" in text
    assert "Result: TOTAL_PASSED" in text
    assert "state: ANSWERED" in text
    # Every hop was receipted: every outbox message of every node is acknowledged.
    for code in ("000.00.01.G22", "000.00.00.G22", "000.00.00.G10"):
        with sqlite3.connect(tmp_path / "nodes" / code / "node.db") as con:
            states = {s for (s,) in con.execute("SELECT state FROM outbox")}
            events = [
                json.loads(r)["event"] for (r,) in con.execute("SELECT record FROM audit_log")
            ]
        assert states == {"acknowledged"}, (code, states)
        assert "received.rejected" not in events
    # VPCP forwarded the citizen's petition unchanged (byte-identical at the ministry).
    petition = (tmp_path / "petition.xml").read_bytes()
    with sqlite3.connect(tmp_path / "nodes" / "000.00.00.G10" / "node.db") as con:
        ids = [m for (m,) in con.execute("SELECT message_id FROM inbox")]
    node = load_node_file(tmp_path / "000.00.00.G10.json").build()
    try:
        records = [node.store.inbox_by_id(m) for m in ids]
    finally:
        asyncio.run(node.aclose())
    forwarded = [p.read_bytes() for r in records if r for p in r.parts if p.name == "petition.xml"]
    assert forwarded == [petition]
