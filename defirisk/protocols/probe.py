"""What an address is: the view kind of the first registered family that recognises it (a Uniswap pool, an Aave
v3 market, an options vault), or else a wallet; and which of several addresses are options vaults."""
from __future__ import annotations

from ..addressbook import AddressBook
from ..chain.batch import Batch
from ..chain.calls import CallFailed, call
from ..chain.node import ChainContext
from ..errors import NotAProtocolError
from .morpho_blue import calls as mc
from .options_vault import calls as ov
from .registry import FAMILIES


def probe_kind(ctx: ChainContext, address: str) -> str:
    """The view kind of the first registered family that recognises `address` ('pool', 'market', 'vault'), else
    'wallet'. Every family's recognition reads share one batch: one round trip."""
    b = Batch(ctx)
    code = b.raw("eth_getCode", [address, hex(ctx.block)])
    answers = [(f.view_kind, f.probe(b, ctx, address, code)) for f in FAMILIES if f.view_kind is not None]
    b.run()
    for kind, recognised in answers:
        if recognised():
            return kind
    return "wallet"


def id_kind(ctx: ChainContext, book: AddressBook, ident: str) -> str:
    """What a 32-byte id names: "pool" (an initialized Uniswap v4 pool of the book's StateView) or "market" (a created
    Morpho Blue market of the book's Morpho), read in one round trip; "pool" when neither (the v4 view says why)."""
    b = Batch(ctx)
    v4 = b.call(call("V4StateView", book.get("uniswap_v4", "state_view"), "getSlot0", bytes.fromhex(ident[2:]),
                     allow_failure=True)) if book.has("uniswap_v4") else None
    morpho = b.call(mc.market_calls(book.get("morpho_blue", "morpho"), ident)[1]) if book.has("morpho_blue") else None
    if v4 is None and morpho is None:
        return "pool"
    b.run()
    if v4 is not None and isinstance(v4.value, tuple) and v4.value[0]:
        return "pool"
    if morpho is not None and not isinstance(morpho.value, CallFailed) and morpho.value.last_update:
        return "market"
    return "pool"


def vaults_among(ctx: ChainContext, addresses: list[str]) -> list[str]:
    """The addresses that are options vaults (every address read in one round trip; none for an empty list)."""
    if not addresses:
        return []
    b = Batch(ctx)
    probes = [(a, b.raw("eth_getCode", [a, hex(ctx.block)]), b.calls(ov.vault_calls(a))) for a in addresses]
    b.run()
    out = []
    for a, code, vault in probes:
        try:
            ov.decode_vault_head(ctx.chain_id, a, code.value, [r.value for r in vault])
            out.append(a)
        except (NotAProtocolError, ValueError, TypeError, IndexError):
            pass
    return out
