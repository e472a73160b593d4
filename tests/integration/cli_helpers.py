"""Running the CLI inside a test: exit code and captured output."""
from __future__ import annotations

import pytest

from defirisk.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`defirisk *argv` in-process: (exit code, stdout, stderr), with the capture emptied for the next run."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
