"""Alert rules: `metric op number` comparisons and flag rules, parsed and evaluated on observations (pure).

Metrics (per subject of a snapshot):
  health_factor                 Aave account health factor (borrowers with debt only)
  distance_to_liquidation_pct   smallest single-price move, in %, that makes an Aave borrower liquidatable
  value_usd, il_vs_hodl, lvr_per_day_usd   per LP position
Flags:
  lp_out_of_range               a Uniswap v3 position whose range does not hold the pool's price
"""
from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import InputError

METRICS = ("health_factor", "distance_to_liquidation_pct", "value_usd", "il_vs_hodl", "lvr_per_day_usd")
FLAGS = ("lp_out_of_range",)
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
_RULE = re.compile(r"^\s*([a-z_]+)\s*(?:(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*)?$")


@dataclass(frozen=True)
class Rule:
    """One parsed rule; `text` is its canonical spelling (the key of its alert state)."""

    metric: str
    op: str | None = None
    threshold: float | None = None

    @property
    def text(self) -> str:
        if self.op is None:
            return self.metric
        t = self.threshold
        num = repr(int(t)) if t is not None and float(t).is_integer() else repr(t)
        return f"{self.metric} {self.op} {num}"

    def value(self, obs: Mapping[str, Any]) -> float | None:
        """The observation's value for this rule (None when the subject does not have the metric)."""
        if self.op is None:
            v = obs.get("in_range")
            if v is None or obs.get("kind") not in ("npm", "direct"):
                return None
            return 0.0 if bool(v) else 1.0
        v = obs.get(self.metric)
        if v is None:
            return None
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return None if math.isnan(f) else f

    def fires(self, value: float) -> bool:
        """Whether the rule holds for `value` (flags: value 1 means the flag is set)."""
        if self.op is None:
            return value >= 1.0
        return OPS[self.op](value, float(self.threshold))  # type: ignore[arg-type]


def parse_rule(text: str) -> Rule:
    """'health_factor < 1.1' / 'lp_out_of_range' → Rule; InputError naming the metrics and operators known."""
    m = _RULE.match(text or "")
    if not m:
        raise InputError(f"cannot read the alert rule {text!r}: write `metric op number` (e.g. \"health_factor < 1.1\") "
                         f"or a flag ({', '.join(FLAGS)})")
    metric, op, num = m.group(1), m.group(2), m.group(3)
    if op is None:
        if metric not in FLAGS:
            hint = f"; {metric} needs a comparison such as \"{metric} < 1\"" if metric in METRICS else ""
            raise InputError(f"unknown alert flag {metric!r} (flags: {', '.join(FLAGS)}){hint}")
        return Rule(metric)
    if metric not in METRICS:
        raise InputError(f"unknown alert metric {metric!r} (metrics: {', '.join(METRICS)}; flags: {', '.join(FLAGS)})")
    return Rule(metric, op, float(num))


@dataclass(frozen=True)
class Transition:
    """A change of a rule's state for one subject."""

    rule: str
    subject: str
    firing: bool
    value: float | None


def compute_transitions(
    rule: Rule, observations: Mapping[str, Mapping[str, Any]], previous: Mapping[str, bool]
) -> tuple[list[Transition], dict[str, tuple[bool, float | None]]]:
    """(changes to report, new state per subject) for one rule over observations keyed by subject.

    A subject reports when it starts firing (also the first time it is seen firing) and when it stops; a subject
    first seen not firing reports nothing. Subjects absent from `observations` keep their state.
    """
    changes: list[Transition] = []
    state: dict[str, tuple[bool, float | None]] = {}
    for subject in sorted(observations):
        v = rule.value(observations[subject])
        if v is None:
            continue
        now = rule.fires(v)
        state[subject] = (now, v)
        before = previous.get(subject)
        if (before is None and now) or (before is not None and before != now):
            changes.append(Transition(rule.text, subject, now, v))
    return changes, state
