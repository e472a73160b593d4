"""The package's entry points (`defirisk.analyze`, `defirisk.risk`, `defirisk.open_cache`) stay callable whatever
has been imported before: importing the `defirisk.risk` subpackage rebinds `defirisk.risk` to it."""
from __future__ import annotations

import subprocess
import sys

import pytest

import defirisk

SCRIPT = """
import defirisk
import defirisk.risk.var  # rebinds defirisk.risk to the subpackage
try:
    defirisk.risk(["0xnot"], rpc_url="http://127.0.0.1:1", addresses="/nonexistent.json")
except defirisk.DefiriskError as e:
    print("DefiriskError:", e)
"""


def test_risk_entry_point_survives_subpackage_import() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "DefiriskError: wallet '0xnot' is not a 0x-prefixed" in done.stdout


@pytest.mark.parametrize("name", ["analyze", "risk", "open_cache"])
def test_entry_points_are_callable(name: str) -> None:
    import defirisk.risk.book  # noqa: F401  (the import that used to break `defirisk.risk`)

    assert callable(getattr(defirisk, name))
