"""The full devnet world leaves an Anvil account for every role the tests take on top of it.

Tests call `world.account(role)` for roles of their own (a scan poker, an odd-token deployer...); once the world's
builders had taken most of Anvil's accounts, those tests failed with "devnet ran out of accounts" in CI only (the
run order decides which test asks last).
"""
from __future__ import annotations

import re
from pathlib import Path

from defirisk.devnet.world import World

ROLE = re.compile(r"""\.account\(\s*["']([A-Za-z0-9_]+)["']\s*\)""")


def test_every_test_role_finds_a_free_account(world: World) -> None:
    tests = Path(__file__).resolve().parents[1]
    asked = {m for p in tests.rglob("test_*.py") for m in ROLE.findall(p.read_text())}
    assert asked, "the role pattern found no test role: the check would pass vacuously"
    new = asked - set(world.roles)
    free = len(world.chain.accounts) - 1 - len(world.roles)  # account 0 deploys
    assert free >= len(new) + 8, f"{free} free accounts for {len(new)} test roles {sorted(new)} (+8 to spare)"
