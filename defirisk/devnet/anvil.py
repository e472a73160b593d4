"""A local Anvil node as a context manager: free port, readiness wait, clean shutdown, log on failure."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import requests

from ..errors import DefiriskError
from .paths import anvil_binary


def free_port() -> int:
    """A TCP port that was free a moment ago (bind-to-0 probe)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    """An Anvil process on 127.0.0.1; `url` is its JSON-RPC endpoint."""

    def __init__(self, *, chain_id: int = 31337, extra_args: Sequence[str] = (), timeout: float = 60.0,
                 port: int | None = None):
        self.chain_id = chain_id
        self.fixed_port = port  # None: a free port is picked (and picked again on a collision)
        self.extra_args = list(extra_args)
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._log = tempfile.NamedTemporaryFile(prefix="anvil-", suffix=".log", delete=False)
        self._home: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return Path(self._log.name)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def start(self) -> "Anvil":
        """Start Anvil and wait until it answers eth_chainId; retry on a port collision."""
        last = ""
        for _ in range(1 if self.fixed_port else 5):
            self.port = self.fixed_port or free_port()
            cmd = [
                anvil_binary(),
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--chain-id", str(self.chain_id),
                "--accounts", "64",
                "--balance", "1000000",
                *self.extra_args,
            ]
            # Anvil keeps the states it pages out under $HOME/.foundry/anvil/tmp and leaves them there (~1.4 GB per
            # test session seen, 77 GB over a day): a HOME of its own, removed when it stops
            self._home = tempfile.mkdtemp(prefix="defirisk-anvil-home-")
            # stdout goes to a file: a full pipe would stall the node
            # its own session: a terminal's Ctrl-C reaches only defirisk, which stops the node itself (cleanly)
            self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, env={**os.environ, "HOME": self._home})
            if self._wait_ready():
                return self
            last = self.log_tail()
            self.stop()
            if "Address already in use" not in last:
                break
        if self.fixed_port and "Address already in use" in last:
            raise DefiriskError(f"port {self.fixed_port} is in use: pick another with --port, or omit it for a free one")
        raise DefiriskError(f"Anvil did not start (waited up to {self.timeout:.0f} s). Its log:\n{last}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.timeout
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                if requests.post(self.url, json=body, timeout=2).ok:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Terminate Anvil (kill after 5 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def __enter__(self) -> "Anvil":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
