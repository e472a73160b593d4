"""The one family of user-facing errors. The CLI turns any of them into a message and exit code 2."""
from __future__ import annotations


class DefiriskError(Exception):
    """Root of every error a user can cause or fix; its message says what to do."""


class InputError(DefiriskError, ValueError):
    """Bad user input: malformed address, unknown option value, unreadable file."""


class NotAProtocolError(InputError):
    """An address is not the contract kind the user asked for (EOA where a pool was expected, ...)."""


class NoContractError(NotAProtocolError):
    """The address holds no contract code at the pinned block (an EOA, or a contract not deployed yet)."""

    def __init__(self, address: str, message: str):
        super().__init__(message)
        self.address = address


class ConfigError(DefiriskError):
    """Missing configuration: no RPC URL, no address book for a chain, wrong chain id."""


class RpcError(DefiriskError, ConnectionError):
    """The node failed in a way retries did not fix."""


class RetryableRpcError(RpcError):
    """Transient node failure (429, timeout, 5xx, -32005); the retry loop consumes these."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class NodeUnreachableError(RpcError):
    """No answer from the node at all (connection refused, DNS failure)."""


class HistoricalStateError(RpcError):
    """The node lacks state for the requested block (not an archive node, or pruned)."""


class RangeTooLargeError(RetryableRpcError):
    """eth_getLogs range or result-count limit; the caller should split the range."""

    def __init__(self, message: str, *, hint: tuple[int, int] | None = None):
        super().__init__(message)
        self.hint = hint


class CacheLockedError(DefiriskError):
    """Another process holds the DuckDB cache open for writing."""
