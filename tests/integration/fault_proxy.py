"""A JSON-RPC proxy on loopback that fails a share of requests the ways real providers do."""
from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class FaultProxy:
    """Forwards to `upstream`; with probability `rate` answers 429, 503, or a JSON-RPC -32005 instead.

    `kinds` picks the faults: "429", "503", "rpc" (-32005), "range" (a single eth_getLogs gets "block range too
    large"; other requests get a 429 instead), "timeout" (the answer comes after `delay` seconds), "drop" (the
    connection is closed without an answer, as an overloaded load balancer does).
    """

    def __init__(self, upstream: str, rate: float = 0.3, seed: int = 1, kinds=("429", "503", "rpc"), delay: float = 1.0):
        self.upstream, self.rate, self.rng = upstream, rate, random.Random(seed)
        self.kinds, self.delay = tuple(kinds), delay
        self.faults = 0
        self.requests = 0
        self.seen: dict[str, int] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # keep test output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.requests += 1
                roll = proxy.rng.random()
                if roll < proxy.rate:
                    proxy.faults += 1
                    kind = proxy.rng.choice(proxy.kinds)
                    req = json.loads(body)
                    if kind == "range":
                        if isinstance(req, dict) and req.get("method") == "eth_getLogs":
                            proxy.seen["range"] = proxy.seen.get("range", 0) + 1
                            err = {"code": -32602, "message": "block range too large"}
                            return self._send(200, json.dumps({"jsonrpc": "2.0", "id": req["id"], "error": err}).encode())
                        kind = "429"
                    proxy.seen[kind] = proxy.seen.get(kind, 0) + 1
                    if kind == "drop":
                        self.close_connection = True
                        self.connection.shutdown(2)  # no status line: the client sees the connection drop
                        return None
                    if kind == "timeout":
                        time.sleep(proxy.delay)
                        return self._send(503, b"late", {"Retry-After": "0"})
                    if kind == "rpc":
                        req = json.loads(body)
                        err = {"code": -32005, "message": "daily request limit exceeded"}
                        reply = [{"jsonrpc": "2.0", "id": r["id"], "error": err} for r in req] if isinstance(req, list) else {"jsonrpc": "2.0", "id": req["id"], "error": err}
                        return self._send(200, json.dumps(reply).encode())
                    return self._send(int(kind), b"busy", {"Retry-After": "0"})
                r = requests.post(proxy.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=60)
                self._send(r.status_code, r.content)

            def _send(self, code, payload, headers=None):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v3/SECRET-IN-PATH"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FaultProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
