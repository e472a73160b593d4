import math

import pytest

from defirisk.models.usd_pricing import PriceEdge, usd_prices


def test_two_hop_route_and_deepest_edge_wins():
    edges = [
        PriceEdge("shallow", "WETH", "USDC", 2900.0, 1.0, 2900.0),
        PriceEdge("deep", "WETH", "USDC", 3000.0, 1000.0, 3_000_000.0),
        PriceEdge("mkr", "MKR", "WETH", 0.5, 100.0, 50.0),
    ]
    p = usd_prices(edges, ["USDC"])
    assert p["WETH"].price == pytest.approx(3000.0)
    assert p["WETH"].path == ("deep",)
    assert p["MKR"].price == pytest.approx(1500.0)
    assert p["MKR"].path == ("deep", "mkr")


def test_token1_side_and_unreachable():
    edges = [PriceEdge("p", "USDC", "WBTC", 1 / 60000, 6e6, 100.0)]
    p = usd_prices(edges, ["USDC"])
    assert math.isclose(p["WBTC"].price, 60000.0)
    assert "XYZ" not in usd_prices(edges + [PriceEdge("q", "XYZ", "ABC", 1.0, 1.0, 1.0)], ["USDC"])


def test_empty_pools_are_not_edges():
    p = usd_prices([PriceEdge("dead", "WETH", "USDC", 3000.0, 0.0, 0.0)], ["USDC"])
    assert "WETH" not in p
