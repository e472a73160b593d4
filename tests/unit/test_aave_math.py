"""Aave v3 integer math: WadRayMath/PercentageMath rounding, account data, exact HF boundary, liquidation amounts."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models import aave_math as am
from defirisk.models.aave_math import (MAX_UINT256, RAY, SECONDS_PER_YEAR, WAD, account_data_raw, compounded_interest,
                                       linear_interest, liquidation_amounts_raw, liquidation_price_raw,
                                       normalized_debt_at, normalized_income_at, percent_div, percent_mul, ray_div,
                                       ray_mul, ray_to_wad, wad_div, wad_mul, wad_to_ray)
from defirisk.models.lending_risk import health_factor, liquidation_price

uint = st.integers(min_value=0, max_value=2**128)


def half_up(num: int, den: int) -> int:
    """Round-half-up of num/den by exact rational arithmetic (independent of the // formulas)."""
    return math.floor(Fraction(num, den) + Fraction(1, 2))


# -- rounding of the primitive operations --------------------------------------------------------------------


def test_constants_are_the_contracts():
    assert (am.WAD, am.RAY, am.PERCENTAGE_FACTOR, am.SECONDS_PER_YEAR) == (10**18, 10**27, 10**4, 31_536_000)
    assert am.CLOSE_FACTOR_HF_THRESHOLD == 950_000_000_000_000_000
    assert am.HEALTH_FACTOR_LIQUIDATION_THRESHOLD == 10**18


def test_half_up_rounding_on_edge_values():
    # wadMul(1, 0.5e18) = (0.5e18 + 0.5e18) / 1e18 = 1: exactly one half rounds up; a hair less rounds down
    assert wad_mul(1, WAD // 2) == 1
    assert wad_mul(1, WAD // 2 - 1) == 0
    assert ray_mul(1, RAY // 2) == 1
    assert ray_mul(1, RAY // 2 - 1) == 0
    assert ray_mul(3, RAY // 2) == 2  # 1.5 -> 2
    # wadDiv(a, b) adds b/2 (integer halving): wadDiv(1, 2e18) = (1e18 + 1e18)/2e18 = 1, wadDiv(1, 2e18+1) = 0
    assert wad_div(1, 2 * WAD) == 1
    assert wad_div(1, 2 * WAD + 1) == 0
    assert ray_div(1, 2 * RAY) == 1
    assert ray_div(1, 2 * RAY + 1) == 0
    # an odd b: b//2 truncates, so (1e18 + 1)/(2e18 + 1)... = 0 here but 7/(2) style cases round up
    assert wad_div(7, 2 * WAD) == 4  # 3.5 -> 4
    assert percent_mul(1, 5_000) == 1 and percent_mul(1, 4_999) == 0
    assert percent_mul(10_001, 5_000) == 5_001  # 5000.5 -> 5001
    assert percent_div(1, 20_000) == 1 and percent_div(1, 20_001) == 0
    assert percent_div(100, 10_500) == 95  # 95.238 -> 95
    assert ray_to_wad(5 * 10**8) == 1 and ray_to_wad(5 * 10**8 - 1) == 0
    assert wad_to_ray(3) == 3 * 10**9
    assert wad_mul(0, MAX_UINT256) == 0 and ray_mul(MAX_UINT256, 0) == 0


def test_overflow_and_zero_division_revert_like_the_contract():
    b = 3 * 10**20
    ok = (MAX_UINT256 - WAD // 2) // b
    assert wad_mul(ok, b) == (ok * b + WAD // 2) // WAD
    with pytest.raises(OverflowError):
        wad_mul(ok + 1, b)
    ok = (MAX_UINT256 - RAY // 2) // b
    ray_mul(ok, b)
    with pytest.raises(OverflowError):
        ray_mul(ok + 1, b)
    ok = (MAX_UINT256 - b // 2) // WAD
    wad_div(ok, b)
    with pytest.raises(OverflowError):
        wad_div(ok + 1, b)
    ok = (MAX_UINT256 - 5_000) // 7_000
    percent_mul(ok, 7_000)
    with pytest.raises(OverflowError):
        percent_mul(ok + 1, 7_000)
    with pytest.raises(OverflowError):
        wad_to_ray(MAX_UINT256 // 10**9 + 1)
    for f in (wad_div, ray_div, percent_div):
        with pytest.raises(ZeroDivisionError):
            f(1, 0)
        with pytest.raises(InputError):
            f(1, 0)
    for bad in (1.0, -1, MAX_UINT256 + 1, "3"):
        with pytest.raises(InputError):
            wad_mul(bad, 1)


@settings(max_examples=200, deadline=None)
@given(uint, st.integers(min_value=1, max_value=2**100))
def test_operations_are_half_up_of_the_exact_quotient(a, b):
    assert wad_mul(a, b) == half_up(a * b, WAD)
    assert ray_mul(a, b) == half_up(a * b, RAY)
    assert percent_mul(a, b % 10**5) == half_up(a * (b % 10**5), 10**4)
    # div adds floor(b/2): equal to half-up for even b, and never more than half-up
    for f, scale in ((wad_div, WAD), (ray_div, RAY)):
        got = f(a, b)
        if b % 2 == 0:
            assert got == half_up(a * scale, b)
        assert half_up(a * scale, b) - 1 <= got <= half_up(a * scale, b)


# -- interest and index projection -------------------------------------------------------------------------


def test_linear_and_compounded_interest():
    rate = 5 * RAY // 100  # 5 % per year
    assert linear_interest(rate, 1_000, 1_000 + SECONDS_PER_YEAR) == RAY + rate
    assert linear_interest(rate, 1_000, 1_001) == RAY + rate // SECONDS_PER_YEAR  # truncated
    assert compounded_interest(rate, 7, 7) == RAY
    assert compounded_interest(rate, 7, 8) == RAY + rate // SECONDS_PER_YEAR  # exp = 1: no 2nd/3rd term
    # one year at 5 %: basePowerTwo = rayMul(r, r) / Y² = 2_513_777_269, basePowerThree = rayMul(bp2, r) / Y = 3
    # (truncated from 3.97: the contract's third term is 25 % short), so RAY·(1 + 0.05 + 0.00125 + 0.0000157)
    Y = SECONDS_PER_YEAR
    year = compounded_interest(rate, 0, Y)
    assert year == RAY + rate + Y * (Y - 1) * 2_513_777_269 // 2 + Y * (Y - 1) * (Y - 2) * 3 // 6
    assert year == 1_051_265_681_539_063_650_421_944_000
    assert math.exp(0.05) * (1 - 1e-5) < year / RAY < math.exp(0.05)
    idx = 1_234_567_890_123_456_789_012_345_678
    assert normalized_income_at(idx, rate, 50, 50) == idx
    assert normalized_income_at(idx, rate, 50, 50 + 86_400) == ray_mul(RAY + rate * 86_400 // SECONDS_PER_YEAR, idx)
    assert normalized_debt_at(idx, rate, 50, 50) == idx
    assert normalized_debt_at(idx, rate, 0, 3_600) == ray_mul(compounded_interest(rate, 0, 3_600), idx)
    with pytest.raises(InputError):
        normalized_income_at(idx, rate, 100, 99)


# -- account data ----------------------------------------------------------------------------------------

# Worked example (hand computed below): WETH and WBTC collateral, USDC debt, plus a supplied asset not enabled
# as collateral and an enabled one with LT = 0 (both must be ignored).
EXAMPLE = dict(
    collateral_raw=[10 * 10**18, 5 * 10**7, 0, 7 * 10**18, 4 * 10**18],
    debt_raw=[0, 0, 20_000 * 10**6, 0, 0],
    prices_base=[2_000 * 10**8, 30_000 * 10**8, 100_010_000, 500 * 10**8, 10 * 10**8],
    units=[10**18, 10**8, 10**6, 10**18, 10**18],
    liquidation_thresholds_bps=[8_250, 7_500, 7_800, 8_000, 0],
    ltvs_bps=[8_000, 7_000, 7_500, 7_500, 0],
    usage_as_collateral=[True, True, False, False, True],
)


def test_account_data_worked_example():
    # collateral: WETH 10e18·2000e8/1e18 = 2_000_000_000_000; WBTC 5e7·30000e8/1e8 = 1_500_000_000_000
    # debt: 20000e6 · 100_010_000 / 1e6 = 2_000_200_000_000 ($20,002)
    # avgLT = (2e12·8250 + 1.5e12·7500) / 3.5e12 = 7928.57 -> 7928; avgLTV = 7571.43 -> 7571
    # HF = wadDiv(percentMul(3.5e12, 7928) = 2_774_800_000_000, 2_000_200_000_000) = 1.387261273872612738726… -> …739
    # available = percentMul(3.5e12, 7571) − debt = 2_649_850_000_000 − 2_000_200_000_000
    got = account_data_raw(*EXAMPLE.values())
    assert got.total_collateral_base == 3_500_000_000_000
    assert got.total_debt_base == 2_000_200_000_000
    assert got.current_liquidation_threshold == 7_928
    assert got.ltv == 7_571
    assert got.health_factor == 1_387_261_273_872_612_739
    assert got.available_borrows_base == 649_650_000_000
    assert got.has_zero_ltv_collateral is False


def test_zero_ltv_collateral_dilutes_ltv_but_counts_for_lt():
    ex = dict(EXAMPLE, ltvs_bps=[8_000, 0, 7_500, 7_500, 0])
    got = account_data_raw(*ex.values())
    assert got.has_zero_ltv_collateral
    assert got.ltv == 4_571  # (2e12·8000 + 1.5e12·0) / 3.5e12 = 4571.4 -> 4571
    assert got.current_liquidation_threshold == 7_928  # unchanged


def test_no_debt_and_empty_account():
    got = account_data_raw([10**18], [0], [2_000 * 10**8], [10**18], [8_250], [8_000], [True])
    assert got.health_factor == MAX_UINT256
    assert got.available_borrows_base == 1_600 * 10**8
    empty = account_data_raw([], [], [], [], [], [], [])
    assert (empty.total_collateral_base, empty.total_debt_base, empty.available_borrows_base,
            empty.current_liquidation_threshold, empty.ltv, empty.health_factor) == (0, 0, 0, 0, 0, MAX_UINT256)
    # debt and only zero-LT collateral: HF = 0
    got = account_data_raw([10**18, 0], [0, 10**6], [10**8, 10**8], [10**18, 10**6], [0, 8_000], [0, 7_000], [True, False])
    assert got.total_collateral_base == 0 and got.health_factor == 0


def test_scaled_balances_with_indexes_match_balance_of():
    income, debt_idx = 1_051_234_567_890_123_456_789_012_345, 1_102_030_405_060_708_090_100_110_120
    scaled_c, scaled_d, stable = [9_876_543_210_987_654_321, 0], [0, 12_345_678_901], [0, 777_777]
    n = 2
    kw = dict(prices_base=[2_000 * 10**8, 10**8], units=[10**18, 10**6], liquidation_thresholds_bps=[8_250, 7_800],
              ltvs_bps=[8_000, 7_500], usage_as_collateral=[True, False])
    a = account_data_raw([ray_mul(scaled_c[0], income), 0], [0, ray_mul(scaled_d[1], debt_idx) + stable[1]], *kw.values())
    b = account_data_raw(scaled_c, scaled_d, *kw.values(), liquidity_indexes=[income] * n,
                         borrow_indexes=[debt_idx] * n, stable_debt_raw=stable)
    assert a == b


def test_debt_is_summed_before_pricing():
    # variable + stable are added first, then × price / unit: floor(3·x) can exceed 2·floor(x) + floor(x)
    kw = dict(prices_base=[10**8, 1], units=[10**18, 3], liquidation_thresholds_bps=[8_000, 8_000],
              ltvs_bps=[7_000, 7_000], usage_as_collateral=[True, False])
    got = account_data_raw([10**18, 0], [0, 1], *kw.values(), stable_debt_raw=[0, 2])
    assert got.total_debt_base == 1  # (1 + 2)·1/3 = 1, whereas floor(1/3) + floor(2/3) = 0


def test_emode_thresholds_and_price_source():
    # category 1 (ETH-correlated): LT 9300, LTV 9000, price source priced at 1990e8 for every in-category asset
    kw = dict(user_emode_category=1, asset_emode_categories=[1, 0, 1], emode_ltv_bps=9_000,
              emode_liquidation_threshold_bps=9_300, emode_price_base=1_990 * 10**8)
    args = ([10**18, 10**6 * 1_000, 0], [0, 0, 5 * 10**17], [2_000 * 10**8, 10**8, 2_010 * 10**8],
            [10**18, 10**6, 10**18], [8_000, 8_500, 8_250], [7_500, 8_000, 8_000], [True, True, False])
    got = account_data_raw(*args, **kw)
    coll = 1_990 * 10**8 + 1_000 * 10**8  # wstETH at the e-mode price, USDC at its own
    assert got.total_collateral_base == coll
    assert got.total_debt_base == 995 * 10**8  # WETH debt at the e-mode price, not 2010
    assert got.current_liquidation_threshold == (1_990 * 9_300 + 1_000 * 8_500) // 2_990
    assert got.ltv == (1_990 * 9_000 + 1_000 * 8_000) // 2_990
    plain = account_data_raw(*args)
    assert plain.total_collateral_base == 3_000 * 10**8 and plain.current_liquidation_threshold == (2_000 * 8_000 + 1_000 * 8_500) // 3_000
    # without a price source only the thresholds change
    no_src = account_data_raw(*args, **dict(kw, emode_price_base=0))
    assert no_src.total_collateral_base == 3_000 * 10**8
    # a zero reserve LTV stays zero in e-mode
    z = account_data_raw(args[0], args[1], args[2], args[3], args[4], [0, 8_000, 8_000], args[6], **kw)
    assert z.has_zero_ltv_collateral and z.ltv == 1_000 * 8_000 // 2_990
    with pytest.raises(InputError):
        account_data_raw(*args, user_emode_category=1)  # categories of the assets are needed


def test_input_errors():
    with pytest.raises(InputError):
        account_data_raw([1, 2], [0], [1, 1], [1, 1], [1, 1], [1, 1], [True, True])
    with pytest.raises(InputError):
        account_data_raw([1], [0], [1], [0], [1], [1], [True])
    with pytest.raises(InputError):
        account_data_raw([1.5], [0], [1], [1], [1], [1], [True])
    with pytest.raises(InputError):
        account_data_raw([1], [0], [1], [1], [70_000], [1], [True])


# -- the exact boundary price --------------------------------------------------------------------------------


def _hf_at(args: dict, j: int, price: int, **kw) -> int:
    prices = list(args["prices_base"])
    prices[j] = price
    return account_data_raw(**dict(args, prices_base=prices), **kw).health_factor


SINGLE = dict(
    collateral_raw=[10 * 10**18, 0], debt_raw=[0, 15_000 * 10**6], prices_base=[2_000 * 10**8, 10**8],
    units=[10**18, 10**6], liquidation_thresholds_bps=[8_250, 7_800], ltvs_bps=[8_000, 7_500],
    usage_as_collateral=[True, False],
)


def test_boundary_price_single_collateral():
    p = liquidation_price_raw(0, *SINGLE.values())
    assert p == 181_818_181_818  # 15000 / (10 · 0.825) = 1818.1818… USD
    assert _hf_at(SINGLE, 0, p) < WAD <= _hf_at(SINGLE, 0, p + 1)
    assert _hf_at(SINGLE, 0, p - 1) < WAD
    # the float liquidation price agrees to the oracle's resolution
    x = liquidation_price([20_000.0, 0.0], [0.0, 15_000.0], [0.825, 0.78], [2_000.0, 1.0])[0]
    assert abs(x * 1e8 - p) <= 1


def test_boundary_price_debt_asset_and_errors():
    # WETH borrowed against USDC: the lowest ETH price that liquidates
    args = dict(collateral_raw=[0, 30_000 * 10**6], debt_raw=[10 * 10**18, 0], prices_base=[2_000 * 10**8, 10**8],
                units=[10**18, 10**6], liquidation_thresholds_bps=[8_250, 8_000], ltvs_bps=[8_000, 7_500],
                usage_as_collateral=[False, True])
    p = liquidation_price_raw(0, *args.values())
    assert p == 240_000_000_001  # 30000·0.8/10 = 2400 exactly: HF = 1 there is not < 1
    assert _hf_at(args, 0, p) < WAD <= _hf_at(args, 0, p - 1)
    assert _hf_at(args, 0, p + 1) < WAD
    with pytest.raises(InputError):  # reserve 1's price moves HF, index 5 does not exist
        liquidation_price_raw(5, *args.values())
    with pytest.raises(InputError):
        liquidation_price_raw(0, *dict(args, debt_raw=[0, 0]).values())  # neither collateral nor debt
    with pytest.raises(InputError):
        liquidation_price_raw(0, *args.values(), bogus=1)
    # covered by another collateral at any price: no crossing
    safe = dict(SINGLE, collateral_raw=[10**18, 10**12], usage_as_collateral=[True, True], debt_raw=[0, 10**6])
    assert liquidation_price_raw(0, *safe.values()) is None


def test_boundary_price_emode_priced_asset_cannot_move():
    kw = dict(user_emode_category=1, asset_emode_categories=[1, 0], emode_ltv_bps=9_000,
              emode_liquidation_threshold_bps=9_300, emode_price_base=1_990 * 10**8)
    with pytest.raises(InputError):
        liquidation_price_raw(0, *SINGLE.values(), **kw)
    p = liquidation_price_raw(0, *SINGLE.values(), **dict(kw, emode_price_base=0))
    assert _hf_at(SINGLE, 0, p, **dict(kw, emode_price_base=0)) < WAD <= _hf_at(SINGLE, 0, p + 1, **dict(kw, emode_price_base=0))


portfolio = st.integers(min_value=2, max_value=4).flatmap(
    lambda n: st.fixed_dictionaries(
        dict(
            coll=st.lists(st.integers(0, 10**26), min_size=n, max_size=n),
            debt=st.lists(st.integers(0, 10**24), min_size=n, max_size=n),
            price=st.lists(st.integers(10**4, 10**13), min_size=n, max_size=n),
            dec=st.lists(st.sampled_from([0, 6, 8, 18]), min_size=n, max_size=n),
            lt=st.lists(st.integers(1, 9_700), min_size=n, max_size=n),
            use=st.lists(st.booleans(), min_size=n, max_size=n),
            j=st.integers(0, n - 1),
            mode=st.sampled_from(["collateral", "collateral", "debt", "both", "neither"]),
        )
    )
)


def _args(pf: dict) -> dict:
    return dict(collateral_raw=pf["coll"], debt_raw=pf["debt"], prices_base=pf["price"], units=[10**d for d in pf["dec"]],
                liquidation_thresholds_bps=pf["lt"], ltvs_bps=[x // 2 for x in pf["lt"]], usage_as_collateral=pf["use"])


@settings(max_examples=150, deadline=None)
@given(portfolio)
def test_boundary_price_makes_hf_cross_1e18(pf):
    j, mode = pf["j"], pf["mode"]
    pf = dict(pf, coll=list(pf["coll"]), debt=list(pf["debt"]), use=list(pf["use"]))
    if mode in ("collateral", "both"):
        pf["use"][j], pf["coll"][j] = True, max(pf["coll"][j], 1)
    if mode in ("debt", "both"):
        pf["debt"][j] = max(pf["debt"][j], 1)
    if mode == "collateral":
        pf["debt"][j] = 0
    if mode in ("debt", "neither"):
        pf["coll"][j] = 0
    if mode == "neither":
        pf["debt"][j] = 0
    args = _args(pf)
    if not ((pf["use"][j] and pf["coll"][j] > 0) or pf["debt"][j] > 0):
        with pytest.raises(InputError):
            liquidation_price_raw(j, *args.values())
        return
    p = liquidation_price_raw(j, *args.values())
    assume(p is not None)
    collateral_side = pf["use"][j] and pf["coll"][j] > 0
    if collateral_side and pf["debt"][j] == 0:
        assert _hf_at(args, j, p) < WAD
        for k in (1, 2, 7, 1_000, 10**9):
            assert _hf_at(args, j, p + k) >= WAD
    elif not collateral_side:
        assert _hf_at(args, j, p) < WAD
        if p > 0:
            assert _hf_at(args, j, p - 1) >= WAD
        assert _hf_at(args, j, p + 1) < WAD
    else:  # both sides move: a crossing between p and its neighbour on the safe side
        up = pf["coll"][j] * pf["lt"][j] > pf["debt"][j] * 10_000
        assert _hf_at(args, j, p) < WAD
        if p > 0 or up:
            assert _hf_at(args, j, p + 1 if up else p - 1) >= WAD


small = st.integers(min_value=2, max_value=3).flatmap(
    lambda n: st.fixed_dictionaries(
        dict(
            coll=st.lists(st.integers(1, 3_000), min_size=n, max_size=n),
            debt=st.integers(1, 6_000),
            price=st.lists(st.integers(1, 40), min_size=n, max_size=n),
            unit=st.lists(st.sampled_from([1, 3, 10]), min_size=n, max_size=n),
            lt=st.lists(st.integers(1, 10_000), min_size=n, max_size=n),
            j=st.integers(0, n - 1),
        )
    )
)


@settings(max_examples=40, deadline=None)
@given(small)
@example({"coll": [1133, 2], "debt": 733, "price": [1, 1], "unit": [1, 1], "lt": [6466, 1], "j": 1})  # found by hypothesis
def test_boundary_price_is_the_highest_liquidatable_price_by_brute_force(pf):
    """Tiny integers so every price can be tried: with several collaterals HF is a sawtooth in price."""
    n, j = len(pf["coll"]), pf["j"]
    debt = [0] * n
    debt[(j + 1) % n] = pf["debt"]
    args = dict(collateral_raw=pf["coll"], debt_raw=debt, prices_base=pf["price"], units=pf["unit"],
                liquidation_thresholds_bps=pf["lt"], ltvs_bps=pf["lt"], usage_as_collateral=[True] * n)
    top = 1_500
    liq = [q for q in range(top) if _hf_at(args, j, q) < WAD]
    assume(not liq or liq[-1] < top - 1)
    got = liquidation_price_raw(j, *args.values())
    if got is not None and got >= top:  # the sawtooth has a liquidatable stretch above the brute-forced prices
        assert _hf_at(args, j, got) < WAD <= _hf_at(args, j, got + 1)
        assert all(_hf_at(args, j, q) >= WAD for q in range(got + 1, got + 300))
    else:
        assert got == (liq[-1] if liq else None)


def test_sawtooth_case_is_found():
    """Two collaterals (LT 50 % moving, LT 90 % fixed): the truncated average LT makes HF a sawtooth in price,
    here with a one-unit liquidatable window below which the account is safe again."""
    args = dict(collateral_raw=[1, 20_000, 0], debt_raw=[0, 0, 30_084], prices_base=[1, 1, 1], units=[1, 1, 1],
                liquidation_thresholds_bps=[5_000, 9_000, 1], ltvs_bps=[5_000, 9_000, 1],
                usage_as_collateral=[True, True, False])
    p = liquidation_price_raw(0, *args.values())
    assert p == 24_175
    assert [_hf_at(args, 0, q) < WAD for q in range(p - 2, p + 3)] == [False, False, True, False, False]
    assert not any(_hf_at(args, 0, q) < WAD for q in range(p + 1, p + 3_000))
    assert _hf_at(args, 0, 20_000) < WAD  # far below, liquidatable again


# -- float model against the integer model -------------------------------------------------------------------


def _to_float(coll, debt, price, units, lt):
    c = np.array([Fraction(a * p, u * 10**8) for a, p, u in zip(coll, price, units)], dtype=float)
    d = np.array([Fraction(a * p, u * 10**8) for a, p, u in zip(debt, price, units)], dtype=float)
    return c, d, np.array(lt, float) / 1e4


big = st.integers(min_value=1, max_value=4).flatmap(
    lambda n: st.fixed_dictionaries(
        dict(
            coll=st.lists(st.integers(10**22, 10**27), min_size=n, max_size=n),
            debt=st.lists(st.integers(10**22, 10**26), min_size=n, max_size=n),
            price=st.lists(st.integers(10**6, 10**12), min_size=n, max_size=n),
            lt=st.lists(st.integers(1_000, 9_500), min_size=n, max_size=n),
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(big)
def test_float_hf_matches_integer_hf(pf):
    n = len(pf["coll"])
    units = [10**18] * n
    raw = account_data_raw(pf["coll"], pf["debt"], pf["price"], units, pf["lt"], pf["lt"], [True] * n)
    c, d, lt = _to_float(pf["coll"], pf["debt"], pf["price"], units, pf["lt"])
    got = health_factor(c, d, lt, truncate_avg_lt=True)
    assert float(got) == pytest.approx(raw.health_factor / 1e18, rel=1e-9)
    if n == 1:  # one collateral: no truncation to mimic
        assert float(health_factor(c, d, lt)) == pytest.approx(raw.health_factor / 1e18, rel=1e-9)
    else:  # the exact average is never below Aave's truncated one, and at most 1 bp above
        exact = float(health_factor(c, d, lt))
        assert exact >= float(got) * (1 - 1e-12)
        assert exact <= float(got) * (1 + 1.0 / 1_000 + 1e-12)


# -- liquidation amounts ---------------------------------------------------------------------------------------

LIQ = dict(
    health_factor=970_000_000_000_000_000, user_total_debt=3_000 * 10**6, collateral_balance=10 * 10**18,
    collateral_price=2_000 * 10**8, debt_price=10**8, collateral_unit=10**18, debt_unit=10**6,
    liquidation_bonus_bps=10_500, protocol_fee_bps=1_000,
)


def test_liquidation_amounts_worked_example():
    # repay 1000 USDC: base = 1e8·1e9·1e18/(2000e8·1e6) = 0.5 ETH; ×1.05 = 0.525 ETH seized
    # bonus part = 0.525 − percentDiv(0.525, 10500) = 0.025 ETH; protocol fee 10 % of it = 0.0025 ETH
    got = liquidation_amounts_raw(1_000 * 10**6, **LIQ)
    assert got.close_factor_bps == 5_000 and got.max_liquidatable_debt == 1_500 * 10**6
    assert got.debt_repaid == 1_000 * 10**6
    assert got.collateral_to_liquidator == 522_500_000_000_000_000
    assert got.protocol_fee == 2_500_000_000_000_000
    assert got.collateral_removed == 525_000_000_000_000_000


def test_close_factor_around_0_95():
    above = liquidation_amounts_raw(MAX_UINT256, **dict(LIQ, health_factor=950_000_000_000_000_001))
    at = liquidation_amounts_raw(MAX_UINT256, **dict(LIQ, health_factor=950_000_000_000_000_000))
    below = liquidation_amounts_raw(MAX_UINT256, **dict(LIQ, health_factor=949_999_999_999_999_999))
    assert above.close_factor_bps == 5_000 and above.debt_repaid == 1_500 * 10**6
    assert at.close_factor_bps == 10_000 and at.debt_repaid == 3_000 * 10**6  # HF > 0.95e18 is 50 %, not >=
    assert below.close_factor_bps == 10_000
    with pytest.raises(InputError):
        liquidation_amounts_raw(1, **dict(LIQ, health_factor=WAD))
    with pytest.raises(InputError):
        liquidation_amounts_raw(1, **dict(LIQ, user_total_debt=0))


def test_liquidation_capped_by_collateral_balance():
    # 0.3 ETH left: all of it goes; debt needed = percentDiv(2000e8·3e17·1e6/(1e8·1e18) = 600e6, 10500)
    #   = (600e6·1e4 + 5250) // 10500 = 571_428_571
    got = liquidation_amounts_raw(1_500 * 10**6, **dict(LIQ, collateral_balance=3 * 10**17, protocol_fee_bps=0))
    assert got.debt_repaid == 571_428_571
    assert got.collateral_to_liquidator == 3 * 10**17 and got.protocol_fee == 0


def test_protocol_fee_clamped_to_remaining_scaled_balance():
    # scaled 15 at index 1.1 (+1e-27): balance = rayMul(15, idx) = 17 (16.5 rounds up); all of it is seized;
    # bonus part 17 − percentDiv(17, 10500) = 1, fee 50 % of 1 -> 1; the liquidator's 16 take
    # rayDiv(16, idx) = 15 (14.5… rounds up) scaled units: nothing is left, so the fee becomes rayMul(0, idx) = 0
    idx = 11 * 10**26 + 1
    kw = dict(LIQ, health_factor=9 * 10**17, user_total_debt=10**30, collateral_balance=17, collateral_price=10**8,
              collateral_unit=10**6, protocol_fee_bps=5_000)
    plain = liquidation_amounts_raw(MAX_UINT256, **kw)
    clamped = liquidation_amounts_raw(MAX_UINT256, **kw, collateral_scaled_balance=15, collateral_liquidity_index=idx)
    assert (plain.collateral_to_liquidator, plain.protocol_fee) == (16, 1)
    assert (clamped.collateral_to_liquidator, clamped.protocol_fee) == (16, 0)
