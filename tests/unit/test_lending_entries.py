"""analysis/lending on hand-made records (no node): entries, boundary liquidation, unpriced reserves, market view."""
from __future__ import annotations

import math

import pytest

from defirisk.analysis.lending import account_entry, market_view, position_rows, result_rows
from defirisk.protocols.aave_v3.spec import MAX_UINT256, RAY, AaveAccount, AaveMarket, AaveReserve, AaveReserves, AaveUserReserve

POOL, WETH, USDC = "0x" + "11" * 20, "0x" + "aa" * 20, "0x" + "bb" * 20


def _reserve(asset: str, symbol: str, rid: int, decimals: int, price: int | None, ltv: int, lt: int, bonus: int) -> AaveReserve:
    z = "0x" + "00" * 20
    return AaveReserve(
        asset=asset, symbol=symbol, decimals=decimals, id=rid, a_token=z, stable_debt_token=z, variable_debt_token=z,
        interest_rate_strategy=z, configuration=0, ltv=ltv, liquidation_threshold=lt, liquidation_bonus=bonus,
        reserve_factor=1000, liquidation_protocol_fee=0, emode_category=0, debt_ceiling=0, borrow_cap=0, supply_cap=0,
        active=True, frozen=False, paused=False, borrowing_enabled=True, stable_borrowing_enabled=False,
        borrowable_in_isolation=False, siloed_borrowing=False, flashloan_enabled=True, liquidity_index=RAY,
        variable_borrow_index=RAY, normalized_income=RAY, normalized_variable_debt=RAY, liquidity_rate=0,
        variable_borrow_rate=0, stable_borrow_rate=0, last_update_timestamp=0, accrued_to_treasury=0, unbacked=0,
        isolation_mode_total_debt=0, price_source=None, price_raw=price, price_error=None if price else f"oracle prices {symbol} at 0",
    )


def _market(usdc_price: int | None = 10**8) -> AaveReserves:
    m = AaveMarket(1, 100, "0x" + "22" * 20, POOL, "0x" + "33" * 20, "test", (WETH, USDC))
    rs = (_reserve(WETH, "WETH", 0, 18, 3000 * 10**8, 8000, 8250, 10500), _reserve(USDC, "USDC", 1, 6, usdc_price, 7700, 8000, 10450))
    return AaveReserves(m, 100, 0, None, 10**8, None, rs)


def _account(rs: AaveReserves, wallet: str, weth: float, usdc_debt: float) -> AaveAccount:
    pos = []
    w, u = rs.reserves
    if weth:
        pos.append(AaveUserReserve(wallet, w, int(weth * 10**18), int(weth * 10**18), 0, 0, 0, 0, 0, True, False))
    if usdc_debt:
        pos.append(AaveUserReserve(wallet, u, 0, 0, int(usdc_debt * 10**6), int(usdc_debt * 10**6), 0, 0, 0, False, True))
    config = (2 if weth else 0) | ((1 << 2) if usdc_debt else 0)
    return AaveAccount(wallet, POOL, 1, 100, config, 0, None, tuple(pos), None, None, None, None, None,
                       MAX_UINT256 if not usdc_debt else 10**18)


