"""Connecting to a node and pinning one block: chain id, genesis hash, block number and hash, Multicall3 presence.

All of it costs one round trip; every later read of the analysis uses the pinned block. A chain is its chain id AND
its genesis block's hash (two local devnets, or a devnet and a public chain, can share a chain id).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, TypeVar

from ..errors import ConfigError, HistoricalStateError, InputError
from .calls import MULTICALL3, Call, execute
from .rpc import RpcClient, RpcReplyError

if TYPE_CHECKING:
    from .logs import KnownLogs

T = TypeVar("T")
R = TypeVar("R")


class Spread(Protocol):
    """Runs `fn(ctx, item)` for every item elsewhere, each at the same pinned block with its own ChainContext (`fn` a
    module-level function or a functools.partial of one: it travels), and returns the results in item order."""

    def __call__(self, fn: Callable[[ChainContext, T], R], items: Sequence[T]) -> list[R]: ...

RPC_ENV_VARS = ("DEFIRISK_RPC_URL", "ETH_RPC_URL")
DEV_NODES = ("anvil", "hardhat", "ganache")  # web3_clientVersion prefixes of local development nodes


def resolve_rpc_url(explicit: str | None) -> str:
    """The RPC URL: `--rpc-url`, else $DEFIRISK_RPC_URL, else $ETH_RPC_URL."""
    if explicit:
        return explicit
    for var in RPC_ENV_VARS:
        if os.environ.get(var):
            return os.environ[var]
    raise ConfigError("no RPC URL: pass --rpc-url, or set DEFIRISK_RPC_URL (or ETH_RPC_URL)")


@dataclass
class ChainContext:
    """A node pinned at one block; the only handle protocol adapters get."""

    client: RpcClient
    chain_id: int
    block: int
    block_hash: str
    timestamp: int
    multicall: str | None
    known_logs: KnownLogs | None = None  # logs held elsewhere (a scan's cache): batches take them from it
    genesis_hash: str = ""  # hash of block 0: with chain_id, what identifies the chain (the cache's key)
    dev_node: bool = False  # a local development node (Anvil, Hardhat, Ganache): a fork of it keeps the genesis of
    # the chain it forks, so the cache keeps a dev node's rows apart from the public chain's
    spread: Spread | None = None  # where a large read may run its parts at once (a scan's Dask cluster); None: here

    def call(self, calls: Sequence[Call]) -> list[Any]:
        """Execute contract reads at the pinned block, batched."""
        return execute(self.client, calls, block=self.block, multicall=self.multicall)

    def batch(self, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Raw JSON-RPC requests in one batch (the caller pins the block in params)."""
        return self.client.batch(requests)

    @property
    def round_trips(self) -> int:
        return self.client.round_trips


def block_number(value: int | str | None) -> int | None:
    """A block as given by a user: None or "latest" (the head), a decimal or 0x-hex number; else InputError."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "latest"):
        return None
    if isinstance(value, bool):
        raise InputError(f"--block must be a block number, 0x-hex or 'latest', not {value!r}")
    if isinstance(value, int):
        n = value
    else:
        t = value.strip().lower().replace("_", "")
        try:
            n = int(t, 16) if t.startswith("0x") else int(t, 10)
        except ValueError:
            raise InputError(f"--block takes a block number (12345678), 0x-hex (0xbc614e) or 'latest', not {value!r}") from None
    if n < 0:
        raise InputError(f"--block must be a non-negative block number, not {value}")
    return n


def connect(
    rpc_url: str | None = None,
    *,
    block: int | str | None = None,
    expected_chain_id: int | None = None,
    client: RpcClient | None = None,
    use_multicall: bool = True,
) -> ChainContext:
    """Open a node and pin `block` (default: latest), checking it exists and has state."""
    block = block_number(block)
    client = client or RpcClient(resolve_rpc_url(rpc_url))
    tag = "latest" if block is None else hex(block)
    reqs: list[tuple[str, list]] = [
        ("eth_chainId", []),
        ("eth_getBlockByNumber", [tag, False]),
        ("eth_blockNumber", []),
        ("eth_getCode", [MULTICALL3, tag]),  # doubles as the archive-state probe
        ("eth_getBlockByNumber", ["0x0", False]),  # the genesis: with the chain id, the chain's identity
        ("web3_clientVersion", []),  # a dev node (a fork keeps the public chain's genesis)
    ]
    try:
        chain_hex, blk, head_hex, mc_code, genesis, version = client.batch(reqs)
    except HistoricalStateError:
        head = int(client.request("eth_blockNumber"), 16)  # error path only: future or pruned?
        if block is not None and block > head:
            raise InputError(f"--block {block} is in the future: the node's latest block is {head}") from None
        raise HistoricalStateError(
            f"the node has no state at block {block}; it is not an archive node, or that block is pruned: "
            "use an archive node or a more recent --block"
        ) from None
    for r in (chain_hex, head_hex):
        if isinstance(r, RpcReplyError):
            raise ConfigError(f"the node did not answer basic requests ({r.message})")
    chain_id, head = int(chain_hex, 16), int(head_hex, 16)
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise ConfigError(f"the node serves chain {chain_id}, but chain {expected_chain_id} was expected")
    if blk is None or isinstance(blk, RpcReplyError):
        if block is not None and block > head:
            raise InputError(f"--block {block} is in the future: the node's latest block is {head}")
        raise InputError(f"the node does not know block {block}")
    if isinstance(mc_code, RpcReplyError):
        raise HistoricalStateError(
            f"the node has no state at block {block} ({mc_code.message}); use an archive node or a more recent --block"
        )
    has_mc = use_multicall and isinstance(mc_code, str) and len(mc_code) > 2
    return ChainContext(
        client=client,
        chain_id=chain_id,
        block=int(blk["number"], 16),
        block_hash=blk["hash"],
        timestamp=int(blk["timestamp"], 16),
        multicall=MULTICALL3 if has_mc else None,
        genesis_hash=genesis["hash"] if isinstance(genesis, dict) and genesis.get("hash") else "",
        dev_node=isinstance(version, str) and version.lower().startswith(DEV_NODES),
    )
