"""A loopback HTTP proxy that holds each JSON-RPC request a while before forwarding it: a remote node's round trip
for the benchmarks (bench_lp, bench_scan)."""
from __future__ import annotations

import time


class SlowLink:
    """A loopback HTTP proxy to the devnet that holds each request `delay` seconds, like a remote node."""

    def __init__(self, upstream: str, delay: float):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        session = requests.Session()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                r = session.post(upstream, data=body, headers={"Content-Type": "application/json"}, timeout=3600)
                self.send_response(r.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SlowLink":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
