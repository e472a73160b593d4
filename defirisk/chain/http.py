"""One keep-alive HTTP(S) connection for JSON-RPC POSTs, on the standard library (http.client): importing an HTTP
client library costs a short command ~0.08 s of start-up, and the node needs no more than POST, keep-alive,
timeouts, basic auth from the URL and TLS with the system's certificates."""
from __future__ import annotations

import base64
import http.client
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class HttpConnectionError(ConnectionError):
    """The connection was refused, reset or dropped before a complete reply."""


class HttpTimeout(TimeoutError):
    """No reply within the timeout."""


@dataclass(frozen=True)
class HttpReply:
    """A complete HTTP reply: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


class HttpClient:
    """POSTs to one URL over a connection kept open between requests (reopened after any failure)."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an RPC URL is http:// or https:// with a host")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json", "Connection": "keep-alive"}
        if parts.username is not None:  # user:password@host, as an HTTP client library would send it
            cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(cred).decode()
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        """Close the connection (the next POST opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, body: bytes) -> HttpReply:
        """POST `body`; the complete reply, or HttpConnectionError / HttpTimeout (the connection is then closed)."""
        conn = self._connection()
        try:
            conn.request("POST", self._path, body=body, headers=self._headers)
            resp = conn.getresponse()
            data = resp.read()
            headers = {k.lower(): v for k, v in resp.getheaders()}
        except (socket.timeout, TimeoutError) as e:
            self.close()
            raise HttpTimeout(str(e)) from None
        except (ConnectionError, http.client.HTTPException, OSError) as e:
            self.close()
            raise HttpConnectionError(f"{type(e).__name__}: {e}") from None
        if headers.get("connection", "").lower() == "close":
            self.close()
        return HttpReply(resp.status, headers, data)
