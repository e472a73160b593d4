"""Plain records the options-vault reader produces: exact chain integers, read at one pinned block.

Units: `*_raw` and bare amounts are raw token units (the vault asset's decimals for assets, the vault's
share decimals for shares, 8 decimals for oTokens and for Gamma strike and expiry prices). Timestamps are
unix seconds. Nothing here is scaled to floats; see models/ for that.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ...chain.tokens import TokenInfo
from ...models.vault_shares import OTOKEN_DECIMALS, OTOKEN_UNIT  # noqa: F401  (re-exported: Gamma's fixed 8 decimals)

STATUS_LIVE = "live"  # a current option that has not expired
STATUS_EXPIRED = "expired_not_rolled"  # the current option expired; the keeper has not closed the round
STATUS_COMMITTED = "between_rounds"  # the old option was settled, the next one is chosen but not written yet
STATUS_IDLE = "no_option"  # no option at all (a new vault before its first roll)


@dataclass(frozen=True)
class OptionSeries:
    """One Gamma oToken: its series and, once posted, the oracle's expiry price (8 decimals, USD)."""

    address: str
    underlying: str
    strike_asset: str
    collateral_asset: str
    strike_price_raw: int  # 8 decimals
    expiry: int
    is_put: bool
    decimals: int  # what decimals() answers; Gamma amounts always use 8
    symbol: str
    total_supply: int
    expiry_price_raw: int | None = None  # None until the oracle has a price for (underlying, expiry)
    expiry_price_final: bool = False


@dataclass(frozen=True)
class ShortPosition:
    """The vault's latest Gamma margin vault: oTokens written against collateral."""

    controller: str
    vault_id: int
    otoken: str | None
    short_amount: int  # oToken units (8 decimals)
    collateral_asset: str | None
    collateral_amount: int  # collateral raw units


@dataclass(frozen=True)
class VaultRecord:
    """A Ribbon-v2-style theta vault at the pinned block (raw units; see the module doc).

    `queued_withdraw_shares` are shares queued in PAST rounds (their asset, `last_queued_withdraw_amount`,
    is set aside and no longer rides the option); `current_queued_withdraw_shares` were queued this round
    and still ride it. `round_start_price_per_share` is roundPricePerShare[round - 1], the price at which
    the current round began (0 in round 1).
    """

    chain_id: int
    block: int
    timestamp: int
    address: str
    name: str
    symbol: str
    decimals: int
    is_put: bool
    asset: str
    underlying: str
    minimum_supply: int
    cap: int
    round: int
    locked_amount: int
    last_locked_amount: int
    total_pending: int
    queued_withdraw_shares: int
    current_queued_withdraw_shares: int
    last_queued_withdraw_amount: int
    next_option: str | None
    current_option: str | None
    next_option_ready_at: int
    total_supply: int
    total_balance: int
    price_per_share: int
    asset_balance: int
    round_start_price_per_share: int
    asset_token: TokenInfo
    underlying_token: TokenInfo
    strike_token: TokenInfo | None = None
    option: OptionSeries | None = None
    short: ShortPosition | None = None
    unsold_otokens: int = 0  # oTokens of the current option the vault itself still holds
    performance_fee: int | None = None  # 6 decimals (20 * 10**6 = 20 %); None where the getter is missing
    management_fee: int | None = None  # per round, as the contract stores it
    status: str = STATUS_IDLE
    warnings: tuple[str, ...] = field(default=())

    @property
    def zero_supply(self) -> bool:
        """No vault shares exist: per-share numbers are undefined."""
        return self.total_supply == 0

    @property
    def option_expired(self) -> bool:
        """The current option has expired and the round has not been closed."""
        return self.status == STATUS_EXPIRED

    @property
    def active_shares(self) -> int:
        """Shares riding the current round: all shares but those queued for withdrawal in past rounds."""
        return self.total_supply - self.queued_withdraw_shares

    @property
    def active_assets(self) -> int:
        """Asset riding the current round: the total balance less pending deposits and past withdrawals set aside."""
        return self.total_balance - self.total_pending - self.last_queued_withdraw_amount


@dataclass(frozen=True)
class DepositorRecord:
    """One account's position in one vault (raw units); the vault's own getters, unchanged.

    `held_by_vault` are unredeemed shares (a past deposit converted at its round's price and not yet
    claimed). A receipt of the current round (`receipt_round == vault_round`) is a pending deposit that
    becomes shares when the round closes. A withdrawal of the current round still rides the option; one of
    a past round is a fixed amount, `withdrawal_shares * withdrawal_price_per_share / 10**decimals`.
    `account_vault_balance` is the contract's accountVaultBalance: held plus unredeemed shares at the
    current price per share, without pending deposits or queued withdrawals.
    """

    vault: str
    account: str
    vault_round: int
    decimals: int
    held_by_account: int
    held_by_vault: int
    shares: int
    receipt_round: int
    receipt_amount: int
    receipt_unredeemed: int
    withdrawal_round: int
    withdrawal_shares: int
    account_vault_balance: int | None
    withdrawal_price_per_share: int | None = None

    @property
    def pending_deposit(self) -> int:
        """Asset deposited this round, not yet shares (does not ride the option)."""
        return self.receipt_amount if self.receipt_round == self.vault_round else 0

    @property
    def queued_this_round(self) -> int:
        """Shares queued for withdrawal this round (they still ride the option until it settles)."""
        return self.withdrawal_shares if self.withdrawal_round == self.vault_round else 0

    @property
    def queued_past_round(self) -> int:
        """Shares queued in a past round, waiting for completeWithdraw (a fixed asset amount)."""
        return self.withdrawal_shares if self.withdrawal_round < self.vault_round else 0

    @property
    def withdrawable(self) -> int:
        """Asset completeWithdraw pays now for a past-round withdrawal (0 if none or its price is unknown)."""
        if not self.queued_past_round or not self.withdrawal_price_per_share:
            return 0
        return self.queued_past_round * self.withdrawal_price_per_share // 10**self.decimals

    @property
    def exposed_shares(self) -> int:
        """Shares riding the current option: held, unredeemed and queued this round."""
        return self.held_by_account + self.held_by_vault + self.queued_this_round

    @property
    def is_empty(self) -> bool:
        """True when the account has no shares, deposit receipt, unredeemed shares or queued withdrawal."""
        return not (self.shares or self.receipt_amount or self.receipt_unredeemed or self.withdrawal_shares)


@dataclass(frozen=True)
class DepositorSlice:
    """A depositor's slice of the vault's pooled position by exposed shares (raw units, floors).

    collateral + free_asset is the asset behind the exposed shares before the option settles;
    short_otokens is the depositor's part of the vault's short oTokens (a short position).
    Pending deposits and past-round withdrawals are listed apart: they do not ride the option.
    """

    vault: str
    account: str
    exposed_shares: int
    pool_shares: int
    share: Fraction  # exposed_shares / pool_shares (0 when the pool is empty)
    collateral: int  # asset locked in Gamma behind the depositor's part of the short
    free_asset: int  # premium received, unlocked collateral and dust held by the vault
    short_otokens: int  # oToken units (8 decimals) written on the depositor's behalf
    held_by_account: int
    unredeemed: int
    queued_this_round: int
    pending_deposit: int
    withdrawable: int
    round_start_value: int  # exposed shares at the price the round began with (asset raw)
