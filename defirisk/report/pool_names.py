"""Pools named by pair and fee ("WETH/USDC 0.05%", "… v2") from what a document says about them."""
from __future__ import annotations

import re

_NAMED = re.compile(r"(?:of \S+ |in pool )?(0x[0-9a-fA-F]{40})\s*\(([^()]+)\)")
_NAMED_AFTER = re.compile(r"of \S+ (\S+/\S+ [0-9.]+%) (0x[0-9a-fA-F]{40})")


def pool_names(doc: dict) -> dict[str, str]:
    """Pool address -> "WETH/USDC 0.05%" from everything the document says about its pools."""
    names: dict[str, str] = {}
    for k, v in (doc.get("volatility") or {}).items():
        if v.get("name"):
            names[k] = v["name"]
    if doc.get("pool"):
        p = doc["pool"]
        names[p["address"]] = f"{p['symbol0']}/{p['symbol1']} {p['fee_pct']:g}%" + (" v2" if p["protocol"] == "uniswap_v2" else "")
    for p in doc.get("positions") or []:
        if str(p.get("protocol", "")).startswith("uniswap") and p.get("pool"):
            v2 = " v2" if p["protocol"] == "uniswap_v2" else ""
            names.setdefault(p["pool"], f"{p['symbol0']}/{p['symbol1']} {p['fee'] / 1e4:g}%{v2}")
    texts = [str(p.get("sigma_source") or "") for p in doc.get("positions") or []]
    texts += [str(a.get("sigma_source") or "") for lend in doc.get("lending") or [] for a in lend.get("assets") or []]
    if doc.get("vault"):
        texts.append(str(doc["vault"].get("sigma_source") or ""))
    for t in texts:
        for addr, name in _NAMED.findall(t):
            names.setdefault(addr, name)
        for name, addr in _NAMED_AFTER.findall(t):
            names.setdefault(addr, name)
    return names


def name_pools(text: str, names: dict[str, str]) -> str:
    """`text` with each known pool address replaced by its pair and fee."""
    for addr, name in names.items():
        text = text.replace(f"{addr} ({name})", name).replace(f"{name} {addr}", name).replace(addr, name)
    return text
