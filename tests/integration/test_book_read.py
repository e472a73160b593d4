"""The book's read (defirisk/engine/book_read.py): every wallet's readers in one lockstep run, spot balances as one more
stage; a 5-wallet book costs the round trips of its longest single-wallet read, and what it reads is the chain's."""
from __future__ import annotations

import pytest

from defirisk.addressbook import load_address_book
from defirisk.api import analyze
from defirisk.engine.book_read import NATIVE, read_book, touched_tokens
from defirisk.chain.node import connect
from defirisk.devnet.book_world import NATIVE_WEI, add_market_maker

pytestmark = pytest.mark.anvil

ERC20_BALANCE = [{"name": "balanceOf", "type": "function", "stateMutability": "view",
                  "inputs": [{"name": "a", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]}]


def _read(url, book_file, wallets, balances=True):
    ctx = connect(url)
    r = read_book(ctx, load_address_book(ctx.chain_id, book_file), wallets, vol=None, horizon_days=7.0, balances=balances)
    return r, ctx.round_trips


def test_five_wallets_cost_the_longest_single_wallet(world, book_file, anvil):
    add_market_maker(world.chain, world)
    u = world.facts["uniswap"]["wallets"]
    wallets = [world.account("lp_alice"), world.account("mm_hedge"), u["lp_bob"], u["lp_carol"],
               world.facts["aave_v3"]["borrowers"]["aave_multi"]]
    for balances in (False, True):
        single = {w: _read(anvil.url, book_file, [w], balances)[1] for w in wallets}
        book, trips = _read(anvil.url, book_file, wallets, balances)
        assert trips == max(single.values()), (single, trips)
        assert [w.wallet for w in book.wallets] == wallets
    # without balances, a wallet's read is analyze's wallet read plus at most the two tick-map stages (bitmap words,
    # ticks of the deepest pools), which share requests with readers still running when there are any
    for w in wallets[:2]:
        a = analyze(w, rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
        assert a.rpc_round_trips <= _read(anvil.url, book_file, [w], False)[1] <= a.rpc_round_trips + 2


def test_the_book_keeps_every_reader_record(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    alice, hedge = f["wallets"]
    book, _ = _read(anvil.url, book_file, f["wallets"])
    ra, rh = book.wallets
    assert len(ra.lp.positions) == len(analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=False,
                                               kind="wallet").positions)
    assert [p.id for p in rh.lp.positions] == [str(f["lp_token_id"])]
    (acct,) = rh.parts["aave_v3"].snapshot.accounts
    assert {p.reserve.symbol for p in acct.positions} == {"WETH", "WBTC", "USDC"}
    assert rh.parts["aave_v3"].entries and rh.parts["aave_v3"].entries[0]["wallet"] == hedge
    assert ra.parts["options_vault"].positions and not rh.parts["options_vault"].positions
    # the tick maps of the deepest v3 pool per token (initialized ticks near the price, with their liquidityNet)
    from defirisk.engine.book_read import TICK_WINDOW
    maps = {a: t for r in book.wallets for a, t in r.lp.tick_liquidity.items()}
    pools = {a: p for r in book.wallets for a, p in r.lp.pools.items()}
    assert maps and all(ticks for ticks in maps.values())
    for a, ticks in maps.items():
        p = pools[a]
        assert all(t % p.tick_spacing == 0 and abs(t - p.tick) <= TICK_WINDOW + 256 * p.tick_spacing for t, _ in ticks)


def test_balances_equal_the_chain(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    book, _ = _read(anvil.url, book_file, f["wallets"])
    toks = touched_tokens(book.wallets)
    syms = {world.tokens.address[s] for s in ("WETH", "USDC", "WBTC", "DAI", "MKR")}
    assert syms <= set(toks)  # alice's LP touches all five demo tokens; the loan WETH, WBTC, USDC
    c = world.chain
    for w in f["wallets"]:
        got = book.balances[w]
        assert got[NATIVE] == int(c.rpc.request("eth_getBalance", [w, "latest"]), 16) == NATIVE_WEI
        for t in toks:
            assert got[t] == int(c.static(ERC20_BALANCE, t, "balanceOf", w))
    h = book.balances[f["wallets"][1]]
    # the borrowed USDC was sent away: 25,000 spot plus what the range's funding left (1 % over its half)
    assert world.tokens.raw("USDC", 25_000) < h[world.tokens.address["USDC"]] < world.tokens.raw("USDC", 25_101)
    no_bal, _ = _read(anvil.url, book_file, f["wallets"], balances=False)
    assert no_bal.balances == {} and not no_bal.balances_read


def test_an_empty_book_reads_nothing_but_the_pin(world, book_file, anvil):
    book, trips = _read(anvil.url, book_file, [])
    assert book.wallets == [] and book.balances == {} and trips == 1
