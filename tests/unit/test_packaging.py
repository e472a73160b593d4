"""The wheel's package list (pyproject.toml) names every package of the tree, and the data a wheel needs."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_of_the_tree_is_listed() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    tree = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "defirisk").rglob("__init__.py")}
    assert tree <= listed, f"add to [tool.setuptools] packages: {sorted(tree - listed)}"
    mapped = conf["package-dir"]
    assert mapped == {"defirisk.abis": "abis", "defirisk.npm": "."}
    assert listed - tree == set(mapped), f"listed but not in the tree: {sorted(listed - tree - set(mapped))}"
    assert any((ROOT / "abis").glob("*.json")) and (ROOT / "package-lock.json").is_file()
