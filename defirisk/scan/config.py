"""The scan's TOML file: chain (RPC URL by env variable name only), jobs, alert rules; parsed and checked (pure).

    [chain]
    rpc_url_env = "DEFIRISK_RPC_URL"   # the NAME of the variable holding the URL; a literal URL is refused
    chain_id = 31337
    confirmations = 12
    start_block = 0
    addresses = "book.json"            # optional, relative to the TOML file

    every = "5m"                       # optional: the default period of jobs in a loop

    [[jobs]]
    name = "weth-usdc"
    every = "1m"                       # optional: this job's own period
    pools = ["0x…"]; markets = ["0x…"]; vaults = ["0x…"]; wallets = ["0x…"]; position_managers = true

    [[alerts]]
    rule = "health_factor < 1.1"; output = "alerts.jsonl"; webhook = "http://…"
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..addresses import parse_address
from ..errors import ConfigError, InputError
from .rules import Rule, parse_rule

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JOB_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}

CHAIN_KEYS = {"rpc_url_env", "chain_id", "confirmations", "start_block", "addresses", "timeout",
              "max_blocks_per_request"}
JOB_KEYS = {"name", "pools", "markets", "vaults", "wallets", "position_managers", "every", "v4_pools",
            "v4_position_manager", "morpho_markets"}
ALERT_KEYS = {"rule", "output", "webhook"}
TOP_KEYS = {"chain", "jobs", "alerts", "every"}


@dataclass(frozen=True)
class ChainConfig:
    """Where to read: the env variable naming the RPC URL, the chain id, finality depth and first block."""

    rpc_url_env: str
    chain_id: int
    confirmations: int = 12
    start_block: int = 0
    addresses: Path | None = None
    timeout: float = 60.0  # seconds per HTTP request
    max_blocks_per_request: int = 100_000  # upper bound of the adaptive eth_getLogs range

    def rpc_url(self) -> str:
        """The RPC URL from the environment (never from the file)."""
        url = os.environ.get(self.rpc_url_env, "").strip()
        if not url:
            raise ConfigError(f"the environment variable {self.rpc_url_env} (chain.rpc_url_env) is not set; "
                              "export it with the node's RPC URL")
        return url


@dataclass(frozen=True)
class Job:
    """One scan job: the contracts whose events it indexes and the wallets it snapshots at the head."""

    name: str
    pools: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    vaults: tuple[str, ...] = ()
    wallets: tuple[str, ...] = ()
    position_managers: bool = False
    every_seconds: float | None = None  # this job's own period in a loop (None: the default)
    v4_pools: tuple[str, ...] = ()  # Uniswap v4 pool ids (0x + 64 hex, lower case)
    v4_position_manager: bool = False  # the book's uniswap_v4.position_manager Transfers
    morpho_markets: tuple[str, ...] = ()  # Morpho Blue market ids (0x + 64 hex, lower case) of the book's Morpho


@dataclass(frozen=True)
class AlertConfig:
    """One alert rule and where its JSON lines go ("-" = stdout)."""

    rule: Rule
    output: str = "-"
    webhook: str | None = None


@dataclass(frozen=True)
class ScanConfig:
    """A whole scan file."""

    chain: ChainConfig
    jobs: tuple[Job, ...]
    alerts: tuple[AlertConfig, ...] = ()
    every_seconds: float | None = None
    source: str = "<dict>"
    base_dir: Path = field(default_factory=Path.cwd)


def parse_every(text: str | int | float, *, name: str = "--every") -> float:
    """'5m' / '30s' / '1h' / '2d' / 90 → seconds (> 0); `name` is the option or config key named in errors."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        secs = float(text)
    else:
        m = _EVERY.match(str(text))
        if not m:
            raise InputError(f"{name} takes a duration such as 30s, 5m, 1h or 2d, not {text!r}")
        secs = float(m.group(1)) * _UNITS[m.group(2)]
    if secs <= 0:
        raise InputError(f"{name} must be positive, not {text!r}")
    return secs


def _where(source: str, what: str) -> str:
    return f"{source}: {what}"


