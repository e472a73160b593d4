"""The devnet worlds of the integration tests, each built once per session and reverted to a snapshot after
every test that uses it.

One factory (`world_factory`) builds worlds by the protocols they hold: the full demo world on the session
`anvil`, a world of one protocol (the readers' own tests) on its own Anvil, kept until a test asks for another
(test modules of one protocol run one after another, so each partial world is built once). The fixtures `world`
(full), `aworld` (Aave), `vworld` (options vaults), `v4world` (Uniswap v4) and `uniswap_world` hand a test its world between an
`evm_snapshot` taken before it and the `evm_revert` after it (a new snapshot id each time: Anvil consumes one on
revert). `env` points the scan tests' RPC variable at the session Anvil.
"""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import World, build_world

from .scan_helpers import ENV


class WorldFactory:
    """Worlds by protocol set: the full one on the session node, partial ones on their own Anvil (one at a time)."""

    def __init__(self, session_node: Callable[[], Anvil]):
        self._session_node = session_node
        self._full: World | None = None
        self._partial: tuple[tuple[str, ...], Anvil, World] | None = None

    def full(self) -> World:
        """The whole demo world (every available protocol) on the session Anvil."""
        if self._full is None:
            from defirisk.demo import available_protocols

            self._full = build_world(Chain(self._session_node().url), available_protocols())
        return self._full

    def only(self, *protocols: str) -> World:
        """A world of just `protocols` on its own Anvil; asking for another set stops the previous node."""
        key = tuple(protocols)
        if self._partial is not None and self._partial[0] == key:
            return self._partial[2]
        self.close_partial()
        node = Anvil().start()
        try:
            w = build_world(Chain(node.url), protocols=key)
        except BaseException:
            node.stop()
            raise
        self._partial = (key, node, w)
        return w

    def close_partial(self) -> None:
        if self._partial is not None:
            _, node, _ = self._partial
            self._partial = None
            node.stop()


def isolated(w: World) -> Iterator[World]:
    """Yield `w` between a fresh snapshot and the revert to it."""
    snap = w.chain.snapshot()
    yield w
    w.chain.revert(snap)


@pytest.fixture(scope="session")
def anvil():
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def world_factory(request) -> Iterator[WorldFactory]:
    f = WorldFactory(lambda: request.getfixturevalue("anvil"))
    yield f
    f.close_partial()


@pytest.fixture(scope="session")
def world(world_factory: WorldFactory) -> World:
    """The full demo world, built once per session (reverted after each test by `_revert_after_test`)."""
    return world_factory.full()


@pytest.fixture
def aworld(world_factory: WorldFactory) -> Iterator[World]:
    """Only the Aave v3 world, on its own Anvil, reverted after the test."""
    yield from isolated(world_factory.only("aave_v3"))


@pytest.fixture
def vworld(world_factory: WorldFactory) -> Iterator[World]:
    """Only the options-vault world, on its own Anvil, reverted after the test."""
    yield from isolated(world_factory.only("options_vaults"))


@pytest.fixture
def uniswap_world(world_factory: WorldFactory) -> Iterator[World]:
    """Only the Uniswap world, on its own Anvil, reverted after the test."""
    yield from isolated(world_factory.only("uniswap"))


@pytest.fixture
def v4world(world_factory: WorldFactory) -> Iterator[World]:
    """Only the Uniswap v4 world, on its own Anvil, reverted after the test."""
    yield from isolated(world_factory.only("uniswap_v4"))


@pytest.fixture(scope="session")
def book_file(world, tmp_path_factory):
    """The world's address book as an --addresses file."""
    return world.write_address_book(tmp_path_factory.mktemp("book") / "addresses.json")


@pytest.fixture
def env(monkeypatch, anvil):
    """The scan configs' RPC variable (scan_helpers.ENV) set to the session Anvil."""
    monkeypatch.setenv(ENV, anvil.url)


@pytest.fixture(autouse=True)
def _revert_after_test(request):
    """Every test that touches the full world leaves it as it found it (a fresh snapshot id each time)."""
    if "world" not in request.fixturenames:
        yield
        return
    yield from isolated(request.getfixturevalue("world"))
