"""Hide secrets in RPC URLs (API keys in paths, query strings, userinfo) before anything prints them."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL_RE = re.compile(r"(?:https?|wss?)://[^\s'\"<>]+(?:<redacted>)?")


def redact_url(url: str) -> str:
    """The URL with only scheme, host and port kept: `https://host:port/<redacted>`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<redacted-url>"
    secret = parts.path not in ("", "/") or parts.query or parts.username or parts.password or parts.fragment
    return f"{parts.scheme}://{host}{port}" + ("/<redacted>" if secret else "")


def redact_text(text: str, *secrets: str) -> str:
    """Text with every URL (and every given secret string) redacted."""
    for s in secrets:
        if s:
            text = text.replace(s, redact_url(s))
    return _URL_RE.sub(lambda m: m.group(0) if m.group(0).endswith("<redacted>") else redact_url(m.group(0)), text)
