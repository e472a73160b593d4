"""Alerts: evaluate each rule on the head snapshot's observations, emit a JSON line (and optional webhook POST)
once per state change, keep the state in the cache (`alert_state`).

Delivery is at least once: lines are written before the new state commits, so a crash in between repeats
them on the next run rather than losing them.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence, TextIO

import requests

from ..chain.redact import redact_url
from ..store import scan_sql
from ..store.cache import Cache
from .config import AlertConfig
from .rules import compute_transitions

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _write(output: str, lines: Sequence[str], stdout: TextIO | None, base_dir: Path) -> None:
    if not lines:
        return
    if output == "-":
        out = stdout or sys.stdout
        for ln in lines:
            out.write(ln + "\n")
        out.flush()
        return
    p = Path(output).expanduser()
    p = p if p.is_absolute() else base_dir / p
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("a") as f:
        for ln in lines:
            f.write(ln + "\n")


def _post(url: str, docs: Sequence[dict[str, Any]]) -> None:
    for d in docs:
        try:
            requests.post(url, json=d, timeout=10).raise_for_status()
        except requests.RequestException as e:
            log.warning("alert webhook %s failed: %s", redact_url(url), type(e).__name__)


def evaluate_alerts(
    store: Cache,
    alerts: Sequence[AlertConfig],
    observations: Mapping[str, Mapping[str, Any]],
    *,
    chain_id: int,
    block: int,
    block_hash: str,
    base_dir: Path,
    stdout: TextIO | None = None,
) -> list[dict[str, Any]]:
    """Emit the state changes of every rule at this block; returns the alert documents emitted."""
    emitted: list[dict[str, Any]] = []
    now = _now()
    for a in alerts:
        rule = a.rule.text
        changes, state = compute_transitions(a.rule, observations, scan_sql.alert_states(store, chain_id, rule))
        docs = []
        for c in changes:
            o = observations[c.subject]
            docs.append({
                "time": now.isoformat() + "Z", "chain_id": chain_id, "block": block, "block_hash": block_hash,
                "rule": rule, "subject": c.subject, "state": "firing" if c.firing else "cleared", "value": c.value,
                **{k: o[k] for k in ("owner", "pool") if o.get(k) is not None},
            })
        _write(a.output, [json.dumps(d, sort_keys=True) for d in docs], stdout, base_dir)
        if a.webhook and docs:
            _post(a.webhook, docs)
        with store.transaction():
            store.upsert("alert_state", [
                {"chain_id": chain_id, "rule": rule, "subject": s, "firing": f, "value": v, "block": block, "updated_at": now}
                for s, (f, v) in state.items()
            ])
        emitted.extend(docs)
    return emitted
