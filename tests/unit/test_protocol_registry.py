"""The protocol registry is the one list of families: probe, event decoding, scan streams, head snapshots and the
engine's dispatch derive from it."""
from __future__ import annotations

from dataclasses import replace

from defirisk.engine import analyze as engine
from defirisk.engine.parts import parts as engine_parts
from defirisk.protocols import registry
from defirisk.protocols.adapter import Events, Family
from defirisk.protocols.log_rows import PROTOCOL_EVENTS
from defirisk.scan.snapshot import SNAPSHOTS
from defirisk.scan.streams import KINDS


def test_the_lists_derive_from_the_registry():
    names = [f.name for f in registry.FAMILIES]
    assert names == ["uniswap_v3", "uniswap_v2", "aave_v3", "options_vault", "uniswap_v4", "morpho_blue"]
    assert list(PROTOCOL_EVENTS) == ["uniswap_v3", "uniswap_v3_npm", "uniswap_v2", "aave_v3", "options_vault",
                                     "uniswap_v4", "uniswap_v4_posm", "morpho_blue"]
    assert PROTOCOL_EVENTS["aave_v3"] == ("AavePool", ("Supply", "Withdraw", "Borrow", "Repay", "LiquidationCall"))
    assert {k: v.protocols for k, v in KINDS.items()} == {
        "pools": ("uniswap_v3", "uniswap_v2"), "position_managers": ("uniswap_v3_npm",),
        "markets": ("aave_v3",), "vaults": ("options_vault",), "v4_pools": ("uniswap_v4",),
        "v4_position_managers": ("uniswap_v4_posm",), "morpho_markets": ("morpho_blue",)}
    assert {k: s.kind for k, s in SNAPSHOTS.items()} == {
        "wallets": "wallet", "pools": "pool", "markets": "market", "vaults": "vault", "v4_pools": "pool",
        "morpho_markets": "market"}
    assert engine.ANALYZE_KINDS == ("wallet", "pool", "market", "vault")
    assert set(registry.view_kinds()) == {f.view_kind for f in registry.FAMILIES} - {None}
    assert registry.wallet_parts() == ("lp", "aave_v3", "options_vault", "uniswap_v4", "morpho_blue")
    assert [f.name for f in registry.part_families()] == ["aave_v3", "options_vault", "uniswap_v4", "morpho_blue"]
    assert [type(p).__name__ for _, p in engine_parts()] == ["_AavePart", "_VaultPart", "_V4Part", "_MorphoPart"]
    assert registry.view_family("pool").name == "uniswap_v3"  # v4 pools have no address: v3's view answers "pool"
    assert {registry.view_family(k).name for k in ("market", "vault")} == {"aave_v3", "options_vault"}


def test_a_new_family_is_one_registry_line(monkeypatch):
    """A family registered with its events and scan/snapshot keys shows up in every derived list."""
    new = Family(name="compound_v3", view_kind="market", book_keys=("compound_v3",),
                 events={"compound_v3": Events("AavePool", ("Supply",))},
                 scan_kinds={"comet_markets": ("compound_v3",)}, snapshot_kinds={"comet_markets": "market"})
    monkeypatch.setattr(registry, "FAMILIES", (*registry.FAMILIES, new))
    assert registry.protocol_events()["compound_v3"] == ("AavePool", ("Supply",))
    assert registry.scan_kinds()["comet_markets"] == ("compound_v3",)
    assert registry.snapshot_kinds()["comet_markets"] == "market"
    assert registry.family("compound_v3") is new


def test_conflicting_registrations_are_refused(monkeypatch):
    dup = replace(registry.family("aave_v3"), name="aave_again")
    monkeypatch.setattr(registry, "FAMILIES", (*registry.FAMILIES, dup))
    for derive in (registry.protocol_events,):
        try:
            derive()
        except ValueError as e:
            assert "aave_v3" in str(e)
        else:
            raise AssertionError("a protocol registered twice was accepted")
    clash = Family(name="x", view_kind=None, book_keys=(), events={}, snapshot_kinds={"pools": "vault"})
    monkeypatch.setattr(registry, "FAMILIES", (*registry.FAMILIES[:4], clash))
    try:
        registry.snapshot_kinds()
    except ValueError as e:
        assert "pools" in str(e)
    else:
        raise AssertionError("a job key snapshotting as two kinds was accepted")


def test_the_probe_asks_every_family_in_one_batch():
    """probe_kind derives from the registry: a family's probe joins the shared batch (proven with a stub family)."""
    from defirisk.protocols import probe

    seen = []

    def stub(b, ctx, address, code):
        seen.append(address)
        return lambda: True

    class Ctx:
        block, chain_id = 1, 1

    new = Family(name="stub", view_kind="stubview", book_keys=(), events={}, prober=stub)

    class FakeBatch:
        def __init__(self, ctx):
            pass

        def raw(self, *a):
            return None

        def run(self):
            seen.append("run")

    import pytest
    mp = pytest.MonkeyPatch()
    mp.setattr(probe, "FAMILIES", (new,))
    mp.setattr(probe, "Batch", FakeBatch)
    try:
        assert probe.probe_kind(Ctx(), "0xabc") == "stubview" and seen == ["0xabc", "run"]
    finally:
        mp.undo()
