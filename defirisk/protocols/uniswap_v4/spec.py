"""Uniswap v4's plain types and their pure helpers: PoolKey and its pool id, hook permission flags, the packed
PositionInfo of PositionManager NFTs. Exact chain integers; nothing here talks to the node."""
from __future__ import annotations

from dataclasses import dataclass

from ... import abi
from ...addresses import parse_address
from ...checksum import keccak, to_checksum_address
from ...errors import InputError

NATIVE = "0x0000000000000000000000000000000000000000"  # currency 0x0 is the chain's native coin (ETH)
NATIVE_SYMBOL, NATIVE_DECIMALS = "ETH", 18
DYNAMIC_FEE_FLAG = 0x800000  # PoolKey.fee with this flag: the hook sets the LP fee (LPFeeLibrary)
MAX_LP_FEE = 1_000_000
MIN_TICK_SPACING, MAX_TICK_SPACING = 1, 32767
KEY_TYPES = ("address", "address", "uint24", "int24", "address")

# Hooks.sol: permission -> bit of the hook's address
HOOK_FLAGS: dict[str, int] = {
    "before_initialize": 1 << 13,
    "after_initialize": 1 << 12,
    "before_add_liquidity": 1 << 11,
    "after_add_liquidity": 1 << 10,
    "before_remove_liquidity": 1 << 9,
    "after_remove_liquidity": 1 << 8,
    "before_swap": 1 << 7,
    "after_swap": 1 << 6,
    "before_donate": 1 << 5,
    "after_donate": 1 << 4,
    "before_swap_returns_delta": 1 << 3,
    "after_swap_returns_delta": 1 << 2,
    "after_add_liquidity_returns_delta": 1 << 1,
    "after_remove_liquidity_returns_delta": 1 << 0,
}
ALL_HOOK_MASK = (1 << 14) - 1
# permissions through which a hook can change what a withdrawal or a swap pays (its own accounting)
DELTA_FLAGS = ("before_swap_returns_delta", "after_swap_returns_delta", "after_add_liquidity_returns_delta",
               "after_remove_liquidity_returns_delta")
_DELTA_NEEDS = {
    "before_swap_returns_delta": "before_swap",
    "after_swap_returns_delta": "after_swap",
    "after_add_liquidity_returns_delta": "after_add_liquidity",
    "after_remove_liquidity_returns_delta": "after_remove_liquidity",
}


@dataclass(frozen=True)
class PoolKey:
    """A v4 pool's key (currency0 < currency1; fee in pips, or DYNAMIC_FEE_FLAG; hooks address)."""

    currency0: str
    currency1: str
    fee: int
    tick_spacing: int
    hooks: str

    def as_tuple(self) -> tuple[str, str, int, int, str]:
        """The key as the ABI tuple (address, address, uint24, int24, address)."""
        return (self.currency0, self.currency1, self.fee, self.tick_spacing, self.hooks)

    @property
    def pool_id(self) -> str:
        """keccak256(abi.encode(key)) as 0x-prefixed hex (PoolIdLibrary.toId)."""
        return pool_id(self)

    @property
    def dynamic_fee(self) -> bool:
        return self.fee == DYNAMIC_FEE_FLAG


def pool_id(key: PoolKey) -> str:
    """The pool id of a PoolKey: keccak256 of its ABI encoding (5 words), 0x + 64 hex digits."""
    return "0x" + keccak(abi.abi_encode(KEY_TYPES, key.as_tuple())).hex()


def key_from_tuple(t: tuple | list) -> PoolKey:
    """A PoolKey from the ABI tuple (checksummed addresses, ints)."""
    return PoolKey(to_checksum_address(t[0]), to_checksum_address(t[1]), int(t[2]), int(t[3]), to_checksum_address(t[4]))


def hook_permissions(hooks: str) -> list[str]:
    """The permission names set in a hook address's low 14 bits (Hooks.sol order)."""
    bits = int(hooks, 16) & ALL_HOOK_MASK
    return [name for name, flag in HOOK_FLAGS.items() if bits & flag]


