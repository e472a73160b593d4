"""A flaky node (429, 503, -32005, timeouts and "block range too large" on 30% of requests): the scan completes
and the cache equals a clean scan's; the URL's secret never shows."""
from __future__ import annotations

import pytest

from defirisk.api import scan

from .fault_proxy import FaultProxy
from .scan_helpers import ENV, assert_same_tables, scan_tables, world_config

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]


def test_scan_through_a_flaky_node_equals_a_clean_scan(world, book_file, anvil, monkeypatch, tmp_path, caplog):
    cfg = world_config(world, book_file, wallets=True, timeout=0.5, max_span=8)
    monkeypatch.setenv(ENV, anvil.url)
    clean = scan(cfg, cache=tmp_path / "clean.duckdb")
    with FaultProxy(anvil.url, rate=0.3, seed=7, kinds=("429", "503", "rpc", "range", "range", "timeout", "drop"), delay=0.7) as proxy:
        monkeypatch.setenv(ENV, proxy.url)
        flaky = scan(cfg, cache=tmp_path / "flaky.duckdb")
    assert proxy.faults >= 10 and proxy.seen.get("range", 0) >= 2 and proxy.seen.get("timeout", 0) >= 1 and proxy.seen.get("drop", 0) >= 1, proxy.seen
    assert flaky["range_splits"] >= 1
    assert flaky["round_trips"] > clean["round_trips"]
    assert (flaky["head"], flaky["events_ingested"]) == (clean["head"], clean["events_ingested"])
    assert_same_tables(scan_tables(tmp_path / "clean.duckdb", with_snapshots=True),
                       scan_tables(tmp_path / "flaky.duckdb", with_snapshots=True))
    assert "SECRET-IN-PATH" not in caplog.text
    assert b"SECRET-IN-PATH" not in (tmp_path / "flaky.duckdb").read_bytes()  # the URL is never stored


class LimitedNode:
    """A loopback proxy that refuses eth_getLogs over more than `limit` blocks (0: refuses every range)."""

    def __init__(self, upstream: str, limit: int):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = json.loads(body)
                if isinstance(req, dict) and req.get("method") == "eth_getLogs":
                    p = req["params"][0]
                    if int(p["toBlock"], 16) - int(p["fromBlock"], 16) + 1 > limit:
                        out = json.dumps({"jsonrpc": "2.0", "id": req["id"], "error": {
                            "code": -32602, "message": f"query exceeds max block range {limit}"}}).encode()
                        return self._send(out)
                self._send(requests.post(upstream, data=body, headers={"Content-Type": "application/json"}).content)

            def _send(self, out):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()


def test_a_node_that_refuses_wide_ranges_is_scanned_in_narrow_ones(world, book_file, anvil, monkeypatch, tmp_path):
    """A node whose limit is 16 blocks: the range shrinks to fit, then the result equals an unlimited node's."""
    limit = 16
    cfg = world_config(world, book_file)
    with LimitedNode(anvil.url, limit) as node:
        monkeypatch.setenv(ENV, node.url)
        s = scan(cfg, cache=tmp_path / "narrow.duckdb")
    monkeypatch.setenv(ENV, anvil.url)
    scan(cfg, cache=tmp_path / "wide.duckdb")
    assert s["range_splits"] >= 1 and s["chunks"] >= world.chain.block_number() // limit
    assert_same_tables(scan_tables(tmp_path / "narrow.duckdb"), scan_tables(tmp_path / "wide.duckdb"))


def test_a_node_that_refuses_even_one_block_is_a_clear_error(world, book_file, anvil, monkeypatch, tmp_path):
    from defirisk.errors import RangeTooLargeError

    cfg = world_config(world, book_file)
    with LimitedNode(anvil.url, 0) as node:
        monkeypatch.setenv(ENV, node.url)
        with pytest.raises(RangeTooLargeError, match=r"block 0 alone holds more logs than the node will return for job 'world'"):
            scan(cfg, cache=tmp_path / "c.duckdb")
