"""Charts of the recorded demo documents: no position left out, an Aave-only wallet drawn, files all named."""
from __future__ import annotations

import numpy as np
import pytest

from defirisk.report.plots import POOLS_PER_PAGE, health_factor_curve, plot_doc_files
from tests.unit.test_report_text import BORROWER, MARKET, POOL, VAULT, WALLET


def test_wallet_charts_keep_every_pool(tmp_path):
    pools = {p["pool"] for p in WALLET["positions"] if p["protocol"].startswith("uniswap")}
    assert len(pools) > POOLS_PER_PAGE  # the case that used to drop pools
    files = plot_doc_files(WALLET, tmp_path / "w.png")
    lp_pages = [f for f in files if "vaults" not in f.name]
    assert len(lp_pages) == -(-len(pools) // POOLS_PER_PAGE)
    assert [f.name for f in files] == ["w.png", "w-2.png", "w-vaults.png"]
    assert all(f.read_bytes()[:4] == b"\x89PNG" for f in files)


def test_aave_only_wallet_gets_its_health_factor_chart(tmp_path):
    assert not BORROWER["positions"]
    (f,) = plot_doc_files(BORROWER, tmp_path / "loan.png")
    assert f.name == "loan.png" and f.stat().st_size > 30_000


def test_health_factor_curve_meets_the_reported_figures():
    lend = BORROWER["lending"][0]
    for a in lend["assets"]:
        p0, liq = a["price_usd"], a["liquidation_price_usd"]
        hf = health_factor_curve(lend, a["asset"], np.array([p0, liq]))
        assert hf[0] == pytest.approx(lend["health_factor"], rel=1e-9)
        assert hf[1] == pytest.approx(1.0, abs=1e-6)  # the reader's liquidation price, from the protocol's math


@pytest.mark.parametrize("doc", [POOL, MARKET, VAULT], ids=["pool", "market", "vault"])
def test_other_kinds_draw_one_named_file(doc, tmp_path):
    (f,) = plot_doc_files(doc, tmp_path / "x.png")
    assert f == tmp_path / "x.png" and f.stat().st_size > 20_000


def test_depth_bands_hold_the_tokens_the_reader_reports():
    """Token amounts per price band, recomputed from liquidity, equal the reader's amounts of each tick range."""
    from defirisk.report.plots import depth_in_bands

    P = POOL["pool"]["price"]
    inside = [r for r in POOL["depth"] if r["price_upper"] is not None and P / 3 < r["price_lower"] and r["price_upper"] < 3 * P]
    assert len(inside) >= 3
    for r in inside:
        t0, t1 = depth_in_bands(POOL["depth"], P, np.array([r["price_lower"], r["price_upper"]]))
        assert t0[0] == pytest.approx(r["amount0"], rel=1e-6, abs=1e-9)
        assert t1[0] == pytest.approx(r["amount1"], rel=1e-6, abs=1e-6)
    # over every price, the bands hold the pool's LP inventory
    edges = np.array([min(r["price_lower"] for r in POOL["depth"]) * 0.999, P, P * 1e30])
    t0, t1 = depth_in_bands(POOL["depth"], P, edges)
    assert t1[0] == pytest.approx(POOL["pool"]["lp_inventory1"], rel=1e-4)
    assert t0[1] == pytest.approx(POOL["pool"]["lp_inventory0"], rel=1e-4)
