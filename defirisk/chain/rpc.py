"""Raw JSON-RPC over one keep-alive HTTP connection (chain/http.py): single calls and batches, retries, typed errors.

web3.py's per-request formatting dominates local-node latency (see NOTES.md), so the hot path sends
pre-encoded JSON arrays and decodes with eth-abi. Every HTTP POST counts as one round trip.
"""
from __future__ import annotations

import copy
import itertools
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..errors import (
    HistoricalStateError,
    NodeUnreachableError,
    RangeTooLargeError,
    RetryableRpcError,
    RpcError,
)
from .http import HttpClient, HttpConnectionError, HttpTimeout
from .redact import redact_text, redact_url

try:  # orjson parses a large eth_getLogs reply ~1.6x faster than json (scan ingestion, #16)
    import orjson

    def _dumps(payload: Any) -> bytes:
        try:
            return orjson.dumps(payload)
        except TypeError:  # an int beyond 64 bits in a parameter: the standard encoder takes any int
            return json.dumps(payload).encode()

    def _loads(body: bytes) -> Any:
        return orjson.loads(body)
except ImportError:  # pragma: no cover - orjson is a dependency; a bare checkout still works
    def _dumps(payload: Any) -> bytes:
        return json.dumps(payload).encode()

    def _loads(body: bytes) -> Any:
        return json.loads(body)

log = logging.getLogger(__name__)

_HISTORICAL = re.compile(
    r"missing trie node|header not found|historical state|state .*not available|pruned|"
    r"distance to target block exceeds|BlockOutOfRange|block height is \d+ but requested|required historical state|state histories haven't been fully indexed",
    re.I,
)
_RANGE = re.compile(
    r"range .*exceed|block range|too many (results|logs)|limit exceeded|more than \d+ results|"
    r"response size|query returned more than|try with this block range|log response size",
    re.I,
)
_RANGE_HINT = re.compile(r"\[\s*(0x[0-9a-f]+|\d+)\s*,\s*(0x[0-9a-f]+|\d+)\s*\]", re.I)
_RATE = re.compile(r"rate limit|too many requests|capacity|exceeded .*quota|request limit", re.I)


@dataclass(frozen=True)
class RpcReplyError:
    """A per-item error inside a batch reply (for example an eth_call revert)."""

    code: int
    message: str
    data: str | None = None


def classify_error(code: int, message: str, *, method: str = "") -> RpcError | None:
    """The typed exception a JSON-RPC error should raise, or None for a plain per-call failure."""
    if _HISTORICAL.search(message):
        return HistoricalStateError(
            f"the node has no state for the requested block ({message}); use an archive node or a recent --block"
        )
    if method == "eth_getLogs" and _RANGE.search(message):
        m = _RANGE_HINT.search(message)
        hint = (int(m.group(1), 0), int(m.group(2), 0)) if m else None
        return RangeTooLargeError(f"log range too large: {message}", hint=hint)
    if code in (-32005, 429) or _RATE.search(message):
        return RetryableRpcError(f"node rate limit: {message}", status=429)
    return None


