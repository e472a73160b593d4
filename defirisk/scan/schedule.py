"""`--every`: run scan passes in the foreground until SIGINT/SIGTERM, stopping cleanly between chunks."""
from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class StopFlag:
    """A threading.Event set by SIGINT/SIGTERM while installed (the previous handlers come back on exit)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._old: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.event.is_set():  # a second signal: give up at once
            raise KeyboardInterrupt
        log.warning("received %s: finishing the current chunk, then stopping", signal.Signals(signum).name)
        self.event.set()

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)  # type: ignore[arg-type]


def run_every(seconds: float, one_pass: Callable[[threading.Event], bool], stop: threading.Event,
              *, clock: Callable[[], float] = time.monotonic) -> int:
    """Call `one_pass(stop)` every `seconds` (measured start to start) until `stop` is set; the passes run.

    `one_pass` returns False to end the loop early. A pass that overruns the period starts the next at once.
    """
    passes = 0
    while not stop.is_set():
        started = clock()
        passes += 1
        if not one_pass(stop):
            break
        delay = seconds - (clock() - started)
        if delay > 0:
            stop.wait(delay)
    return passes