def _unknown(d: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise ConfigError(_where(source, f"unknown key(s) {', '.join(extra)} in {where} (allowed: {', '.join(sorted(allowed))})"))


def _int(d: Mapping[str, Any], key: str, default: int | None, source: str, *, minimum: int = 0) -> int:
    v = d.get(key, default)
    if v is None:
        raise ConfigError(_where(source, f"chain.{key} is required"))
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ConfigError(_where(source, f"chain.{key} must be an integer >= {minimum}, not {v!r}"))
    return v


def _addresses(job: Mapping[str, Any], key: str, source: str, name: str) -> tuple[str, ...]:
    v = job.get(key, [])
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list):
        raise ConfigError(_where(source, f"jobs.{name}.{key} must be a list of addresses"))
    out = []
    for a in v:
        if re.fullmatch(r"0x[0-9a-fA-F]{64}", str(a).strip()):
            raise ConfigError(_where(source, f"jobs.{name}.{key} entry {a!r} is a 32-byte id, not an address: list "
                                             "Uniswap v4 pool ids under v4_pools, Morpho market ids under morpho_markets"))
        try:
            out.append(parse_address(str(a), what=f"jobs.{name}.{key} entry"))
        except InputError as e:
            raise ConfigError(_where(source, str(e))) from None
    return tuple(dict.fromkeys(out))


def _pool_ids(job: Mapping[str, Any], key: str, source: str, name: str,
              what: str = "Uniswap v4 pool id (0x + 64 hex digits; a pool's key hashes to it)") -> tuple[str, ...]:
    """A job's 32-byte ids (Uniswap v4 pool ids, Morpho market ids: 0x + 64 hex digits), lower case."""
    v = job.get(key, [])
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list):
        raise ConfigError(_where(source, f"jobs.{name}.{key} must be a list of pool ids"))
    out = []
    for a in v:
        t = str(a).strip().lower()
        if not re.fullmatch(r"0x[0-9a-f]{64}", t):
            raise ConfigError(_where(source, f"jobs.{name}.{key} entry {a!r} is not a {what}"))
        out.append(t)
    return tuple(dict.fromkeys(out))


