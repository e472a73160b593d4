"""The scan's TOML file: what it accepts, and a clear message for each mistake a user can make."""
from __future__ import annotations

import pytest

from defirisk.errors import ConfigError, InputError
from defirisk.scan.config import load_config, parse_config, parse_every

A = "0x52BC30c30D95e053B98501a0fCED2F132772540b"
B = "0x7f6E56Bc1Ba9D42159E8e493aF602048dEd3AE4d"

GOOD = f"""
every = "5m"
[chain]
rpc_url_env = "MY_NODE"
chain_id = 31337
confirmations = 6
start_block = 10
addresses = "book.json"

[[jobs]]
name = "weth-usdc"
pools = ["{A.lower()}"]
markets = ["{B}"]
wallets = ["{A}", "{A}"]
position_managers = true

[[alerts]]
rule = "health_factor < 1.1"
output = "alerts.jsonl"
webhook = "http://127.0.0.1:9/hook"

[[alerts]]
rule = "lp_out_of_range"
"""


def test_a_full_file_parses(tmp_path):
    p = tmp_path / "scans.toml"
    p.write_text(GOOD)
    cfg = load_config(p)
    assert cfg.chain.rpc_url_env == "MY_NODE" and cfg.chain.chain_id == 31337
    assert cfg.chain.confirmations == 6 and cfg.chain.start_block == 10
    assert cfg.chain.addresses == tmp_path / "book.json"  # relative to the file, not the working directory
    job = cfg.jobs[0]
    assert job.pools == (A,) and job.markets == (B,) and job.wallets == (A,) and job.position_managers
    assert [a.rule.text for a in cfg.alerts] == ["health_factor < 1.1", "lp_out_of_range"]
    assert cfg.alerts[0].output == "alerts.jsonl" and cfg.alerts[1].output == "-"
    assert cfg.every_seconds == 300


def base(**chain):
    return {"chain": {"rpc_url_env": "X", "chain_id": 1, **chain}, "jobs": [{"name": "j", "pools": [A]}]}


@pytest.mark.parametrize("chain, needle", [
    ({"rpc_url_env": "https://mainnet.infura.io/v3/KEY"}, "NAME of an environment variable"),
    ({"rpc_url": "http://x"}, "chain.rpc_url is not allowed"),
    ({"rpc_url_env": ""}, "rpc_url_env is required"),
    ({"chain_id": 0}, "chain.chain_id must be an integer >= 1"),
    ({"confirmations": -1}, "chain.confirmations must be an integer >= 0"),
    ({"confirmation": 3}, "unknown key(s) confirmation in [chain]"),
    ({"timeout": 0}, "chain.timeout"),
])
def test_chain_mistakes_are_named(chain, needle):
    with pytest.raises(ConfigError) as e:
        parse_config(base(**chain))
    assert needle in str(e.value)
    assert "infura" not in str(e.value).lower() or "KEY" not in str(e.value)


@pytest.mark.parametrize("job, needle", [
    ({"name": "j", "pool": [A]}, "unknown key(s) pool in job 'j'"),
    ({"name": "j"}, "has nothing to do"),
    ({"name": "bad name!", "pools": [A]}, "jobs[0].name"),
    ({"name": "j", "pools": ["0x123"]}, "not a 0x-prefixed 40-hex-digit address"),
    ({"name": "j", "pools": ["vitalik.eth"]}, "ENS name"),
    ({"name": "j", "pools": [A], "position_managers": "yes"}, "true or false"),
])
def test_job_mistakes_are_named(job, needle):
    cfg = base()
    cfg["jobs"] = [job]
    with pytest.raises(ConfigError) as e:
        parse_config(cfg)
    assert needle in str(e.value)


def test_duplicate_jobs_missing_sections_and_bad_rules():
    with pytest.raises(ConfigError, match="repeated: j"):
        parse_config({**base(), "jobs": [{"name": "j", "pools": [A]}, {"name": "j", "pools": [B]}]})
    with pytest.raises(ConfigError, match=r"\[chain\] table is required"):
        parse_config({"jobs": [{"name": "j", "pools": [A]}]})
    with pytest.raises(ConfigError, match="at least one"):
        parse_config({"chain": base()["chain"]})
    with pytest.raises(ConfigError, match="unknown alert metric 'health' "):
        parse_config({**base(), "alerts": [{"rule": "health < 1"}]})
    with pytest.raises(ConfigError, match="webhook must be an http"):
        parse_config({**base(), "alerts": [{"rule": "lp_out_of_range", "webhook": "ftp://x"}]})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({**base(), "alert": []})


def test_a_missing_env_variable_names_it(monkeypatch):
    cfg = parse_config(base(rpc_url_env="DEFIRISK_TEST_UNSET_VAR"))
    monkeypatch.delenv("DEFIRISK_TEST_UNSET_VAR", raising=False)
    with pytest.raises(ConfigError, match="DEFIRISK_TEST_UNSET_VAR .* is not set"):
        cfg.chain.rpc_url()
    monkeypatch.setenv("DEFIRISK_TEST_UNSET_VAR", "http://127.0.0.1:1")
    assert cfg.chain.rpc_url() == "http://127.0.0.1:1"


def test_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the scan configuration"):
        load_config(tmp_path / "missing.toml")
    p = tmp_path / "bad.toml"
    p.write_text("[chain\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


@pytest.mark.parametrize("text, secs", [("30s", 30), ("5m", 300), ("1h", 3600), ("2d", 172800), ("90", 90), (1.5, 1.5), ("0.5m", 30)])
def test_every(text, secs):
    assert parse_every(text) == secs


@pytest.mark.parametrize("text", ["", "5 minutes", "-1m", "0s", "m5"])
def test_bad_every(text):
    with pytest.raises(InputError, match="--every"):
        parse_every(text)
