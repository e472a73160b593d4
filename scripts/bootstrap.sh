#!/usr/bin/env bash
# Installs what the demo and the tests need, only when it is missing or out of date:
# a virtualenv in .venv with the package and its test extras, and the pinned npm packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

py="${PYTHON:-python3}"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "defirisk needs Python 3.11 or newer (found: $("$py" --version 2>&1))" >&2; exit 1; }
command -v npm >/dev/null || { echo "defirisk's local chain needs Node.js and npm on PATH" >&2; exit 1; }

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

if [ ! -x .venv/bin/python ]; then
  echo "[bootstrap] creating .venv" >&2
  "$py" -m venv .venv
fi
want="$(stamp_of pyproject.toml)"
if [ "$(cat .venv/.defirisk-stamp 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] installing Python packages" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
  echo "$want" > .venv/.defirisk-stamp
fi

want="$(stamp_of package.json package-lock.json)"
if [ "$(cat node_modules/.defirisk-stamp 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > node_modules/.defirisk-stamp
fi

# The HTML report's browser test opens the report in Debian's headless Chromium (no browser is downloaded).
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "[bootstrap] installing chromium (apt-get) for the HTML report's browser test" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else
    echo "[bootstrap] chromium is missing: the HTML report's browser test will be skipped;" \
         "install it with: sudo apt-get install -y chromium" >&2
  fi
fi