def _chain(d: Any, source: str, base: Path) -> ChainConfig:
    if not isinstance(d, dict):
        raise ConfigError(_where(source, "a [chain] table is required (rpc_url_env, chain_id, confirmations, ...)"))
    if "rpc_url" in d:
        raise ConfigError(_where(source, "chain.rpc_url is not allowed: put the URL in an environment variable and "
                                         "name that variable in chain.rpc_url_env"))
    _unknown(d, CHAIN_KEYS, source, "[chain]")
    env = d.get("rpc_url_env")
    if not isinstance(env, str) or not env:
        raise ConfigError(_where(source, "chain.rpc_url_env is required: the name of the environment variable "
                                         "holding the RPC URL, e.g. \"DEFIRISK_RPC_URL\""))
    if "://" in env or not _ENV_NAME.match(env):
        raise ConfigError(_where(source, "chain.rpc_url_env must be the NAME of an environment variable "
                                         "(e.g. \"DEFIRISK_RPC_URL\"), never the URL itself: a URL can carry an "
                                         "API key and the file could be shared"))
    addresses = d.get("addresses")
    if addresses is not None:
        if not isinstance(addresses, str):
            raise ConfigError(_where(source, "chain.addresses must be the path of a JSON address book"))
        p = Path(addresses).expanduser()
        addresses = p if p.is_absolute() else base / p
    timeout = d.get("timeout", 60.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(_where(source, f"chain.timeout is seconds per request (> 0), not {timeout!r}"))
    return ChainConfig(
        rpc_url_env=env,
        chain_id=_int(d, "chain_id", None, source, minimum=1),
        confirmations=_int(d, "confirmations", 12, source),
        start_block=_int(d, "start_block", 0, source),
        addresses=addresses,
        timeout=float(timeout),
        max_blocks_per_request=_int(d, "max_blocks_per_request", 100_000, source, minimum=1),
    )


def _job(j: Any, i: int, source: str) -> Job:
    if not isinstance(j, dict):
        raise ConfigError(_where(source, f"jobs[{i}] must be a table"))
    name = j.get("name")
    if not isinstance(name, str) or not _JOB_NAME.match(name):
        raise ConfigError(_where(source, f"jobs[{i}].name is required: letters, digits, '-', '_' or '.' (got {name!r})"))
    _unknown(j, JOB_KEYS, source, f"job {name!r}")
    pm = j.get("position_managers", False)
    if not isinstance(pm, bool):
        raise ConfigError(_where(source, f"jobs.{name}.position_managers must be true or false"))
    v4pm = j.get("v4_position_manager", False)
    if not isinstance(v4pm, bool):
        raise ConfigError(_where(source, f"jobs.{name}.v4_position_manager must be true or false"))
    try:
        every = parse_every(j["every"], name=f"jobs.{name}.every") if j.get("every") is not None else None
    except InputError as e:
        raise ConfigError(_where(source, str(e))) from None
    job = Job(
        name=name,
        pools=_addresses(j, "pools", source, name),
        markets=_addresses(j, "markets", source, name),
        vaults=_addresses(j, "vaults", source, name),
        wallets=_addresses(j, "wallets", source, name),
        position_managers=pm,
        every_seconds=every,
        v4_pools=_pool_ids(j, "v4_pools", source, name),
        v4_position_manager=v4pm,
        morpho_markets=_pool_ids(j, "morpho_markets", source, name, "Morpho Blue market id (0x + 64 hex digits)"),
    )
    if not (job.pools or job.markets or job.vaults or job.wallets or job.position_managers or job.v4_pools
            or job.v4_position_manager or job.morpho_markets):
        raise ConfigError(_where(source, f"job {name!r} has nothing to do: give pools, markets, vaults, wallets, "
                                         "v4_pools, morpho_markets or position_managers = true"))
    return job


def _check_writable(output: str, base: Path, source: str, i: int) -> None:
    """Refuse at load an alert file that could not be appended to (its folder is created when missing)."""
    p = Path(output).expanduser()
    p = p if p.is_absolute() else base / p
    where = f"alerts[{i}].output {output!r}"
    if p.is_dir():
        raise ConfigError(_where(source, f"{where} is a folder; give a file path"))
    if p.exists():
        if not os.access(p, os.W_OK):
            raise ConfigError(_where(source, f"{where} cannot be written (permission denied)"))
        return
    d = p.parent
    while not d.exists():
        d = d.parent
    if not d.is_dir():
        raise ConfigError(_where(source, f"{where} cannot be created: {d} is a file, not a folder"))
    if not os.access(d, os.W_OK | os.X_OK):
        raise ConfigError(_where(source, f"{where} cannot be created: folder {d} is not writable"))


def _alert(a: Any, i: int, source: str, base: Path | None = None) -> AlertConfig:
    if not isinstance(a, dict):
        raise ConfigError(_where(source, f"alerts[{i}] must be a table"))
    _unknown(a, ALERT_KEYS, source, f"alerts[{i}]")
    if not isinstance(a.get("rule"), str):
        raise ConfigError(_where(source, f"alerts[{i}].rule is required, e.g. \"health_factor < 1.1\""))
    try:
        rule = parse_rule(a["rule"])
    except InputError as e:
        raise ConfigError(_where(source, f"alerts[{i}]: {e}")) from None
    out = a.get("output", "-")
    hook = a.get("webhook")
    if not isinstance(out, str) or not out:
        raise ConfigError(_where(source, f"alerts[{i}].output must be a file path or \"-\" for stdout"))
    if out != "-" and base is not None:
        _check_writable(out, base, source, i)
    if hook is not None and (not isinstance(hook, str) or not re.match(r"^https?://", hook)):
        raise ConfigError(_where(source, f"alerts[{i}].webhook must be an http(s) URL"))
    return AlertConfig(rule=rule, output=out, webhook=hook)


def parse_config(data: Mapping[str, Any], *, source: str = "<dict>", base_dir: Path | None = None) -> ScanConfig:
    """A ScanConfig from the TOML document's data; ConfigError says what is wrong and where."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a scan configuration is a TOML document / dict")
    base = base_dir or Path.cwd()
    _unknown(data, TOP_KEYS, source, "the top level")
    chain = _chain(data.get("chain"), source, base)
    jobs_raw = data.get("jobs")
    if not isinstance(jobs_raw, list) or not jobs_raw:
        raise ConfigError(_where(source, "at least one [[jobs]] table is required"))
    jobs = tuple(_job(j, i, source) for i, j in enumerate(jobs_raw))
    names = [j.name for j in jobs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(_where(source, f"job names must be unique; repeated: {', '.join(dup)}"))
    alerts_raw = data.get("alerts", [])
    if not isinstance(alerts_raw, list):
        raise ConfigError(_where(source, "alerts must be [[alerts]] tables"))
    alerts = tuple(_alert(a, i, source, base) for i, a in enumerate(alerts_raw))
    every = data.get("every")
    try:
        every_s = parse_every(every, name="the top-level key `every`") if every is not None else None
    except InputError as e:
        raise ConfigError(_where(source, str(e))) from None
    return ScanConfig(chain=chain, jobs=jobs, alerts=alerts, every_seconds=every_s, source=source, base_dir=base)


def load_config(config: str | Path | Mapping[str, Any]) -> ScanConfig:
    """A ScanConfig from a TOML file path or an already-parsed dict."""
    if isinstance(config, Mapping):
        return parse_config(config)
    p = Path(config).expanduser()
    try:
        text = p.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read the scan configuration {p} ({e.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p} is not valid TOML: {e}") from None
    return parse_config(data, source=str(p), base_dir=p.resolve().parent)
