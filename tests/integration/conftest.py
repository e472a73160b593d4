"""The session-scoped devnet: one Anvil with the whole demo world, reverted to a snapshot after each test."""
from __future__ import annotations

import pytest

from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import World, build_world


@pytest.fixture(scope="session")
def anvil():
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def world(anvil) -> World:
    """The full demo world, built once per session."""
    from defirisk.demo import available_protocols

    return build_world(Chain(anvil.url), available_protocols())


@pytest.fixture(scope="session")
def book_file(world, tmp_path_factory):
    """The world's address book as an --addresses file."""
    return world.write_address_book(tmp_path_factory.mktemp("book") / "addresses.json")


@pytest.fixture(autouse=True)
def _revert_after_test(request):
    """Every test that touches the world leaves it as it found it (a fresh snapshot id each time)."""
    if "world" not in request.fixturenames:
        yield
        return
    w: World = request.getfixturevalue("world")
    snap = w.chain.snapshot()
    yield
    w.chain.revert(snap)
