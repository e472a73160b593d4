"""`mypy defirisk` is clean, with pyproject.toml's [tool.mypy] settings: a type error anywhere fails the suite."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import defirisk

ROOT = Path(defirisk.__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"


def run_mypy(*targets: str | Path) -> tuple[int, str]:
    """(exit code, report) of `python -m mypy TARGETS` with the tree's config; its cache is the tree's .mypy_cache."""
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), "--cache-dir", str(ROOT / ".mypy_cache"),
           *map(str, targets)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_package_type_checks_clean():
    code, report = run_mypy("defirisk")
    assert code == 0, f"mypy defirisk found type errors (fix the types; see pyproject.toml [tool.mypy]):\n{report}"
    # it checked the whole package, not an empty selection
    checked = re.search(r"no issues found in (\d+) source files", report)
    modules = list((ROOT / "defirisk").rglob("*.py"))
    assert checked and int(checked.group(1)) == len(modules), report


def test_the_check_catches_what_it_should(tmp_path):
    bad = tmp_path / "typecheck_probe.py"
    bad.write_text(
        "from typing import Optional\n\n"
        "def f(x: Optional[int]) -> int:\n"
        "    return x + 1\n\n"  # None is possible: union-attr / operator error
        "y: int = 'not an int'\n"
        "z = len(5)  # type: ignore\n"  # a blanket ignore is itself an error (ignore-without-code)
        "def g(x):\n    return x\n"  # no annotation at all (disallow_untyped_defs)
        "def h(x: int, y) -> int:\n    return x\n"  # one parameter left out (disallow_incomplete_defs)
    )
    code, report = run_mypy(bad)
    assert code == 1, report
    assert re.search(r"typecheck_probe\.py:4: error: .*None", report), report
    assert "typecheck_probe.py:6: error: Incompatible types in assignment" in report, report
    assert "[ignore-without-code]" in report, report
    assert "typecheck_probe.py:8: error: Function is missing a type annotation  [no-untyped-def]" in report, report
    assert ("typecheck_probe.py:10: error: Function is missing a type annotation for one or more parameters  "
            "[no-untyped-def]") in report, report
