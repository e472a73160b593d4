"""The report as a user sees it: `defirisk demo` run as a command at 80 columns (through a pipe with COLUMNS=80, and
in a real pseudo-terminal of 80x24), `analyze --plot` naming every file it writes, a book without stablecoins."""
from __future__ import annotations

import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from defirisk.cli import main
from defirisk.devnet.world import World
from tests.unit.test_report_text import split_numbers

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


def _defirisk() -> str:
    exe = Path(sys.executable).with_name("defirisk")
    return str(exe) if exe.exists() else (shutil.which("defirisk") or pytest.skip("the defirisk command is not installed"))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    env.update(extra)
    return env


def _check_text(out: str, cwd: Path) -> None:
    lines = out.splitlines()
    too_long = [ln for ln in lines if len(ln) > 80]
    assert not too_long, too_long
    assert not split_numbers(out), split_numbers(out)
    assert not re.search(r"\d\.\d+e[+-]\d", out), "scientific notation in the report"
    for title in ("LP positions", "Options-vault positions", "Wallet totals", "Net exposure per token", "Aave v3",
                  "Borrowers, nearest to liquidation first", "Ribbon ETH Theta Vault"):
        assert title in out
    charts = re.findall(r"^Chart: (\S+\.png)$", out, flags=re.M)
    assert len(charts) >= 6  # the wallet's second LP page and its vault chart, the Aave borrower's health factor
    for c in charts:
        assert (cwd / c).read_bytes()[:4] == b"\x89PNG", c
    assert any(c.endswith("-2.png") for c in charts) and any(c.endswith("-vaults.png") for c in charts)


def test_demo_through_a_pipe_at_80_columns(tmp_path):
    r = subprocess.run([_defirisk(), "demo"], cwd=tmp_path, env=_env(COLUMNS="80"), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    _check_text(r.stdout, tmp_path)
    v4 = r.stdout.split("demo Uniswap v4 wallet", 1)[1]  # the v4 wallet's section names its native-ETH pool
    assert "ETH/USDC" in v4.split("demo", 1)[0]
    morpho = r.stdout.split("demo Morpho Blue borrower", 1)[1].split("demo", 1)[0]  # two markets, one lending view
    assert "Morpho Blue WETH/USDC 86.0% LLTV" in morpho and "Morpho Blue WBTC/USDC 91.5% LLTV" in morpho
    market = r.stdout.split("demo Morpho Blue market", 1)[1].split("demo", 1)[0]
    assert "Morpho Blue market WETH/USDC" in market and "Borrowers, nearest to liquidation first" in market


def _pty_run(argv: list[str], cwd: Path, rows: int, cols: int, timeout: float = 300) -> tuple[int, str]:
    """Run `argv` on a new pseudo-terminal of `rows` x `cols`; (exit code, what the terminal received)."""
    import fcntl
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(argv, cwd=cwd, env=_env(TERM="xterm-256color"), stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _screen_lines(raw: str) -> str:
    """The lines a terminal would keep: escape codes dropped, and of a line redrawn after a carriage return, its last
    drawing."""
    text = ANSI.sub("", raw).replace("\r\n", "\n")
    return "\n".join(ln.split("\r")[-1] for ln in text.split("\n"))


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="needs a POSIX pseudo-terminal")
def test_demo_in_an_80x24_terminal(tmp_path):
    code, raw = _pty_run([_defirisk(), "demo"], tmp_path, 24, 80)
    assert code == 0, raw[-2000:]
    assert "\x1b[" in raw  # a terminal: rich drew colours and the progress line
    _check_text(_screen_lines(raw), tmp_path)


def _alice_run(capsys, monkeypatch, world: World, book: Path, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("COLUMNS", "80")
    code = main(["analyze", world.account("lp_alice"), "--rpc-url", world.chain.url, "--addresses", str(book),
                 "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_plot_prints_the_path_of_every_file(capsys, monkeypatch, world: World, book_file, tmp_path):
    png = tmp_path / "alice.png"
    code, out, err = _alice_run(capsys, monkeypatch, world, book_file, "--plot", str(png))
    assert code == 0, err
    written = re.findall(r"^wrote (\S+)$", err, flags=re.M)
    assert written[0] == str(png)
    assert {Path(w).name for w in written} >= {"alice.png", "alice-2.png", "alice-vaults.png"}  # 8 pools: 2 pages
    assert sorted(str(p) for p in tmp_path.glob("*.png")) == sorted(written)  # every file written is named
    assert "LP positions" in out


def test_aave_only_wallet_gets_a_health_factor_chart(capsys, monkeypatch, world: World, book_file, tmp_path):
    png = tmp_path / "loan.png"
    monkeypatch.setenv("COLUMNS", "80")
    who = world.facts["aave_v3"]["borrowers"]["aave_close"]
    code = main(["analyze", who, "--rpc-url", world.chain.url, "--addresses", str(book_file), "--no-cache", "--plot", str(png)])
    out, err = capsys.readouterr()
    assert code == 0 and f"wrote {png}" in err
    assert png.stat().st_size > 30_000  # two panels of curves, not an empty figure
    assert "health factor 1.0" in out and "liquidated at $" in out


def test_book_without_stablecoins_prints_unpriced_not_zero(capsys, monkeypatch, world: World, book_file, tmp_path):
    book = json.loads(Path(book_file).read_text())
    for chain in book.values():
        if isinstance(chain, dict) and "stablecoins" in chain:
            chain["stablecoins"] = []
    bare = tmp_path / "no-stables.json"
    bare.write_text(json.dumps(book))
    code, out, err = _alice_run(capsys, monkeypatch, world, bare)
    assert code == 0, err
    assert "unpriced" in out and "warning: no USD price for" in out
    totals = out.split("Wallet totals")[1]
    assert "$0.00" not in totals.split("Volatility")[0]
    assert "Total LP value: $0.00" not in out
