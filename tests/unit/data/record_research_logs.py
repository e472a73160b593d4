"""Record real devnet logs for the research-loader unit tests (run by hand; writes research_logs.json beside it).

    .venv/bin/python tests/unit/data/record_research_logs.py

Builds the demo world on a fresh Anvil (Uniswap v2/v3 + Aave v3) and keeps, verbatim as eth_getLogs returned
them: every log of the WETH/USDC-500 v3 pool, of the WETH/USDC v2 pair, of the position manager and of the
Aave pool (with its real LiquidationCall); the headers of the blocks holding them; token and pool facts; and
each pool's state (slot0 / getReserves) at the last recorded block, read from the contracts.
"""
from __future__ import annotations

import json
from pathlib import Path

from defirisk import abi
from defirisk.chain.logs import LogFilter, fetch_logs
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import _arts, static_many
from defirisk.devnet.world import build_world

OUT = Path(__file__).with_name("research_logs.json")


def main() -> None:
    with Anvil() as node:
        chain = Chain(node.url)
        world = build_world(chain, ["uniswap", "aave_v3", "options_vaults"])
        u, a = world.facts["uniswap"], world.facts["aave_v3"]
        pool = u["pool_info"]["WETH/USDC-500"]
        pair = u["pair_info"]["WETH/USDC"]
        head = chain.block_number()
        addrs = {"v3_pool": pool["address"], "v2_pair": pair["address"], "npm": u["position_manager"], "aave_pool": a["pool"],
                 "vault": world.book["options_vaults"][0]}
        logs = fetch_logs(chain.rpc, LogFilter(0, head, address=list(addrs.values())))
        blocks = sorted({int(lg["blockNumber"], 16) for lg in logs})
        headers = chain.rpc.batch(("eth_getBlockByNumber", [hex(b), False]) for b in blocks)
        arts = _arts()
        slot0, reserves = static_many(chain, [(arts["pool"], pool["address"], "slot0", ()), (arts["pair"], pair["address"], "getReserves", ())])
        # the borrowers' account data (getUserAccountData) at a few blocks: before, at and after the liquidation
        liq_block = int(a["liquidations"][0]["block"])
        borrow_block = min(int(lg["blockNumber"], 16) for lg in logs if lg["address"].lower() == a["pool"].lower()
                           and lg["topics"][0] == abi.event("AavePool", "Borrow").topic0)
        snap_blocks = sorted({borrow_block, liq_block - 1, liq_block, head})
        snap_headers = chain.rpc.batch(("eth_getBlockByNumber", [hex(b), False]) for b in snap_blocks)
        fn = abi.function("AavePool", "getUserAccountData")
        borrowers = a["borrowers"]
        reqs = [("eth_call", [{"to": a["pool"], "data": "0x" + fn.encode(w).hex()}, hex(b)]) for b in snap_blocks for w in borrowers.values()]
        replies = iter(chain.rpc.batch(reqs))
        accounts = []
        for b, h in zip(snap_blocks, snap_headers):
            for role, w in borrowers.items():
                vals = fn.decode(bytes.fromhex(next(replies)[2:]))
                accounts.append({"block": b, "block_hash": h["hash"], "timestamp": int(h["timestamp"], 16), "role": role,
                                 "wallet": w, "total_collateral_base": str(vals[0]), "total_debt_base": str(vals[1]),
                                 "health_factor_raw": str(vals[5])})
        tok = world.tokens
        other = lambda info: tok.address[info["quote"]] if info["token0"] == tok.address[info["base"]] else tok.address[info["base"]]  # noqa: E731
        doc = {
            "chain_id": world.chain_id,
            "head": head,
            "addresses": addrs,
            "logs": logs,
            "blocks": [{k: h[k] for k in ("number", "hash", "parentHash", "timestamp")} for h in headers],
            "tokens": [{"address": tok.address[s], "symbol": s, "decimals": d} for s, d in tok.decimals.items()],
            "pools": [
                {"address": pool["address"], "protocol": "uniswap_v3", "token0": pool["token0"], "token1": other(pool), "fee": pool["fee"]},
                {"address": pair["address"], "protocol": "uniswap_v2", "token0": pair["token0"], "token1": other(pair), "fee": 3000},
            ],
            "state_at_head": {
                "v3_sqrt_price_x96": str(int(slot0[0])), "v3_tick": int(slot0[1]),
                "v2_reserve0": str(int(reserves[0])), "v2_reserve1": str(int(reserves[1])),
            },
            "aave_accounts": accounts,
            "aave_liquidations": [{k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in lq.items()} for lq in a["liquidations"]],
        }
    OUT.write_text(json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(logs)} logs, {len(blocks)} blocks)")


if __name__ == "__main__":
    main()
