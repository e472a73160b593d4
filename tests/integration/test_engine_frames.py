"""The engine's Python results: frames the same whether computed or answered from the cache, borrowers as a
DataFrame (several wallets in one lockstep run: engine/book_read.py, tests/integration/test_book_read.py)."""
from __future__ import annotations

import math

import pandas as pd

from defirisk.api import analyze


def _same_values(a: pd.DataFrame, b: pd.DataFrame, cols: list[str]) -> None:
    for c in cols:
        for x, y in zip(a[c].tolist(), b[c].tolist()):
            if isinstance(x, float) and isinstance(y, float):
                assert (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-12), c
            elif x is None or (isinstance(x, float) and math.isnan(x)):
                assert y is None or (isinstance(y, float) and math.isnan(y)), c
            else:
                assert x == y, (c, x, y)


def test_cached_frames_have_the_computed_columns(world, book_file, anvil, tmp_path):
    cache = tmp_path / "c.duckdb"
    alice = world.account("lp_alice")
    first = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=cache)
    again = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=cache, block=first.block)
    assert again.from_cache and not first.positions.empty and not first.vault_positions.empty
    assert list(again.positions.columns) == list(first.positions.columns)
    assert list(again.vault_positions.columns) == list(first.vault_positions.columns)
    lp_cols = ["id", "owner", "pool", "liquidity_raw", "amount0_raw", "amount1_raw", "fees0_raw", "owed_principal1_raw",
               "value_usd", "in_range", "delta", "gamma", "prob_exit", "dist_lower_pct", "price_upper"]
    _same_values(first.positions, again.positions, lp_cols)
    assert isinstance(again.positions["liquidity_raw"].iloc[0], int)  # exact, as computed
    v_cols = ["id", "vault", "shares_raw", "exposed_shares_raw", "strike", "collateral_raw", "value_usd", "delta", "vega"]
    _same_values(first.vault_positions, again.vault_positions, v_cols)


def test_market_borrowers_are_a_frame_and_json_unchanged(world, book_file, anvil):
    provider = world.facts["aave_v3"]["pool_addresses_provider"]
    m = analyze(provider, rpc_url=anvil.url, addresses=book_file, cache=False)
    assert isinstance(m.borrowers, pd.DataFrame) and len(m.borrowers) == len(m.to_json()["borrowers"]) > 0
    assert m.to_json()["borrowers"] == m.borrower_rows
    assert "wallet" in m.borrowers and set(m.borrowers["wallet"]) <= {e["wallet"] for e in m.lending}
    w = analyze(world.account("lp_alice"), rpc_url=anvil.url, addresses=book_file, cache=False)
    assert w.borrowers is None
