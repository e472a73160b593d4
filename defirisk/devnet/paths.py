"""Where the devnet's npm parts live: $DEFIRISK_NODE_MODULES, node_modules beside a checkout, or (installed from a
wheel) the pinned packages installed once with `npm ci` into the user cache directory."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_DIR.parent
CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
ANVIL_BIN = Path("@foundry-rs") / "anvil-linux-amd64" / "bin" / "anvil"


def user_cache() -> Path:
    """$XDG_CACHE_HOME/defirisk (default ~/.cache/defirisk)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "defirisk"


def _manifest() -> Path | None:
    """The folder holding the pinned package.json and package-lock.json (a checkout's root, or the wheel's copy)."""
    for d in (REPO_ROOT, PACKAGE_DIR / "npm"):
        if (d / "package.json").is_file() and (d / "package-lock.json").is_file():
            return d
    return None


def _install(manifest: Path) -> Path:
    """`npm ci` of the manifest into the user cache (once per lock file); the node_modules path."""
    lock = (manifest / "package-lock.json").read_bytes()
    home = user_cache() / "npm" / hashlib.sha256(lock).hexdigest()[:16]
    done = home / "node_modules" / ".defirisk-installed"
    if done.exists():
        return home / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        raise ConfigError("the local chain needs Node.js and npm (to install Anvil and the protocols' pinned "
                          "bytecode once): install Node.js 18+ with npm, or set DEFIRISK_NODE_MODULES")
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create {home} for the local chain's npm packages: {e.strerror}") from None
    for f in ("package.json", "package-lock.json"):
        shutil.copyfile(manifest / f, home / f)
    r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=home, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise ConfigError(f"npm ci of the local chain's pinned packages failed in {home}: {r.stderr.strip()[-500:]}")
    done.write_text("ok\n")
    return home / "node_modules"


def node_modules() -> Path:
    """The node_modules folder holding the pinned npm packages (installed on first use when needed)."""
    env = os.environ.get("DEFIRISK_NODE_MODULES")
    if env:
        p = Path(env)
        if not p.is_dir():
            raise ConfigError(f"DEFIRISK_NODE_MODULES={p} is not a folder")
        return p
    local = REPO_ROOT / "node_modules"
    if local.is_dir() and (REPO_ROOT / "package.json").is_file():
        return local
    manifest = _manifest()
    if manifest is None:
        raise ConfigError("the pinned npm manifest (package.json, package-lock.json) is missing: reinstall defirisk")
    return _install(manifest)


def anvil_binary() -> str:
    """Path of the Anvil binary: $DEFIRISK_ANVIL, the pinned npm package, or anvil on PATH."""
    env = os.environ.get("DEFIRISK_ANVIL")
    if env:
        return env
    try:
        p = node_modules() / ANVIL_BIN
    except ConfigError:
        found = shutil.which("anvil")
        if found:
            return found
        raise
    if p.exists():
        return str(p)
    raise ConfigError(f"Anvil not found at {p}: reinstall the npm packages, or set DEFIRISK_ANVIL")


def cache_dir() -> Path:
    """A folder for compile outputs and other rebuildable files."""
    p = user_cache() / "devnet"
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create {p} for compile outputs: {e.strerror}") from None
    return p
