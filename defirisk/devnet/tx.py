"""Sending transactions to the local chain from Anvil's unlocked accounts, in JSON-RPC batches."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

from eth_abi import encode as abi_encode
from ..checksum import to_checksum_address

from .. import abi
from ..chain.rpc import RpcClient
from ..errors import RpcError
from ..errors import DefiriskError
from .artifacts import Artifact


TX_GAS = 12_000_000


@dataclass(frozen=True)
class Tx:
    """One transaction: `to=None` deploys `data` as creation code."""

    sender: str
    to: str | None
    data: bytes
    value: int = 0
    label: str = ""


class Chain:
    """A local chain driven over raw JSON-RPC: deploy, transact, snapshot, cheat codes."""

    def __init__(self, url: str):
        self.url = url
        self.rpc = RpcClient(url, max_batch=500)
        self.accounts: list[str] = [to_checksum_address(a) for a in self.rpc.request("eth_accounts")]

    # -- transactions ------------------------------------------------------------------------------
    def send_many(self, txs: Sequence[Tx]) -> list[dict]:
        """Send txs in order (automine gives each its block) and return their receipts."""
        if not txs:
            return []
        # One request at a time, in order: Anvil's pool can strand transactions that arrive out of nonce
        # order inside a JSON-RPC batch. Sequential sends over one keep-alive session still reach
        # hundreds of transactions per second; receipts are then read in one batch.
        hashes = []
        for t in txs:
            p: dict[str, Any] = {"from": t.sender, "data": "0x" + t.data.hex(), "gas": hex(TX_GAS)}
            if t.to:
                p["to"] = t.to
            if t.value:
                p["value"] = hex(t.value)
            try:
                hashes.append(self.rpc.request("eth_sendTransaction", [p]))
            except RpcError as e:
                raise DefiriskError(f"devnet transaction {t.label or '?'} failed: {e}") from None
        receipts = self._receipts(hashes)
        for t, r in zip(txs, receipts):
            if not isinstance(r, dict) or r.get("status") != "0x1":
                raise DefiriskError(f"devnet transaction {t.label or '?'} reverted{self._revert_reason(t, r)}")
        return receipts

    def send_block(self, txs: Sequence[Tx]) -> list[dict]:
        """Send txs in order as ONE block (automine paused, explicit nonces) and return their receipts.

        Same contract as `Chain.send_many`, which sends one transaction at a time because Anvil's automine
        strands out-of-order nonces inside a JSON-RPC batch (foundry-rs/foundry#10122). With automine off
        the pool orders each sender's nonces before anything is mined, so the whole list can go in one
        batch; one `evm_mine` then includes it all (the block gas limit is raised for that block and
        restored after). For the Uniswap demo world: ~2.5 s instead of ~8-10 s.
        """
        if not txs:
            return []
        rpc = self.rpc
        gas_limit = rpc.request("eth_getBlockByNumber", ["latest", False])["gasLimit"]
        rpc.request("evm_setAutomine", [False])
        try:
            rpc.request("evm_setBlockGasLimit", [hex(max(int(gas_limit, 16), TX_GAS * (len(txs) + 1)))])
            senders = list(dict.fromkeys(t.sender for t in txs))
            nonce = {s: int(n, 16) for s, n in zip(senders, rpc.batch(("eth_getTransactionCount", [s, "pending"]) for s in senders))}
            reqs = []
            for t in txs:
                p: dict[str, Any] = {"from": t.sender, "data": "0x" + t.data.hex(), "nonce": hex(nonce[t.sender]), "gas": hex(TX_GAS)}
                nonce[t.sender] += 1
                if t.to:
                    p["to"] = t.to
                if t.value:
                    p["value"] = hex(t.value)
                reqs.append(("eth_sendTransaction", [p]))
            hashes = rpc.batch(reqs)
            for t, h in zip(txs, hashes):
                if not isinstance(h, str):
                    rpc.request("anvil_dropAllTransactions")
                    raise DefiriskError(f"devnet transaction {t.label or '?'} failed: {getattr(h, 'message', h)}")
            rpc.request("evm_mine")
            receipts = rpc.batch(("eth_getTransactionReceipt", [h]) for h in hashes)
        finally:
            rpc.request("evm_setBlockGasLimit", [gas_limit])
            rpc.request("evm_setAutomine", [True])
        for t, r in zip(txs, receipts):
            if not isinstance(r, dict):
                raise DefiriskError(f"devnet transaction {t.label or '?'} was not mined; txpool {rpc.request('txpool_status')}")
            if r.get("status") != "0x1":
                raise DefiriskError(f"devnet transaction {t.label or '?'} reverted{self._revert_reason(t, r)}")
        return receipts

    def _receipts(self, hashes: Sequence[str], timeout: float = 60.0) -> list[Any]:
        """Receipts of sent transactions; Anvil may still be mining the tail of a batch."""
        deadline = time.monotonic() + timeout
        receipts = self.rpc.batch(("eth_getTransactionReceipt", [h]) for h in hashes)
        while any(r is None for r in receipts):
            if time.monotonic() > deadline:
                raise DefiriskError("devnet transactions were not mined in time")
            time.sleep(0.02)
            missing = [i for i, r in enumerate(receipts) if r is None]
            for i, r in zip(missing, self.rpc.batch(("eth_getTransactionReceipt", [hashes[i]]) for i in missing)):
                receipts[i] = r
        return receipts

    def _revert_reason(self, t: Tx, receipt: Any) -> str:
        """Replay a failed tx as eth_call at its parent block to learn the revert reason."""
        if not isinstance(receipt, dict):
            return ""
        p: dict[str, Any] = {"from": t.sender, "data": "0x" + t.data.hex(), "gas": hex(TX_GAS)}
        if t.to:
            p["to"] = t.to
        try:
            self.rpc.request("eth_call", [p, hex(int(receipt["blockNumber"], 16) - 1)])
        except Exception as e:  # noqa: BLE001 - only for the message
            return f": {e}"
        return ""

    def send(self, tx: Tx) -> dict:
        """Send one transaction and return its receipt."""
        return self.send_many([tx])[0]

    def deploy_tx(self, art: Artifact, *args: Any, sender: str, libraries: dict[str, str] | None = None) -> Tx:
        """The transaction deploying `art` with constructor `args`."""
        ctor = next((e for e in art.abi if e.get("type") == "constructor"), None)
        types = [abi._type_str(p) for p in ctor["inputs"]] if ctor else []
        code = art.linked(libraries or {}) + (abi_encode(types, list(args)) if types else b"")
        return Tx(sender, None, code, 0, f"deploy {art.name}")

    def deploy(self, art: Artifact, *args: Any, sender: str | None = None, libraries: dict[str, str] | None = None) -> str:
        """Deploy `art` and return its checksummed address."""
        r = self.send(self.deploy_tx(art, *args, sender=sender or self.accounts[0], libraries=libraries))
        return to_checksum_address(r["contractAddress"])

    def deploy_many(self, txs: Sequence[Tx]) -> list[str]:
        """Send deploy transactions in one batch; their addresses in order."""
        return [to_checksum_address(r["contractAddress"]) for r in self.send_many(txs)]

    @staticmethod
    def call_tx(art_or_abi: Artifact | Sequence[dict], to: str, fn: str, *args: Any, sender: str, value: int = 0) -> Tx:
        """The transaction calling `fn(*args)` on `to`."""
        entries = art_or_abi.abi if isinstance(art_or_abi, Artifact) else art_or_abi
        f = abi.find_function(entries, fn, len(args))
        return Tx(sender, to, f.encode(*args), value, f"{fn} on {to}")

    def transact(self, art_or_abi: Artifact | Sequence[dict], to: str, fn: str, *args: Any, sender: str, value: int = 0) -> dict:
        """Call `fn(*args)` on `to` in a transaction; its receipt."""
        return self.send(self.call_tx(art_or_abi, to, fn, *args, sender=sender, value=value))

    def static(self, art_or_abi: Artifact | Sequence[dict], to: str, fn: str, *args: Any, sender: str | None = None, block: str = "latest") -> Any:
        """eth_call of `fn(*args)` on `to` (optionally from `sender`); decoded tuple or single value."""
        entries = art_or_abi.abi if isinstance(art_or_abi, Artifact) else art_or_abi
        f = abi.find_function(entries, fn, len(args))
        p: dict[str, Any] = {"to": to, "data": "0x" + f.encode(*args).hex()}
        if sender:
            p["from"] = sender
        raw = bytes.fromhex(self.rpc.request("eth_call", [p, block])[2:])
        vals = f.decode(raw)
        return vals[0] if len(vals) == 1 else vals

    # -- node control --------------------------------------------------------------------------------
    def block_number(self) -> int:
        return int(self.rpc.request("eth_blockNumber"), 16)

    def snapshot(self) -> str:
        return self.rpc.request("evm_snapshot")

    def revert(self, snap: str) -> None:
        if not self.rpc.request("evm_revert", [snap]):
            raise DefiriskError(f"evm_revert({snap}) failed")

    def mine(self, blocks: int = 1) -> None:
        self.rpc.request("anvil_mine", [hex(blocks)])

    def set_next_timestamp(self, ts: int) -> None:
        self.rpc.request("evm_setNextBlockTimestamp", [hex(ts)])

    def increase_time(self, seconds: int) -> None:
        self.rpc.request("evm_increaseTime", [hex(seconds)])

    def set_code(self, address: str, code_hex: str) -> None:
        self.rpc.request("anvil_setCode", [address, code_hex if code_hex.startswith("0x") else "0x" + code_hex])

    def set_storage(self, address: str, slot: int, value: int) -> None:
        self.rpc.request("anvil_setStorageAt", [address, hex(slot), "0x" + value.to_bytes(32, "big").hex()])

    def impersonate(self, address: str) -> None:
        self.rpc.request("anvil_impersonateAccount", [address])
        self.rpc.request("anvil_setBalance", [address, hex(10**21)])

    def timestamp(self) -> int:
        return int(self.rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
