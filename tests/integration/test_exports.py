"""`--format csv|parquet|json -o` on analyze and risk, and `defirisk export TABLE`: the files hold the document's
tables with the JSON's column names, exact integers exact (DECIMAL(38,0) in Parquet, decimal text in CSV), and bad
paths or names are one-line errors."""
from __future__ import annotations

import csv
import json
from decimal import Decimal

import duckdb
import pytest

from defirisk.devnet.book_world import add_market_maker

from .cli_helpers import run_cli as run

pytestmark = pytest.mark.anvil


def _parquet(path) -> tuple[list[tuple], list[dict]]:
    con = duckdb.connect()
    try:
        types = con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()
        cur = con.execute(f"SELECT * FROM '{path}'")
        cols = [d[0] for d in cur.description]
        return types, [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()


def test_analyze_tables_as_parquet_csv_and_json(capsys, anvil, world, book_file, tmp_path):
    f = add_market_maker(world.chain, world)
    hedge = f["wallets"][1]
    base = ["analyze", hedge, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache"]
    code, out, _ = run(capsys, *base, "--json")
    doc = json.loads(out)
    code, _, err = run(capsys, *base, "--format", "parquet", "-o", str(tmp_path / "w.parquet"))
    assert code == 0 and f"wrote {tmp_path / 'w.positions.parquet'}" in err
    types, rows = _parquet(tmp_path / "w.positions.parquet")
    kinds = dict((t[0], t[1]) for t in types)
    assert kinds["amount0_raw"] == "DECIMAL(38,0)" and kinds["fee"] == "BIGINT" and kinds["greeks_delta"] == "DOUBLE"
    by_id = {p["id"]: p for p in doc["positions"]}
    for r in rows:  # every exact integer equal to the document's, to the wei
        p = by_id[r["id"]]
        assert r["amount0_raw"] == Decimal(p["amount0_raw"]) and r["liquidity_raw"] == Decimal(p["liquidity_raw"])
        assert r["greeks_delta"] == p["greeks"]["delta"] and r["distance_pct_lower"] == p["distance_pct"]["lower"]
    _, assets = _parquet(tmp_path / "w.lending_assets.parquet")
    want = {(a["symbol"], a["collateral_raw"]) for e in doc["lending"] for a in e["assets"]}
    assert {(a["symbol"], str(int(a["collateral_raw"]))) for a in assets} == want and assets
    code, _, _ = run(capsys, *base, "--format", "csv", "-o", str(tmp_path / "w.csv"))
    with (tmp_path / "w.positions.csv").open() as fh:
        got = list(csv.DictReader(fh))
    assert [r["amount1_raw"] for r in got] == [p["amount1_raw"] for p in doc["positions"]]
    code, _, _ = run(capsys, *base, "--format", "json", "-o", str(tmp_path / "w.json"))
    saved = json.loads((tmp_path / "w.json").read_text())
    assert saved["positions"] == doc["positions"] and saved["block"] == doc["block"]


def test_risk_tables_and_a_cache_table(capsys, anvil, world, book_file, tmp_path):
    f = add_market_maker(world.chain, world)
    cache = tmp_path / "c.duckdb"
    code, _, err = run(capsys, "risk", *f["wallets"], "--rpc-url", anvil.url, "--addresses", str(book_file),
                       "--cache", str(cache), "--var", "0.99", "--format", "parquet", "-o", str(tmp_path / "b.parquet"))
    assert code == 0, err
    for table in ("positions", "greeks", "scenarios", "var", "buffers"):
        assert (tmp_path / f"b.{table}.parquet").stat().st_size > 0
    _, scen = _parquet(tmp_path / "b.scenarios.parquet")
    assert any(s["name"] == "var_0.99" for s in scen) and all("pnl_full_usd" in s for s in scen)
    run(capsys, "analyze", f["wallets"][0], "--rpc-url", anvil.url, "--addresses", str(book_file), "--cache",
        str(cache), "--json")
    code, _, err = run(capsys, "export", "positions", "--cache", str(cache), "-o", str(tmp_path / "pos.parquet"))
    assert code == 0 and "wrote" in err
    _, rows = _parquet(tmp_path / "pos.parquet")
    con = duckdb.connect(str(cache), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM positions").fetchone()[0]
    finally:
        con.close()
    assert len(rows) == n > 0


@pytest.mark.parametrize("argv, message", [
    (["export", "nosuch", "-o", "{tmp}/x.parquet"], "no table 'nosuch' in the cache"),
    (["export", "positions", "-o", "{tmp}/x.txt"], "writes .parquet or .csv"),
    (["export", "positions", "-o", "/nonexistent/dir/x.parquet"], "does not exist"),
])
def test_export_bad_input(capsys, tmp_path, argv, message):
    cache = tmp_path / "c.duckdb"
    from defirisk.store.cache import Cache

    Cache(cache).close()
    code, _, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv], "--cache", str(cache))
    assert code == 2 and message in err and "Traceback" not in err


def test_format_without_output_is_refused(capsys, anvil, world, book_file):
    code, _, err = run(capsys, "analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses",
                       str(book_file), "--no-cache", "--format", "csv")
    assert code == 2 and "--format and -o go together" in err