class RpcClient:
    """A JSON-RPC client that batches, retries transient failures and never shows the URL unredacted."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 6,
        max_batch: int = 1000,
        max_body: int = 1_000_000,
        backoff: float = 0.25,
    ):
        self._url = url
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_batch = max_batch
        self.max_body = max_body
        self.backoff = backoff
        try:
            self.http = HttpClient(url, timeout)
        except ValueError:
            raise RpcError(f"{redact_url(url)} is not an http(s):// URL of a JSON-RPC node") from None
        self.round_trips = 0
        self.answered = False  # the node has answered at least once (a dropped connection then is transient)
        self._ids = itertools.count(1)

    def sibling(self) -> "RpcClient":
        """A client like this one (same class, settings and shared state of a subclass) on its own connection, for
        another thread; its round trips are counted apart."""
        other = copy.copy(self)
        other.http = HttpClient(self._url, self.timeout)
        other.round_trips = 0
        return other

    @property
    def redacted_url(self) -> str:
        return redact_url(self._url)

    def __repr__(self) -> str:
        return f"RpcClient({self.redacted_url})"

    # -- transport -------------------------------------------------------------------------------
    def _post(self, payload: Any) -> Any:
        """One HTTP POST with retries on transient failures (dropped connections, timeouts, 429, 5xx), all on ONE
        budget of `max_retries`; returns the decoded JSON. "Unreachable" is said only when the node never answered
        (three refused connections in a row, no HTTP answer from it since the client was made); a reply that is not
        JSON (an HTML page from a proxy, a wrong URL) stops at once."""
        attempt = 0
        while True:
            try:
                self.round_trips += 1
                resp = self.http.post(_dumps(payload))
                self.answered = True
                if resp.status == 429 or resp.status >= 500:
                    ra = resp.headers.get("retry-after")
                    raise RetryableRpcError(
                        f"node answered HTTP {resp.status}",
                        status=resp.status,
                        retry_after=float(ra) if ra and ra.replace(".", "", 1).isdigit() else None,
                    )
                if resp.status in (401, 403):
                    raise RpcError(
                        f"node at {self.redacted_url} refused access (HTTP {resp.status}); check the API key in the RPC URL"
                    )
                if resp.status != 200:
                    raise RpcError(f"node at {self.redacted_url} answered HTTP {resp.status}")
                try:
                    return _loads(resp.body)
                except ValueError:
                    kind = resp.headers.get("content-type", "").split(";")[0] or "no content type"
                    raise RpcError(f"the server at {self.redacted_url} answered with something that is not JSON-RPC "
                                   f"({kind}); is the RPC URL that of an Ethereum node?") from None
            except HttpConnectionError:
                if not self.answered and attempt >= 2:
                    raise NodeUnreachableError(
                        f"cannot reach the node at {self.redacted_url}; is it running and is the URL right?"
                    ) from None
                last = RetryableRpcError("the connection to the node failed")
                if attempt >= self.max_retries:
                    raise RpcError(f"the node at {self.redacted_url} kept dropping the connection "
                                   f"(gave up after {attempt + 1} tries)") from None
            except HttpTimeout:
                last = RetryableRpcError(f"node at {self.redacted_url} timed out after {self.timeout:.0f} s")
                if attempt >= self.max_retries:
                    raise RpcError(str(last)) from None
            except RetryableRpcError as e:
                last = e
                if attempt >= self.max_retries:
                    raise RpcError(f"{e} (gave up after {attempt + 1} tries)") from None
            delay = getattr(last, "retry_after", None) or self.backoff * (2**attempt) * (0.5 + random.random())
            log.debug("retrying after %.2fs: %s", delay, redact_text(str(last), self._url))
            time.sleep(min(delay, 30.0))
            attempt += 1

    # -- single requests -------------------------------------------------------------------------
    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; raises a typed RpcError on error replies."""
        for attempt in range(self.max_retries + 1):
            reply = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
            if not isinstance(reply, dict) or not ("result" in reply or "error" in reply):
                raise RpcError(f"the server at {self.redacted_url} answered JSON that is not a JSON-RPC reply; "
                               "is the RPC URL that of an Ethereum node?")
            if "error" not in reply:
                return reply.get("result")
            e = reply["error"]
            typed = classify_error(int(e.get("code", 0)), str(e.get("message", "")), method=method)
            if isinstance(typed, RetryableRpcError) and not isinstance(typed, RangeTooLargeError) and attempt < self.max_retries:
                time.sleep(self.backoff * 2**attempt)
                continue
            if typed is not None:
                raise typed
            raise RpcError(redact_text(f"{method} failed: {e.get('message')} (code {e.get('code')})", self._url))
        raise RpcError(f"{method}: node kept rate-limiting")  # pragma: no cover

    # -- batches ---------------------------------------------------------------------------------
    def _chunks(self, calls: list[tuple[str, Sequence[Any]]], pending: list[int]) -> list[list[int]]:
        """`pending` cut into POSTs of at most `max_batch` requests and about `max_body` bytes each."""
        out: list[list[int]] = []
        chunk: list[int] = []
        size = 0
        for i in pending:
            n = len(json.dumps(list(calls[i][1]), separators=(",", ":"))) + len(calls[i][0]) + 48
            if chunk and (len(chunk) >= self.max_batch or size + n > self.max_body):
                out.append(chunk)
                chunk, size = [], 0
            chunk.append(i)
            size += n
        if chunk:
            out.append(chunk)
        return out

    def batch(self, calls: Iterable[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Many calls in as few POSTs as `max_batch` allows; per-item errors come back as RpcReplyError.

        Transient per-item errors (rate limits) are retried as a smaller batch; historical-state and
        range errors raise.
        """
        calls = list(calls)
        out: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        attempt = 0
        while pending:
            retry: list[int] = []
            for chunk in self._chunks(calls, pending):
                ids = {next(self._ids): i for i in chunk}
                payload = [
                    {"jsonrpc": "2.0", "id": rid, "method": calls[i][0], "params": list(calls[i][1])}
                    for rid, i in ids.items()
                ]
                reply = self._post(payload)
                if not isinstance(reply, (list, dict)) or (isinstance(reply, dict) and "error" not in reply) or (
                        isinstance(reply, list) and not all(isinstance(x, dict) for x in reply)):
                    raise RpcError(f"the server at {self.redacted_url} answered JSON that is not a JSON-RPC reply; "
                                   "is the RPC URL that of an Ethereum node?")
                if isinstance(reply, dict):  # whole batch refused: nodes cap batch length and body size
                    e = reply.get("error", {})
                    if len(chunk) > 1 and self.max_batch > 1:
                        self.max_batch = max(1, min(self.max_batch, len(chunk)) // 4)
                        self.max_body = max(16_384, self.max_body // 4)
                        retry.extend(chunk)
                        continue
                    raise RpcError(redact_text(f"batch request failed: {e.get('message', reply)}", self._url))
                for item in reply:
                    i = ids.get(item.get("id"))
                    if i is None:
                        continue
                    if "error" in item:
                        e = item["error"]
                        code, msg = int(e.get("code", 0)), str(e.get("message", ""))
                        typed = classify_error(code, msg, method=calls[i][0])
                        if isinstance(typed, RetryableRpcError) and not isinstance(typed, RangeTooLargeError):
                            retry.append(i)
                            continue
                        if typed is not None and not isinstance(typed, RangeTooLargeError):
                            raise typed
                        data = e.get("data")
                        out[i] = RpcReplyError(code, msg, data if isinstance(data, str) else None)
                    else:
                        out[i] = item.get("result")
                answered = {ids[item["id"]] for item in reply if item.get("id") in ids}
                retry.extend(i for i in chunk if i not in answered)
            if retry:
                if attempt >= self.max_retries:
                    raise RpcError(f"node kept failing {len(retry)} of {len(calls)} batched calls")
                time.sleep(self.backoff * 2**attempt * (0.5 + random.random()))
                attempt += 1
            pending = retry
        return out
