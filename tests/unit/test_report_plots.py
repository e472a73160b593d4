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
