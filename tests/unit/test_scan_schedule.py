"""Per-job periods: which jobs a pass runs, when the loop wakes, and the precedence of `every` (recorded times,
a fake clock; no node)."""
from __future__ import annotations

import threading

import pytest

from defirisk.errors import ConfigError
from defirisk.scan.config import parse_config
from defirisk.scan.schedule import due_jobs, job_periods, next_due, run_due, wants_loop

A = "0x52BC30c30D95e053B98501a0fCED2F132772540b"


def cfg(top=None, **everies):
    data = {"chain": {"rpc_url_env": "X", "chain_id": 1},
            "jobs": [{"name": n, "pools": [A], **({"every": e} if e is not None else {})} for n, e in everies.items()]}
    if top is not None:
        data["every"] = top
    return parse_config(data)


def periods(c, cli=None):
    return job_periods([(j.name, j.every_seconds) for j in c.jobs], c.every_seconds, cli)


def test_a_jobs_own_every_wins_then_the_command_line_then_the_file():
    c = cfg(top="5m", fast="30s", slow=None)
    assert periods(c) == {"fast": 30.0, "slow": 300.0}
    assert periods(c, cli=60.0) == {"fast": 30.0, "slow": 60.0}  # --every replaces the top-level default only
    assert periods(cfg(fast="10s", other="2h")) == {"fast": 10.0, "other": 7200.0}
    with pytest.raises(ConfigError, match="job 'slow' has no period"):
        periods(cfg(fast="30s", slow=None))
    assert periods(cfg(fast="30s", slow=None), cli=5.0) == {"fast": 30.0, "slow": 5.0}


def test_when_the_scan_loops():
    assert not wants_loop(None, [None, None], None, False)  # nothing periodic: one pass (cron)
    assert wants_loop(300.0, [None], None, False) and wants_loop(None, [None, 60.0], None, False)
    assert wants_loop(None, [None], 60.0, False)
    assert not wants_loop(300.0, [60.0], 60.0, True)  # --once: every job once, whatever the periods


def test_a_bad_job_every_is_a_config_error_naming_the_job():
    with pytest.raises(ConfigError, match=r"jobs\.fast\.every"):
        cfg(fast="soon")
    with pytest.raises(ConfigError, match=r"jobs\.fast\.every"):
        cfg(fast=0)


def test_due_jobs_on_recorded_times():
    p = {"a": 10.0, "b": 60.0, "c": 3600.0}
    assert due_jobs(p, {}, 1000.0) == ["a", "b", "c"]  # never run: due at once, in config order
    last = {"a": 1000.0, "b": 1000.0, "c": 1000.0}
    assert due_jobs(p, last, 1005.0) == []
    assert due_jobs(p, last, 1010.0) == ["a"]
    assert due_jobs(p, last, 1009.4) == []  # slack is 5 % of the period: 0.5 s for a 10 s job
    assert due_jobs(p, last, 1009.5) == ["a"]
    assert due_jobs(p, last, 1059.0) == ["a", "b"]  # b joins: within its 1 s slack (5 % capped at 1 s)
    assert due_jobs(p, last, 1058.9) == ["a"]
    assert due_jobs(p, {**last, "c": None}, 1001.0) == ["c"]
    assert next_due(p, last) == 1010.0 and next_due(p, {"a": None}) == float("-inf")
    assert next_due(p, {"a": 1000.0, "b": 990.0, "c": 0.0}) == 1010.0


class FakeTime:
    """A clock that a pass and the loop's sleep advance; stops the loop at `end`."""

    def __init__(self, start: float, end: float, pass_seconds: float):
        self.t, self.end, self.pass_seconds = start, end, pass_seconds
        self.stop = threading.Event()
        self.runs: list[tuple[float, list[str]]] = []
        self.stop.wait = self.wait  # type: ignore[method-assign]

    def wait(self, d: float) -> bool:
        self.t += d
        if self.t >= self.end:
            self.stop.set()
        return self.stop.is_set()

    def one(self, jobs: list[str], _ev: threading.Event) -> bool:
        self.runs.append((self.t, jobs))
        self.t += self.pass_seconds
        if self.t >= self.end:
            self.stop.set()
        return True


def test_the_loop_runs_each_job_as_often_as_asked():
    f = FakeTime(0.0, 60.0, pass_seconds=0.25)
    n = run_due({"fast": 5.0, "slow": 20.0}, f.one, f.stop, clock=lambda: f.t)
    fast = [t for t, j in f.runs if "fast" in j]
    slow = [t for t, j in f.runs if "slow" in j]
    assert fast == [5.0 * i for i in range(12)]  # start to start, the pass time does not shift the schedule
    assert slow == [0.0, 20.0, 40.0]
    assert n == len(f.runs) == 12  # slow always shares a pass with fast
    assert all(j == ["fast", "slow"] for t, j in f.runs if t in slow)


def test_the_loop_resumes_from_the_recorded_last_runs_and_retries_a_period_later():
    f = FakeTime(1000.0, 1030.0, pass_seconds=1.0)
    run_due({"a": 10.0, "b": 25.0}, f.one, f.stop, last={"a": 995.0, "b": 990.0}, clock=lambda: f.t)
    assert f.runs == [(1005.0, ["a"]), (1015.0, ["a", "b"]), (1025.0, ["a"])]
    # a pass that overruns a period: the job runs again at once (no sleep), never twice at one time
    f = FakeTime(0.0, 10.0, pass_seconds=3.0)
    run_due({"a": 2.0}, f.one, f.stop, clock=lambda: f.t)
    assert [t for t, _ in f.runs] == [0.0, 3.0, 6.0, 9.0]


def test_one_pass_returning_false_ends_the_loop():
    f = FakeTime(0.0, 100.0, pass_seconds=0.0)
    assert run_due({"a": 1.0}, lambda jobs, ev: False, f.stop, clock=lambda: f.t) == 1
