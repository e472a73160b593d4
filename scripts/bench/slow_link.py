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

        local = threading.local()  # a requests.Session per handler thread: sessions are not thread-safe

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                r = session.post(upstream, data=body, headers={"Content-Type": "application/json"}, timeout=3600)
                self.send_response(r.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # cryo opens a connection per block at once: the default 5 resets some
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SlowLink":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
