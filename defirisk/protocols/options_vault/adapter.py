"""Options vaults (Ribbon-style theta vaults): adapter."""
from __future__ import annotations

from typing import Any

from ...chain.batch import Batch
from ...chain.node import ChainContext
from ...errors import NotAProtocolError
from ..options_vault import calls as ov
from ..adapter import Events, Family, ProbeAnswer


def _probe(b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
    vault = b.calls(ov.vault_calls(address))

    def answer() -> bool:
        try:
            ov.decode_vault_head(ctx.chain_id, address, code.value, [r.value for r in vault])
            return True
        except (NotAProtocolError, ValueError, TypeError, IndexError):  # not a vault
            return False

    return answer


OPTIONS_VAULT = Family(
    name="options_vault", view_kind="vault", book_keys=("options_vaults",),
    events={"options_vault": Events("RibbonThetaVault", (
        "Deposit", "InitiateWithdraw", "Redeem", "Withdraw", "InstantWithdraw", "CollectVaultFees",
        "OpenShort", "CloseShort", "NewOptionStrikeSelected", "Transfer",
    ))},
    scan_kinds={"vaults": ("options_vault",)},
    snapshot_kinds={"vaults": "vault"},
    wallet_part="options_vault",
    prober=_probe,
)