def hook_flags_json(hooks: str) -> dict:
    """`hooks` of an item: the address, its flag bits and permission names."""
    return {"address": to_checksum_address(hooks), "flags": int(hooks, 16) & ALL_HOOK_MASK,
            "permissions": hook_permissions(hooks)}


def key_problems(key: PoolKey) -> list[str]:
    """Why the PoolManager would refuse to initialize this key (empty when it would accept it): currency order,
    tick spacing, static fee above 100 %, and Hooks.isValidHookAddress."""
    out = []
    if int(key.currency0, 16) >= int(key.currency1, 16):
        out.append("currency0 must be below currency1 (CurrenciesOutOfOrderOrEqual)")
    if not MIN_TICK_SPACING <= key.tick_spacing <= MAX_TICK_SPACING:
        out.append(f"tickSpacing {key.tick_spacing} outside [1, 32767]")
    if not key.dynamic_fee and key.fee > MAX_LP_FEE:
        out.append(f"fee {key.fee} above 1,000,000 pips (and not the dynamic-fee flag 0x800000)")
    perms = set(hook_permissions(key.hooks))
    for delta, needs in _DELTA_NEEDS.items():
        if delta in perms and needs not in perms:
            out.append(f"hooks {key.hooks} carries {delta} without {needs} (the PoolManager rejects that address)")
    if int(key.hooks, 16) == 0 and key.dynamic_fee:
        out.append("a dynamic fee needs a hook (hooks is the zero address)")
    if int(key.hooks, 16) != 0 and not perms and not key.dynamic_fee:
        out.append(f"hooks {key.hooks} carries no permission flag and the fee is static (the PoolManager rejects it)")
    return out


@dataclass(frozen=True)
class PositionInfo:
    """PositionManager's packed PositionInfo: the pool id's first 25 bytes, the ticks, the subscriber flag."""

    pool_id_prefix: bytes
    tick_lower: int
    tick_upper: int
    has_subscriber: bool


def _int24(x: int) -> int:
    x &= 0xFFFFFF
    return x - (1 << 24) if x >> 23 else x


def unpack_position_info(info: int) -> PositionInfo:
    """Split a PositionInfo word: 200 bits pool id | 24 bits tickUpper | 24 bits tickLower | 8 bits hasSubscriber."""
    return PositionInfo((info >> 56).to_bytes(25, "big"), _int24(info >> 8), _int24(info >> 32), bool(info & 0xFF))


def salt_of_token(token_id: int) -> bytes:
    """The salt PositionManager uses for an NFT's pool position: bytes32(tokenId)."""
    return token_id.to_bytes(32, "big")


def router_position_id(pool: str, owner: str, tick_lower: int, tick_upper: int, salt: bytes) -> str:
    """The `id` of liquidity held directly in the PoolManager (no NFT): pool:owner:lower:upper:salt."""
    return f"{pool}:{to_checksum_address(owner)}:{tick_lower}:{tick_upper}:0x{salt.hex()}"


def is_pool_id(text: str) -> bool:
    """Whether `text` looks like a v4 pool id (0x + 64 hex digits) rather than an address."""
    t = text.strip()
    return len(t) == 66 and t[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in t[2:])


def parse_pool_key(text: str) -> PoolKey:
    """A PoolKey from `currency0,currency1,fee,tickSpacing,hooks` (fee in pips or `dynamic`); InputError when it is not
    one the PoolManager would accept."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 5:
        raise InputError(f"--pool-key takes currency0,currency1,fee,tickSpacing,hooks (5 fields), not {text!r}")
    c0, c1 = (parse_address(p, what=f"--pool-key currency{i}") for i, p in enumerate(parts[:2]))
    try:
        fee = DYNAMIC_FEE_FLAG if parts[2].lower() in ("dynamic", "0x800000") else int(parts[2], 0)
        spacing = int(parts[3], 0)
    except ValueError:
        raise InputError(f"--pool-key fee and tickSpacing are integers (fee may be 'dynamic'), not {parts[2]!r}, {parts[3]!r}") from None
    key = PoolKey(c0, c1, fee, spacing, parse_address(parts[4], what="--pool-key hooks"))
    problems = key_problems(key)
    if problems:
        raise InputError(f"--pool-key is not a key the PoolManager accepts: {'; '.join(problems)}")
    return key
