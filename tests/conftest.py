"""Test tiers: unit (default, no node), anvil (session devnet, snapshot/revert per test), live (opt-in)."""
from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI replays the same examples every run (a red CI names a real regression, never a newly drawn case); local runs
# draw new examples each time and keep the failures they find in .hypothesis/.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "integration" in str(item.fspath) and not item.get_closest_marker("anvil"):
            item.add_marker(pytest.mark.anvil)
        if item.get_closest_marker("live") and not os.environ.get("DEFIRISK_LIVE_RPC_URL"):
            item.add_marker(pytest.mark.skip(reason="set DEFIRISK_LIVE_RPC_URL to run live-node tests"))
