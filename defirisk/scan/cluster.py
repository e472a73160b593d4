"""The Dask cluster of a scan (`defirisk scan --dask ADDRESS|local:N`): a client to a running scheduler, or a local
cluster of N worker processes started for the scan and stopped after it. Dask (`distributed`) is an optional
dependency (`pip install 'defirisk[dask]'`), imported only here and on the workers."""
from __future__ import annotations

import hashlib
import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from ..chain.rpc import RpcClient
from ..errors import ConfigError, InputError


def parse_dask(spec: str) -> tuple[str, int | str]:
    """("local", N) for "local:N", ("address", spec) for a scheduler address (tcp://host:8786, host:8786)."""
    m = re.fullmatch(r"local:(\d+)", spec.strip())
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 256:
            raise InputError(f"--dask local:N takes 1 to 256 workers, not {n}")
        return "local", n
    if not re.fullmatch(r"(tcp|tls|inproc|ws|wss)://\S+|[\w.-]+:\d+", spec.strip()):
        raise InputError(f"--dask takes a scheduler address (tcp://host:8786) or local:N, not {spec!r}")
    return "address", spec.strip()


@contextmanager
def dask_client(spec: str) -> Iterator[Any]:
    """A distributed.Client for `spec` (closed after; a local cluster is stopped too)."""
    kind, arg = parse_dask(spec)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--dask needs Dask's distributed scheduler: pip install 'defirisk[dask]'") from None
    if kind == "local":
        cluster = LocalCluster(n_workers=int(arg), threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(str(arg), timeout="10s")
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"cannot reach the Dask scheduler at {arg}: {e}") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def n_workers(client: Any) -> int:
    """The workers a client's scheduler has now (at least 1)."""
    try:
        return max(1, len(client.scheduler_info().get("workers", {})))
    except Exception:  # noqa: BLE001 - a scheduler that does not say: plan for one
        return 1


_CLIENTS: dict[tuple[str, float, int], RpcClient] = {}


def worker_client(url: str, timeout: float) -> RpcClient:
    """A Dask worker's own RPC session for `url` (one per worker thread, kept between tasks)."""
    key = (url, timeout, threading.get_ident())
    client = _CLIENTS.get(key)
    if client is None:
        client = _CLIENTS[key] = RpcClient(url, timeout=timeout)
    return client


def limit_name(url: str) -> str:
    """The name of the cluster-wide semaphore of one RPC URL (a hash: the URL may hold a key, names are visible)."""
    return "defirisk-rpc-" + hashlib.sha256(url.encode()).hexdigest()[:16]


def url_limit(url: str, leases: int) -> Any:
    """On a worker: the cluster-wide semaphore of `url` (at most `leases` holders at once), so a cluster does not
    trip the provider's 429s."""
    from distributed import Semaphore  # on a worker: Dask is there

    return Semaphore(max_leases=leases, name=limit_name(url))
