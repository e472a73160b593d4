"""Installed the way users install Python tools: the wheel, built from this checkout, installed into a fresh venv
outside it (with a fresh user cache, so the devnet installs its pinned npm packages on its own), runs
`defirisk demo --json` and one `defirisk analyze` against a chain it starts itself."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.anvil
ROOT = Path(__file__).resolve().parents[2]

ANALYZE = """
import json, subprocess, sys
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import build_world
with Anvil() as node:
    w = build_world(Chain(node.url), ["uniswap"])
    w.write_address_book("book.json")
    r = subprocess.run([sys.argv[1], "analyze", w.account("lp_alice"), "--rpc-url", node.url, "--addresses",
                        "book.json", "--no-cache", "--json"], capture_output=True, text=True)
    sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); sys.exit(r.returncode)
"""


def _run(cmd: list[str], cwd: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd[:3]} exited {r.returncode}:\n{r.stderr[-3000:]}"
    return r


def test_the_wheel_runs_the_demo_and_an_analysis(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(wheels)], tmp_path, dict(os.environ))
    (wheel,) = wheels.glob("defirisk-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py, cli = env_dir / "bin" / "python", env_dir / "bin" / "defirisk"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DEFIRISK_NODE_MODULES", "DEFIRISK_ANVIL",
                                                            "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")  # nothing installed before: the devnet sets itself up
    _run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], tmp_path, env)
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = _run([str(py), "-c", "import defirisk, sys; print(defirisk.__file__)"], work, env)
    assert str(env_dir) in r.stdout  # the installed copy, not this checkout
    demo = _run([str(cli), "demo", "--json", "--plots", ""], work, env)
    docs = json.loads(demo.stdout)
    html = work / "defirisk-demo.html"  # the HTML report (plotly's bundle from the installed dependency)
    assert f"Report: {html}" in demo.stderr.replace("\n", "") and html.stat().st_size > 1_000_000
    kinds = [d["kind"] for d in docs]
    assert "wallet" in kinds and "pool" in kinds and "book" in kinds
    assert (tmp_path / "user-cache" / "defirisk" / "npm").is_dir()
    doc = json.loads(_run([str(py), "-c", ANALYZE, str(cli)], work, env).stdout)
    assert doc["kind"] == "wallet" and doc["positions"] and doc["rpc_round_trips"] > 0
