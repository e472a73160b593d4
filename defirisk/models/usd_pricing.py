"""USD prices of tokens through a graph of pools anchored on stablecoins (pure; stdlib).

Each pool is an edge between its two tokens carrying the price and the depth it offers. Starting from the
anchors (priced at 1 USD), the deepest edge from a priced token to an unpriced one is taken first (a
widest-path search), so every token is priced through the most liquid route and the route is reported.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass


@dataclass(frozen=True)
class PriceEdge:
    """A pool as a pricing edge: price of token0 in token1 (human units) and depth in each token (human)."""

    pool: str
    token0: str
    token1: str
    price: float  # token1 per token0
    depth0: float  # how much token0 the pool can absorb near the price (virtual or real reserve)
    depth1: float


@dataclass(frozen=True)
class UsdPrice:
    """A token's USD price and the pools it was derived through, anchor first."""

    token: str
    price: float
    path: tuple[str, ...]
    depth_usd: float


Graph = dict[str, dict[str, dict[str, PriceEdge]]]  # token -> neighbour -> pool -> edge (insertion order)


def build_graph(edges: list[PriceEdge]) -> Graph:
    """A multigraph of tokens with one edge per pool, as nested dicts (a graph library's ~0.2 s import is not
    worth it for one adjacency map: the search below is the widest-path loop)."""
    g: Graph = {}
    for e in edges:
        if e.price > 0 and e.depth0 > 0 and e.depth1 > 0:
            g.setdefault(e.token0, {}).setdefault(e.token1, {})[e.pool] = e
            g.setdefault(e.token1, {}).setdefault(e.token0, {})[e.pool] = e
    return g


def usd_prices(edges: list[PriceEdge], anchors: list[str]) -> dict[str, UsdPrice]:
    """USD price of every token reachable from an anchor (stablecoins at 1.0), via the deepest route."""
    g = build_graph(edges)
    out: dict[str, UsdPrice] = {a: UsdPrice(a, 1.0, (), float("inf")) for a in anchors}
    heap: list[tuple[float, int, str, str, PriceEdge]] = []
    counter = 0

    def push_from(tok: str) -> None:
        nonlocal counter
        p = out[tok].price
        for nb, pools in g.get(tok, {}).items():  # neighbours, then their pools, in the order they were added
            if nb in out:
                continue
            for e in pools.values():
                depth_usd = (e.depth0 if tok == e.token0 else e.depth1) * p
                bottleneck = min(depth_usd, out[tok].depth_usd)
                counter += 1
                heapq.heappush(heap, (-bottleneck, counter, tok, nb, e))

    for a in anchors:
        push_from(a)
    while heap:
        neg, _, src, dst, e = heapq.heappop(heap)
        if dst in out:
            continue
        ps = out[src].price
        price = ps * e.price if src == e.token1 else ps / e.price
        out[dst] = UsdPrice(dst, price, out[src].path + (e.pool,), -neg)
        push_from(dst)
    return out

