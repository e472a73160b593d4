"""Alert delivery on an in-memory cache: stdout lines, state kept between runs, a dead webhook is only a warning."""
from __future__ import annotations

import io
import json
import logging

from defirisk.scan.alerts import evaluate_alerts
from defirisk.scan.config import AlertConfig
from defirisk.scan.rules import parse_rule
from defirisk.store.cache import Cache


def test_lines_go_to_stdout_once_per_change_and_a_dead_webhook_is_a_warning(tmp_path, caplog):
    alerts = [AlertConfig(parse_rule("health_factor < 1.1"), "-", "http://127.0.0.1:9/SECRET-HOOK")]
    out = io.StringIO()
    with Cache(":memory:") as c, caplog.at_level(logging.WARNING):
        def run(obs, block):
            return evaluate_alerts(c, alerts, obs, chain_id=1, block=block, block_hash=f"0x{block:02x}",
                                   base_dir=tmp_path, stdout=out)

        a = run({"s1": {"health_factor": 1.05, "owner": "0xA", "pool": "0xP"}, "s2": {"health_factor": 2.0}}, 1)
        b = run({"s1": {"health_factor": 1.02}, "s2": {"health_factor": 1.5}}, 2)
        d = run({"s1": {"health_factor": 1.3}, "s2": {"health_factor": 1.0}}, 3)
        state = c.query("SELECT subject, firing, block FROM alert_state ORDER BY subject")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [(x["subject"], x["state"], x["block"]) for x in lines] == [("s1", "firing", 1), ("s1", "cleared", 3), ("s2", "firing", 3)]
    assert lines[0]["owner"] == "0xA" and lines[0]["pool"] == "0xP" and lines[0]["value"] == 1.05
    assert (len(a), len(b), len(d)) == (1, 0, 2)
    assert state.values.tolist() == [["s1", False, 3], ["s2", True, 3]]
    assert "alert webhook" in caplog.text and "SECRET-HOOK" not in caplog.text


def test_file_output_is_appended_relative_to_the_config(tmp_path):
    alerts = [AlertConfig(parse_rule("lp_out_of_range"), "out/alerts.jsonl")]
    with Cache(":memory:") as c:
        for in_range in (False, False, True):
            evaluate_alerts(c, alerts, {"uniswap_v3:7": {"kind": "npm", "in_range": in_range}}, chain_id=1, block=1,
                            block_hash="0x01", base_dir=tmp_path)
    got = [json.loads(x)["state"] for x in (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()]
    assert got == ["firing", "cleared"]
