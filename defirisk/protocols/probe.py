"""What an address is: a Uniswap pool, an Aave v3 market, an options vault, or else a wallet (one round trip)."""
from __future__ import annotations

from ..chain.batch import Batch
from ..chain.node import ChainContext
from ..errors import NotAProtocolError
from . import aave_v3 as av
from . import options_vault as ov
from .uniswap_reader import PoolReads


def probe_kind(ctx: ChainContext, address: str) -> str:
    """'pool' (v3 pool or v2 pair), 'market' (Aave v3 Pool or provider), 'vault' (theta vault) or 'wallet'."""
    b = Batch(ctx)
    reads = PoolReads()
    reads.add_v3(b, [address])
    reads.add_v2(b, [address])
    code = b.raw("eth_getCode", [address, hex(ctx.block)])
    market = b.calls(av.probe_calls(address))
    vault = b.calls(ov.vault_calls(address))
    b.run()
    if reads.records():
        return "pool"
    try:
        av.decode_probe(address, code.value, [r.value for r in market])
        return "market"
    except NotAProtocolError:
        pass
    try:
        ov.decode_vault_head(ctx.chain_id, address, code.value, [r.value for r in vault])
        return "vault"
    except (NotAProtocolError, ValueError, TypeError, IndexError):  # not a vault: a wallet (EOA or other contract)
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
