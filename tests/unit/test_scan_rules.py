"""Alert rules: parsing, evaluation, and one report per state change."""
from __future__ import annotations

import pytest

from defirisk.errors import InputError
from defirisk.scan.rules import compute_transitions, parse_rule


@pytest.mark.parametrize("text, metric, op, thr, canon", [
    ("health_factor < 1.1", "health_factor", "<", 1.1, "health_factor < 1.1"),
    ("health_factor<1.10", "health_factor", "<", 1.1, "health_factor < 1.1"),
    ("distance_to_liquidation_pct <= 10", "distance_to_liquidation_pct", "<=", 10.0, "distance_to_liquidation_pct <= 10"),
    ("il_vs_hodl < -0.05", "il_vs_hodl", "<", -0.05, "il_vs_hodl < -0.05"),
    ("value_usd >= 1e6", "value_usd", ">=", 1e6, "value_usd >= 1000000"),
    ("  lp_out_of_range ", "lp_out_of_range", None, None, "lp_out_of_range"),
])
def test_parse(text, metric, op, thr, canon):
    r = parse_rule(text)
    assert (r.metric, r.op, r.threshold, r.text) == (metric, op, thr, canon)


@pytest.mark.parametrize("text, needle", [
    ("hf < 1", "unknown alert metric 'hf'"),
    ("health_factor", "needs a comparison"),
    ("health_factor < abc", "cannot read the alert rule"),
    ("health_factor =< 1", "cannot read the alert rule"),
    ("lp_out_of_range < 1", "unknown alert metric 'lp_out_of_range'"),
    ("", "cannot read"),
])
def test_bad_rules(text, needle):
    with pytest.raises(InputError) as e:
        parse_rule(text)
    assert needle in str(e.value)


def test_transitions_fire_once_and_clear_once():
    r = parse_rule("health_factor < 1.1")
    state: dict[str, bool] = {}

    def step(obs):
        changes, new = compute_transitions(r, obs, state)
        state.update({k: v[0] for k, v in new.items()})
        return [(c.subject, c.firing) for c in changes]

    assert step({"a": {"health_factor": 1.5}, "b": {"health_factor": 1.05}}) == [("b", True)]  # new+quiet: no line
    assert step({"a": {"health_factor": 1.4}, "b": {"health_factor": 1.01}}) == []  # no change, no line
    assert step({"a": {"health_factor": 1.09}, "b": {"health_factor": 1.2}}) == [("a", True), ("b", False)]
    assert step({"a": {"health_factor": None}}) == []  # no value (no debt): state kept, nothing said
    assert state == {"a": True, "b": False}
    assert step({"a": {"health_factor": 1.1}}) == [("a", False)]  # the boundary: 1.1 < 1.1 is false


def test_lp_out_of_range_applies_to_v3_positions_only():
    r = parse_rule("lp_out_of_range")
    obs = {"v3": {"kind": "npm", "in_range": False}, "d": {"kind": "direct", "in_range": True},
           "v2": {"kind": "v2", "in_range": False}}
    changes, state = compute_transitions(r, obs, {})
    assert [(c.subject, c.firing) for c in changes] == [("v3", True)]
    assert set(state) == {"v3", "d"}
