"""The ingestion benchmark stays runnable: a tiny run (its own Anvil) where every tool finds every event."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_scan_runs_small():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench" / "bench_scan.py"), "--events", "400", "--repeat", "1"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    table = [ln for ln in r.stdout.splitlines() if ln.startswith("| ") and not ln.startswith("| node")]
    assert table and table[0].startswith("| direct | defirisk")
    assert all("| 400 |" in ln for ln in table), table  # the benchmark exits non-zero when a tool misses events
    assert any(ln.startswith("| direct | raw eth_getLogs") for ln in table)
