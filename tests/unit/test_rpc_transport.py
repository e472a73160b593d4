"""The transport against a loopback HTTP server that misbehaves on purpose: one retry budget for every transient
failure, "unreachable" only for a node that never answered, and a reply that is not JSON-RPC stops at once."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from defirisk.chain.rpc import RpcClient
from defirisk.errors import NodeUnreachableError, RpcError


def serve(script: list[str]) -> tuple[str, list[str], ThreadingHTTPServer]:
    """A server answering each POST by the next step of `script` ("ok", "html", "json", "429", "503", "drop");
    the last step repeats. Returns (url, the steps served, server)."""
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            step = script[min(len(served), len(script) - 1)]
            served.append(step)
            if step == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if step in ("429", "503"):
                return self._send(int(step), b"busy", "text/plain")
            if step == "html":
                return self._send(200, b"<html><body>Welcome to nginx</body></html>", "text/html")
            if step == "json":
                return self._send(200, b'{"status": "ok"}', "application/json")
            reply = ([{"jsonrpc": "2.0", "id": r["id"], "result": "0x1"} for r in body] if isinstance(body, list)
                     else {"jsonrpc": "2.0", "id": body["id"], "result": "0x1"})
            self._send(200, json.dumps(reply).encode(), "application/json")

        def _send(self, code: int, payload: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}/secret-key", served, srv


@pytest.fixture
def servers() -> Iterator[list[ThreadingHTTPServer]]:
    made: list[ThreadingHTTPServer] = []
    yield made
    for s in made:
        s.shutdown()


def _client(url: str) -> RpcClient:
    return RpcClient(url, backoff=0.001, timeout=5)


def test_a_dropped_connection_after_other_failures_is_retried_on_the_same_budget(servers) -> None:
    url, served, srv = serve(["ok", "429", "503", "drop", "drop", "ok"])
    servers.append(srv)
    c = _client(url)
    assert c.request("eth_chainId") == "0x1"
    assert c.request("eth_chainId") == "0x1"  # 429, 503, two drops: transient, the node has answered before
    assert served == ["ok", "429", "503", "drop", "drop", "ok"]
    assert c.batch([("eth_chainId", [])] * 3) == ["0x1"] * 3


def test_a_connection_dropped_on_the_very_first_requests_is_still_retried_within_budget(servers) -> None:
    url, served, srv = serve(["503", "drop", "drop", "ok"])
    servers.append(srv)
    assert _client(url).request("eth_chainId") == "0x1"  # it answered (503) before the drops
    assert served == ["503", "drop", "drop", "ok"]


def test_a_node_that_keeps_dropping_gives_up_with_a_clear_message(servers) -> None:
    url, served, srv = serve(["ok", "drop"])
    servers.append(srv)
    c = _client(url)
    c.request("eth_chainId")
    with pytest.raises(RpcError, match="kept dropping the connection") as e:
        c.request("eth_chainId")
    assert not isinstance(e.value, NodeUnreachableError) and "secret-key" not in str(e.value)


def test_a_node_that_never_answered_is_unreachable() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    with pytest.raises(NodeUnreachableError, match="cannot reach the node"):
        _client(f"http://127.0.0.1:{port}/key").request("eth_chainId")


@pytest.mark.parametrize("step, what", [("html", "text/html"), ("json", "not a JSON-RPC reply")])
def test_a_reply_that_is_not_json_rpc_stops_at_once(servers, step: str, what: str) -> None:
    url, served, srv = serve([step])
    servers.append(srv)
    with pytest.raises(RpcError, match="not JSON-RPC|not a JSON-RPC") as e:
        _client(url).request("eth_chainId")
    assert served == [step] and what in str(e.value) and "secret-key" not in str(e.value)
    served.clear()
    with pytest.raises(RpcError):
        _client(url).batch([("eth_chainId", []), ("eth_blockNumber", [])])
    assert served == [step]
