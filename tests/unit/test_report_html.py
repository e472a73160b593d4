"""The HTML report's pure parts: chart specs from documents, the page's inline JSON, no external URL."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from defirisk.report import html_charts as charts
from defirisk.report.html_page import figures_json, page

WETH = "0x" + "11" * 20


def _scenario(name: str, move: float, full: float, liquidated: list[str] | None = None, **kw: float) -> dict:
    return {"name": name, "shocks": {WETH: move, "WETH": move}, "vol": kw.get("vol", 0.0), "depth": 0.0, "days": 0.0,
            "pnl_full_usd": full, "pnl_delta_usd": 10 * move, "pnl_delta_gamma_usd": 9 * move,
            "liquidated": liquidated or []}


BOOK = {"book": {"main_factor": WETH, "factors": [{"token": WETH, "symbol": "WETH"}]},
        "scenarios": [_scenario("WETH +10%", 0.1, 1.0), _scenario("WETH -10%", -0.1, -1.5, ["pool:0xabc"]),
                      _scenario("vol x2", 0.0, -0.2, vol=1.0), _scenario("var_0.99", -0.05, -0.7)]}


def test_book_curve_from_the_documents_grid_scenarios():
    fig = charts.book_curve(BOOK, lending=[{"wallet": "0xabc", "assets": [{"asset": WETH, "distance_pct": -42.0}]}])
    full, delta, dg, liq = fig["data"]
    assert full["x"] == [-10.0, 0.0, 10.0] and full["y"] == [-1.5, 0.0, 1.0]  # sorted, through (0, 0); vol/VaR left out
    assert delta["y"] == pytest.approx([-1.0, 0.0, 1.0]) and dg["y"] == pytest.approx([-0.9, 0.0, 0.9])
    assert liq["x"] == [-10.0] and liq["y"] == [-1.5]
    assert [s["x0"] for s in fig["layout"]["shapes"]] == [-42.0]  # the loan's liquidation price of WETH


def test_book_curve_takes_the_live_grid_and_drops_unknowns():
    moves = np.array([-0.5, 0.0, 0.5])
    fig = charts.book_curve(BOOK, (moves, np.array([-3.0, 0.0, math.nan]), moves, moves))
    assert fig["data"][0]["x"] == [-50.0, 0.0, 50.0] and fig["data"][0]["y"] == [-3.0, 0.0, None]
    assert charts.book_curve({**BOOK, "book": {**BOOK["book"], "main_factor": None}}) is None


def test_var_histogram_is_binned_and_marks_var_and_es():
    rng = np.random.default_rng(1)
    var = [{"level": 0.99, "method": "montecarlo", "horizon_days": 1.0, "var_usd": 2.3, "es_usd": 2.6}]
    fig = charts.var_histogram(var, {"montecarlo": rng.normal(size=5000)})
    (bars,) = fig["data"]
    assert len(bars["x"]) == 80 and sum(bars["y"]) == pytest.approx(1.0)
    assert [s["x0"] for s in fig["layout"]["shapes"]] == [-2.3, -2.6]
    assert charts.var_histogram([], None) is None
    assert "answered from the cache" in charts.var_histogram(var, None)["layout"]["title"]["text"]


def test_liquidation_ladder_nearest_first():
    lending = [{"wallet": "0xaaaa", "health_factor": 1.5, "assets": [
        {"symbol": "WETH", "distance_pct": -48.0, "liquidation_price_usd": 1500.0},
        {"symbol": "USDC", "distance_pct": 50.0, "liquidation_direction": "rise", "liquidation_price_usd": 1.5},
        {"symbol": "WBTC", "distance_pct": None}]}]
    borrowers = [{"wallet": "0xbbbb", "nearest_distance_pct": -3.0, "nearest_asset": "USDC", "health_factor": 0.97,
                  "debt_usd": 10.0}]
    (bar,) = charts.liquidation_ladder(lending, borrowers)["data"]
    assert bar["x"] == [50.0, -48.0, -3.0]  # drawn bottom-up: the nearest on top
    assert "(debt)" in bar["y"][0] and "(market)" in bar["y"][2]
    assert charts.liquidation_ladder([], []) is None


def test_figures_json_is_safe_inside_a_script():
    text = figures_json({"c": {"layout": {"title": {"text": "</script><script>alert(1)</script>"}}}})
    assert "</script" not in text and json.loads(text)["c"]["layout"]["title"]["text"].startswith("</script>")
    with pytest.raises(ValueError):
        figures_json({"c": {"y": [math.nan]}})  # unknown values must be null, never NaN


def test_the_page_has_no_external_url():
    html = page("a <b> title", "sub", [("summary", "Summary")], "<p>x</p>", {"chart1": {"data": [], "layout": {}}},
                "var Plotly = {}; // https://plot.ly </script>")
    assert "<title>a &lt;b&gt; title</title>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert html.count("</script>") == 3  # the bundle's own "</script" is escaped
