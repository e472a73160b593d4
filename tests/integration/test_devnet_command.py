"""`defirisk devnet` run as a user runs it: it prints the URL and the book, serves `analyze`, stops on Ctrl-C / SIGTERM."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEFIRISK_RPC_URL", "ETH_RPC_URL")}
    p = subprocess.Popen([sys.executable, "-m", "defirisk.cli", "devnet", "--addresses", str(tmp_path / "book.json"), *args],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)  # its own process group, as in a terminal
    lines: list[str] = []
    deadline = time.monotonic() + 240
    assert p.stdout is not None
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            return p, lines
    p.kill()
    pytest.fail(f"devnet never became ready: {lines} {p.stderr.read() if p.stderr else ''}")


def _port_open(url: str) -> bool:
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_devnet_serves_analyze_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    p, lines = _start(tmp_path)
    try:
        text = "\n".join(lines)
        url = re.search(r"^RPC URL:\s+(http://127\.0\.0\.1:\d+)$", text, re.M)
        book = re.search(r"^Address book:\s+(\S+)$", text, re.M)
        config = re.search(r"^Scan config:\s+(\S+)$", text, re.M)
        assert url and book and config, text
        assert Path(book.group(1)) == tmp_path / "book.json"
        chain_book = json.loads(Path(book.group(1)).read_text())["31337"]
        assert chain_book["aave_v3"] and chain_book["uniswap_v3"]
        assert "rpc_url_env" in Path(config.group(1)).read_text()
        for cmd in ("defirisk analyze", "defirisk risk", "defirisk scan --config", "research_"):
            assert cmd in text, cmd
        wallet = re.search(r"^  defirisk analyze (0x[0-9a-fA-F]{40}) --addresses", text, re.M)
        assert wallet
        r = subprocess.run([sys.executable, "-m", "defirisk.cli", "analyze", wallet.group(1), "--rpc-url", url.group(1),
                            "--addresses", book.group(1), "--no-cache", "--json"],
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["chain_id"] == 31337 and doc["positions"], doc.keys()
        if sig == signal.SIGINT:  # Ctrl-C in a terminal: SIGINT to the whole foreground process group
            os.killpg(p.pid, signal.SIGINT)
        else:
            p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert "Devnet stopped." in out
    assert "Traceback" not in err
    assert not _port_open(url.group(1)), "Anvil still answers after the devnet stopped"


def test_devnet_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "defirisk.cli", "devnet", "--port", str(port),
                            "--addresses", str(tmp_path / "b.json")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert f"port {port} is in use" in r.stderr and "Traceback" not in r.stderr