def test_entry_of_a_borrower_near_liquidation():
    rs = _market()
    e = account_entry(_account(rs, "0x" + "01" * 20, 10, 23_500), rs, stables=[USDC], vols={WETH: (0.8, "test")}, horizon_years=0.1)
    assert e["health_factor"] == pytest.approx(10 * 3000 * 0.825 / 23_500, rel=1e-12)
    assert e["collateral_usd"] == 30_000 and e["debt_usd"] == 23_500 and not e["liquidatable"]
    weth = next(a for a in e["assets"] if a["symbol"] == "WETH")
    p = 23_500 / (10 * 0.825)
    assert weth["liquidation_direction"] == "fall" and weth["liquidation_price_usd"] == pytest.approx(p, abs=1e-8)
    assert weth["distance_pct"] == pytest.approx((p / 3000 - 1) * 100, rel=1e-9)
    assert weth["distance_vol"] == pytest.approx(abs(math.log(p / 3000)) / (0.8 * math.sqrt(0.1)), rel=1e-9)
    liq = weth["liquidation"]
    assert liq["at"] == "boundary" and liq["close_factor"] == 0.5 and liq["debt_symbol"] == "USDC"
    assert int(liq["debt_repaid_raw"]) == 23_500 * 10**6 // 2
    assert liq["collateral_seized_usd"] == pytest.approx(11_750 * 1.05, rel=1e-6)
    usdc = next(a for a in e["assets"] if a["symbol"] == "USDC")
    assert usdc["liquidation_direction"] == "rise" and usdc["debt_price_rise_pct"] == pytest.approx((24_750 / 23_500 - 1) * 100, rel=1e-6)
    assert usdc["distance_vol"] is None and usdc["liquidation"] is None
    assert e["uniform_shock_pct"] == pytest.approx(-weth["distance_pct"], rel=1e-9)  # one volatile asset
    assert e["borrow_headroom_usd"]["to_health_factor_1"] == pytest.approx(24_750 - 23_500)
    rows = position_rows(e)
    assert {r["position_id"] for r in rows} == {f"{e['wallet']}:{WETH}", f"{e['wallet']}:{USDC}"}
    assert next(r for r in rows if r["asset"] == USDC)["amount1_raw"] == str(23_500 * 10**6)
    res = result_rows(e)
    assert res[0]["position_id"] == e["wallet"] and res[0]["health_factor"] == e["health_factor"] and len(res) == 3


def test_entry_without_debt_and_a_liquidatable_one():
    rs = _market()
    e = account_entry(_account(rs, "0x" + "02" * 20, 1, 0), rs)
    assert e["health_factor"] is None and e["health_factor_onchain"] is None and e["uniform_shock_pct"] is None
    assert e["assets"][0]["liquidation_price_usd"] is None and e["assets"][0]["liquidation"] is None
    bad = account_entry(_account(rs, "0x" + "03" * 20, 10, 27_000), rs, stables=[USDC])  # HF 0.917 < 0.95: close factor 100 %
    assert bad["liquidatable"] and bad["uniform_shock_pct"] < 0
    weth = next(a for a in bad["assets"] if a["symbol"] == "WETH")
    assert weth["distance_pct"] > 0 and weth["liquidation"]["at"] == "now" and weth["liquidation"]["close_factor"] == 1.0


def test_unpriced_reserve_and_market_view():
    rs = _market(usdc_price=None)
    near, far, lender = ("0x" + c * 40 for c in "456")
    accounts = [_account(rs, far, 10, 0), _account(rs, near, 10, 23_500)]
    entries = [account_entry(a, rs, stables=[USDC]) for a in accounts]
    e = entries[1]
    assert e["health_factor"] is None and e["assets"][0]["note"].startswith("not computed")
    summary, table, curve = market_view(accounts, rs, entries, stables=[USDC])  # NaN rows do not break the arrays
    assert summary["borrowers"] == 2 and len(table) == 2 and table[-1]["distance"] is None
    # priced again: the borrower near liquidation ranks first, the curve shows its WETH
    rs = _market()
    accounts = [_account(rs, far, 10, 10_000), _account(rs, near, 10, 23_500)]
    entries = [account_entry(a, rs, stables=[USDC]) for a in accounts]
    summary, table, curve = market_view(accounts, rs, entries, stables=[USDC])
    assert [r["wallet"] for r in table] == [near, far] and table[0]["nearest_asset"] == "WETH"
    assert table[0]["distance"] == pytest.approx(abs(entries[1]["assets"][0]["distance_pct"]), rel=1e-9)
    (weth,) = curve["assets"]
    i = curve["shocks_pct"].index(5.0)
    assert weth["borrowers"][0] == 0 and weth["borrowers"][i] == 0 and weth["borrowers"][i + 1] == 1  # -5.05 % liquidates
    assert summary["collateral_usd"] == 60_000 and summary["liquidatable_borrowers"] == 0
    empty = market_view([], rs, [])
    assert empty[0]["borrowers"] == 0 and empty[1] == []
