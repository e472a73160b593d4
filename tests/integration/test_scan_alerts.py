"""Alerts on the head snapshot: a JSON line (and webhook POST) when a rule starts or stops holding for a subject,
nothing while it stays the same; health factors equal the pool's own getUserAccountData."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from defirisk.api import scan
from defirisk.devnet import aave_world
from defirisk.store.cache import Cache

from .scan_helpers import ENV, world_config

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]


class Hook:
    def __init__(self):
        self.posts: list[dict] = []
        hook = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                hook.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def chain_hfs(world) -> dict[str, float]:
    """Health factor of each world borrower with debt, from the pool itself."""
    k = aave_world.kit_from_world(world)
    out = {}
    for w in world.facts["aave_v3"]["borrowers"].values():
        d = k.pool_view("getUserAccountData", w)
        if int(d[1]) > 0:
            out[w] = int(d[5]) / 1e18
    return out


def lines(p) -> list[dict]:
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def test_alerts_fire_once_per_state_change(world, book_file, anvil, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, anvil.url)
    hook = Hook()
    hf_out, lp_out = tmp_path / "hf.jsonl", tmp_path / "lp.jsonl"
    try:
        cfg = world_config(world, book_file, wallets=True, alerts=[
            {"rule": "health_factor < 1.1", "output": str(hf_out), "webhook": hook.url},
            {"rule": "lp_out_of_range", "output": str(lp_out)},
        ])
        pool = world.facts["aave_v3"]["pool"]
        path = tmp_path / "c.duckdb"

        s1 = scan(cfg, cache=path)
        hfs = chain_hfs(world)
        low = {w for w, hf in hfs.items() if hf < 1.1}
        assert low and low != set(hfs)  # the world has borrowers on both sides
        first = lines(hf_out)
        assert {(d["subject"], d["state"]) for d in first} == {(f"aave_v3:{pool}:{w}", "firing") for w in low}
        for d in first:
            assert d["value"] == pytest.approx(hfs[d["owner"]], rel=1e-15)
            assert d["block"] == s1["head"] and d["rule"] == "health_factor < 1.1"
        assert hook.posts == first
        with Cache(path, read_only=True) as c:  # the borrowers' snapshot: health factors as the pool gives them
            r = c.query("SELECT position_id, health_factor FROM results WHERE protocol = 'aave_v3' "
                        "AND health_factor IS NOT NULL AND position_id NOT LIKE '%:%'")  # account rows, not per asset
        assert dict(zip(r.position_id, r.health_factor)) == pytest.approx(hfs, rel=1e-15)

        out_of_range = {(d["subject"], d["state"]) for d in lines(lp_out)}
        with Cache(path, read_only=True) as c:
            pos = c.query("SELECT payload FROM run_payloads p JOIN runs r USING (run_id) WHERE r.kind = 'wallet'")
        positions = json.loads(pos.payload[0])["positions"]
        expect = {(f"{p['protocol']}:{p['id']}", "firing") for p in positions if p["kind"] in ("npm", "direct") and not p["in_range"]}
        assert out_of_range == expect and expect

        world.chain.mine(1)
        scan(cfg, cache=path)  # nothing changed: nothing said
        assert lines(hf_out) == first and len(lines(lp_out)) == len(expect) and len(hook.posts) == len(first)

        weth = aave_world.get_price(world.chain, world, "WETH")
        aave_world.set_price(world.chain, world, "WETH", weth * 3 // 2)  # WETH collateral is worth more
        world.chain.mine(1)
        scan(cfg, cache=path)
        hfs2 = chain_hfs(world)
        low2 = {w for w, hf in hfs2.items() if hf < 1.1}
        assert low2 != low
        new = lines(hf_out)[len(first):]
        assert {(d["subject"], d["state"]) for d in new} == (
            {(f"aave_v3:{pool}:{w}", "cleared") for w in low - low2} | {(f"aave_v3:{pool}:{w}", "firing") for w in low2 - low})
        assert hook.posts == lines(hf_out)
    finally:
        hook.close()


def test_distance_to_liquidation_is_the_price_move_that_flips_the_pools_health_factor(world, book_file, anvil, monkeypatch, tmp_path):
    """The snapshot's distance_to_liquidation_pct for a WETH-collateral, USDC-debt borrower: moving WETH down by
    0.1% less keeps getUserAccountData's health factor above 1, by 0.1% more takes it below."""
    monkeypatch.setenv(ENV, anvil.url)
    out = tmp_path / "d.jsonl"
    cfg = world_config(world, book_file, alerts=[{"rule": "distance_to_liquidation_pct < 20", "output": str(out)}])
    scan(cfg, cache=tmp_path / "c.duckdb")
    who = world.facts["aave_v3"]["borrowers"]["aave_close"]
    d = {x["owner"]: x["value"] for x in lines(out)}
    assert 0 < d[who] < 20
    weth = aave_world.get_price(world.chain, world, "WETH")
    for factor, below in ((1 - 0.999 * d[who] / 100, False), (1 - 1.001 * d[who] / 100, True)):
        aave_world.set_price(world.chain, world, "WETH", int(weth * factor))
        world.chain.mine(1)
        assert (chain_hfs(world)[who] < 1) == below
