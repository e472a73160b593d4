"""Rows written through the coerced path (VALUES statements, no pandas) are stored exactly as the bulk path
(a pandas frame) stores them: same types, exact integers, NULLs, NaN as NULL, timestamps in UTC."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from defirisk.errors import InputError
from defirisk.store.cache import Cache

T0 = dt.datetime(2026, 3, 1, 12, 30, 15, 250000)
ALERTS = [  # every column type of alert_state, with the edge values a caller passes
    {"chain_id": 1, "rule": "hf<1.1", "subject": "0xa", "firing": True, "value": 1.05, "block": 7, "updated_at": T0},
    {"chain_id": 1, "rule": "hf<1.1", "subject": "0xb", "firing": False, "value": None, "block": 2**62,
     "updated_at": "2026-03-01T14:30:15.25+02:00"},
    {"chain_id": 1, "rule": "hf<1.1", "subject": "0xc", "firing": 1, "value": float("nan"), "block": 0,
     "updated_at": pd.Timestamp("2026-03-01 07:30:15.25", tz="America/New_York")},
    {"chain_id": 1, "rule": "hf<1.1", "subject": "0xd", "firing": 0, "value": 3, "block": 5, "updated_at": None},
]
POSITION = {"chain_id": 1, "protocol": "uniswap_v3", "contract": "0xnpm", "position_id": "7", "block": 9,
            "liquidity_raw": 2**200 + 1, "amount0_raw": "-12", "amount0": 1e-30, "tick_lower": -887272,
            "tick_upper": 887272, "raw_record": {"big": 2**255, "f": 0.5, "none": None}}


def _rows(cache: Cache, table: str) -> list[tuple]:
    return cache.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_the_values_path_stores_what_the_frame_path_stores(tmp_path):
    a, b = Cache(tmp_path / "a.duckdb", read_only=False), Cache(tmp_path / "b.duckdb", read_only=False)
    assert a.upsert("alert_state", ALERTS) == 4
    assert b.upsert("alert_state", pd.DataFrame(ALERTS).astype(object), coerce=True) == 4
    a.upsert("positions", [POSITION])
    b.upsert("positions", [POSITION])
    assert _rows(a, "alert_state") == _rows(b, "alert_state")
    got = {r[2]: r for r in _rows(a, "alert_state")}
    assert got["0xa"][6] == got["0xb"][6] == got["0xc"][6] == T0  # every form of the same instant, in UTC
    assert got["0xb"][4] is None and got["0xc"][4] is None and got["0xd"][4] == 3.0
    assert got["0xb"][5] == 2**62 and got["0xc"][3] is True and got["0xd"][6] is None
    pos = a.con.execute("SELECT liquidity_raw, amount0_raw, tick_lower, raw_record FROM positions").fetchone()
    assert pos[:3] == (str(2**200 + 1), "-12", -887272) and '"big": ' + str(2**255) in pos[3]


def test_a_second_write_of_a_key_updates_it_and_the_last_row_wins(tmp_path):
    c = Cache(tmp_path / "c.duckdb", read_only=False)
    c.upsert("alert_state", ALERTS[:1])
    assert c.upsert("alert_state", [{**ALERTS[0], "value": 2.0}, {**ALERTS[0], "value": 3.0}]) == 1
    assert [r[4] for r in _rows(c, "alert_state")] == [3.0]


def test_a_timestamp_text_that_is_not_iso_is_refused():
    with pytest.raises(InputError, match="ISO 8601"):
        Cache(":memory:", read_only=False).upsert("alert_state", [{**ALERTS[0], "updated_at": "yesterday"}])
