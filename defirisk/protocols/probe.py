"""What an address is: the view kind of the first registered family that recognises it (a Uniswap pool, an Aave
v3 market, an options vault), or else a wallet; and which of several addresses are options vaults."""
from __future__ import annotations

from ..chain.batch import Batch
from ..chain.node import ChainContext
from ..errors import NotAProtocolError
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
