"""The DuckDB cache: one file, idempotent upserts on natural keys, exact uint256 text, one writer at a time.

    with Cache(path) as c:                      # path None: default_cache_path(); ":memory:" for tests
        with c.transaction():                   # all of an analysis or none of it
            run_id = c.put_run(chain_id=1, block=..., block_hash=..., timestamp=..., target=..., kind=...,
                               params={...}, rpc_round_trips=...)
            c.put_payload(run_id, doc)
        c.get_payload(1, block_hash, target, kind, params)   # the same analysis at the same block hash, or None
        c.load_positions(owner="0x...")                       # DataFrames for research

Every write goes through `upsert` (INSERT ... ON CONFLICT DO UPDATE on the table's key), so writing the same
thing twice leaves one row with the newest values. Python ints are turned into exact decimal text for `*_raw`
columns and refused, never rounded, where an integer column cannot hold them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Sequence, cast

import sys
from typing import TYPE_CHECKING

import duckdb
import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from .._version import __version__
from ..errors import CacheLockedError, DefiriskError, InputError
from . import schema

REDACTED = "<redacted>"

_INT_BOUNDS = {"BIGINT": (-(2**63), 2**63 - 1), "INTEGER": (-(2**31), 2**31 - 1)}
_PANDAS_DTYPE = {"BIGINT": "Int64", "INTEGER": "Int64", "DOUBLE": "Float64", "BOOLEAN": "boolean"}


NO_NETWORK: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
"""DuckDB settings of every connection: no extension is ever downloaded or loaded on the fly (no network)."""


def _pd_missing(v: Any) -> bool:
    """True for pandas' NA/NaT; without importing pandas (no value can be one unless pandas is loaded)."""
    pd = sys.modules.get("pandas")
    return pd is not None and (v is pd.NA or v is pd.NaT)


def _is_frame(rows: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(rows, pd.DataFrame)


def _interrupt(e: RuntimeError) -> BaseException:
    """Ctrl-C seen inside DuckDB (a RuntimeError "... interrupted") as the KeyboardInterrupt it was; other errors as is."""
    return KeyboardInterrupt() if "interrupt" in str(e).lower() else e


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def default_cache_path() -> Path:
    """$DEFIRISK_CACHE if set, else $XDG_CACHE_HOME (or ~/.cache) + /defirisk/cache.duckdb."""
    env = os.environ.get("DEFIRISK_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "defirisk" / "cache.duckdb"


# ------------------------------------------------------------------------------------------------------------
# Exact integers and JSON
# ------------------------------------------------------------------------------------------------------------


def to_raw(value: int | str) -> str:
    """The exact text form of an integer (uint256, int256, ...; or its decimal text): plain digits, '-' if negative."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return str(int(value))
        raise InputError(f"an exact integer is needed here, not {type(value).__name__} {value!r}")
    return str(int(value))


def from_raw(text: str | None) -> int | None:
    """The integer of a `*_raw` text value (None stays None)."""
    if text is None or (not isinstance(text, (str, int)) and _is_missing(text)):
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and re.fullmatch(r"\s*-?\d+\s*", text):
        return int(text)
    raise InputError(f"not an exact integer text: {text!r}")


def _jsonable(obj: Any) -> Any:
    """Plain JSON values: NaN/inf become null, ints stay exact, records and numpy values become plain."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple, set, frozenset, np.ndarray)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        return "0x" + bytes(obj).hex()
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj == obj.to_integral_value() else str(obj)
    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    if _pd_missing(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


def _dumps(obj: Any) -> str:
    return json.dumps(_jsonable(obj), allow_nan=False)


def _scrub(obj: Any) -> Any:
    """Replace every string holding '://' (an RPC URL may carry an API key) by '<redacted>', keys included."""
    if isinstance(obj, str):
        return REDACTED if "://" in obj else obj
    if isinstance(obj, Mapping):
        return {_scrub(str(k)): _scrub(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_scrub(v) for v in obj]
    return obj


def _canonical(obj: Any) -> Any:
    """Parameters in one form: integral floats as ints (30 and 30.0 are the same horizon), keys sorted later."""
    obj = _jsonable(obj)
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    if isinstance(obj, dict):
        return {k: _canonical(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_canonical(v) for v in obj]
    return obj


def scrub_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Run parameters as stored: URLs redacted, JSON-plain, canonical."""
    return _canonical(_scrub(dict(params or {})))


def run_id_of(chain_id: int, block_hash: str, target: str, kind: str, params: Mapping[str, Any] | None) -> str:
    """Deterministic id of an analysis: same chain, block hash, target, kind and parameters → same run."""
    blob = json.dumps(
        [int(chain_id), str(block_hash).lower(), str(target).lower(), str(kind), scrub_params(params)],
        sort_keys=True, separators=(",", ":"), allow_nan=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


# ------------------------------------------------------------------------------------------------------------
# Value coercion to the declared column types (the one place Python values meet DuckDB types)
# ------------------------------------------------------------------------------------------------------------


def _is_missing(v: Any) -> bool:
    if v is None or _pd_missing(v):
        return True
    return isinstance(v, float) and math.isnan(v)


def _coerce(v: Any, typ: str, table: str, col: str) -> Any:
    """`v` as the Python value DuckDB stores in a column of type `typ`; exact or refused, never rounded."""
    if isinstance(v, np.generic):
        v = v.item()
    if typ == "JSON":
        if _is_missing(v):
            return None
        if not isinstance(v, str):
            return _dumps(v)
        try:
            json.loads(v)
        except ValueError:
            raise InputError(f"{table}.{col} holds JSON; got text that is not JSON: {v[:80]!r}") from None
        return v
    if _is_missing(v):
        return None
    where = f"{table}.{col}"
    if typ == "VARCHAR":
        if isinstance(v, bool):
            raise InputError(f"{where}: a text column got the boolean {v!r}")
        if isinstance(v, int) or (isinstance(v, str) and col.endswith("_raw")):
            return to_raw(v)
        if isinstance(v, float):
            if col.endswith("_raw"):
                raise InputError(f"{where} holds exact integers; got the float {v!r} (pass the Python int)")
            return repr(v)
        if isinstance(v, (bytes, bytearray)):
            return "0x" + bytes(v).hex()
        if isinstance(v, decimal.Decimal) and col.endswith("_raw"):
            if v != v.to_integral_value():
                raise InputError(f"{where} holds exact integers; got {v}")
            return to_raw(int(v))
        return str(v)
    if typ in _INT_BOUNDS:
        if isinstance(v, float):
            if not v.is_integer():
                raise InputError(f"{where} is an integer column; got {v!r}")
            v = int(v)
        elif isinstance(v, str):
            v = from_raw(v)
        elif not isinstance(v, int):
            raise InputError(f"{where} is an integer column; got {type(v).__name__} {v!r}")
        lo, hi = _INT_BOUNDS[typ]
        if not lo <= v <= hi:
            raise InputError(f"{where} = {v} does not fit {typ}; exact large integers go in *_raw text columns")
        return int(v)
    if typ == "DOUBLE":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        try:
            return float(v)
        except (TypeError, ValueError):
            pass
        raise InputError(f"{where} is a DOUBLE column; got {type(v).__name__} {v!r}")
    if typ == "BOOLEAN":
        if isinstance(v, bool) or v in (0, 1):
            return bool(v)
        raise InputError(f"{where} is a BOOLEAN column; got {v!r}")
    if typ == "TIMESTAMP":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return dt.datetime.fromtimestamp(v, dt.timezone.utc).replace(tzinfo=None)
        if isinstance(v, str):
            try:
                v = dt.datetime.fromisoformat(v)
            except ValueError:
                raise InputError(f"{where} is a TIMESTAMP column; got text that is not ISO 8601: {v!r}") from None
        if isinstance(v, dt.datetime):  # pandas' Timestamp is one too
            if v.tzinfo is not None:
                v = v.astimezone(dt.timezone.utc)
            return dt.datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
        if isinstance(v, dt.date):
            return dt.datetime(v.year, v.month, v.day)
        import pandas as pd  # numpy datetime64 and the like

        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime()
    raise TypeError(f"schema.py declares {where} as {typ}, which the cache cannot write")


def _records(rows: Any) -> list[dict[str, Any]]:
    """A DataFrame, a mapping, a record dataclass or an iterable of those → list of plain dicts."""
    if rows is None:
        return []
    if _is_frame(rows):
        return [] if rows.empty else [dict(r) for r in cast(list[dict[str, Any]], rows.to_dict("records"))]
    if isinstance(rows, Mapping) or (dataclasses.is_dataclass(rows) and not isinstance(rows, type)):
        rows = [rows]
    out = []
    for r in rows:
        if isinstance(r, Mapping):
            out.append(dict(r))
        elif dataclasses.is_dataclass(r) and not isinstance(r, type):
            out.append({f.name: getattr(r, f.name) for f in dataclasses.fields(r)})
        else:
            raise InputError(f"a row must be a dict, a record dataclass or a DataFrame row, not {type(r).__name__}")
    return out


def _pick(r: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    """The first of `names` present (and not missing) in `r`."""
    for n in names:
        if n in r and not _is_missing(r[n]):
            return r[n]
    return default


# ------------------------------------------------------------------------------------------------------------
# The cache
# ------------------------------------------------------------------------------------------------------------


def _sql_str(text: str) -> str:
    """A SQL string literal (COPY's file name cannot be a bound parameter)."""
    return "'" + text.replace("'", "''") + "'"


class Cache:
    """A DuckDB cache file (":memory:" for tests). Use as a context manager or call close().

    Opening for writing creates the file (and its directory) and brings its schema up to date. A second
    process cannot open the file while a writer holds it (DuckDB's file lock): that raises CacheLockedError.
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        path_is_default = path is None  # the user cache dir or $DEFIRISK_CACHE: its folder is created
        if path is None:
            path = default_cache_path()
        self.path = path if path == ":memory:" else str(Path(path).expanduser())
        self.read_only = read_only
        self._tx_depth = 0
        self.chain_schema = "main"  # where this connection reads and writes chain rows (see use_chain)
        if self.path != ":memory:":
            self._check_file(created_dir_ok=path_is_default)
        try:
            self.con = self._connect()
        except RuntimeError as e:  # Ctrl-C inside DuckDB arrives as "Query interrupted"
            raise _interrupt(e) from None
        try:
            self.schema_version = self._migrate()
        except RuntimeError as e:
            self.con.close()
            raise _interrupt(e) from None  # each migration is one transaction: the file is as it was
        except BaseException:
            self.con.close()
            raise

    def _check_file(self, *, created_dir_ok: bool) -> None:
        """Refuse what DuckDB would mishandle: a missing folder given by the user (only the default cache folder is
        created) and a file of another format (a SQLite file would make DuckDB look for an extension)."""
        p = Path(self.path)
        if not self.read_only and not p.parent.is_dir():
            if not created_dir_ok:
                raise DefiriskError(f"the folder of the cache {self.path} does not exist; create it first, or use "
                                    "--cache with a file in an existing folder")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise DefiriskError(f"cannot create the directory of the cache {self.path} ({e.strerror}); "
                                    "use --cache with another file") from None
        try:
            with p.open("rb") as f:
                head = f.read(16)
        except OSError:
            return  # missing (created below) or unreadable (DuckDB's own error says which)
        if head.startswith(b"SQLite format 3"):
            raise DefiriskError(f"{self.path} is a SQLite file, not a DuckDB file; move it away or use --cache with "
                                "another file")

    # -- opening -----------------------------------------------------------------------------------------------
    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(self.path, read_only=self.read_only, config=NO_NETWORK)
        except duckdb.Error as e:
            raise self._open_error(e) from None

    def _open_error(self, e: Exception) -> DefiriskError:
        msg = str(e)
        low = msg.lower()
        where = f"the cache {self.path}"
        if "could not set lock" in low or "conflicting lock" in low:
            pid = re.search(r"\(PID (\d+)\)", msg)
            who = f" (pid {pid.group(1)})" if pid else ""
            return CacheLockedError(
                f"{where} is in use by another defirisk process{who}; wait for it to finish or use --cache "
                "with another file"
            )
        if isinstance(e, duckdb.ConnectionException) and "different configuration" in low:
            return CacheLockedError(
                f"{where} is already open in this process {'for writing' if self.read_only else 'read-only'}; "
                "close that Cache first"
            )
        if "not a valid duckdb database" in low or "extension" in low:
            return DefiriskError(f"{self.path} is not a DuckDB database; move it away or use --cache with another file")
        if "newer version of duckdb" in low:
            return DefiriskError(
                f"{where} was written by a newer DuckDB than this one (duckdb {duckdb.__version__}); upgrade the "
                "duckdb package or use --cache with another file"
            )
        if "storage version" in low:
            return DefiriskError(
                f"{where} was written by a DuckDB whose file format this one (duckdb {duckdb.__version__}) cannot "
                "read; use --cache with another file"
            )
        if "database does not exist" in low:
            return DefiriskError(f"there is no cache at {self.path} yet (run an analysis first, or check --cache)")
        if "wal" in low and ("replay" in low or "checkpoint" in low):
            return DefiriskError(
                f"{where} has a write-ahead log ({self.path}.wal) that cannot be replayed, probably left by a crash; "
                f"move {self.path}.wal away to open the cache as of its last checkpoint, or use --cache with another file"
            )
        first = msg.split(" See also ")[0].strip().splitlines()[0] if msg.strip() else type(e).__name__
        return DefiriskError(f"cannot open {where}: {first}")

    def _stored_version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_version'"
        ).fetchall()[0][0]
        if not exists:
            return 0
        return int(self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0])

    def _migrate(self) -> int:
        """Apply the migrations newer than the file's version, each in its own transaction."""
        version = self._stored_version()
        if version > schema.SCHEMA_VERSION:
            if self.read_only:
                return version  # reading a newer layout is the caller's risk; loaders use SELECT *
            raise DefiriskError(
                f"the cache {self.path} has schema version {version}, written by a newer defirisk (this one, "
                f"{__version__}, knows up to {schema.SCHEMA_VERSION}); upgrade defirisk or use --cache with another file"
            )
        if self.read_only or version == schema.SCHEMA_VERSION:
            return version
        if version == 0:
            with self.transaction():
                self.con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        for number, sql in schema.MIGRATIONS:
            if number <= version:
                continue
            try:
                with self.transaction():
                    for stmt in schema.split_statements(sql):
                        self.con.execute(stmt)
                    self.con.execute("INSERT INTO schema_version VALUES (?)", [number])
            except duckdb.Error as e:
                raise DefiriskError(
                    f"cannot upgrade the cache {self.path} to schema version {number} ({str(e).splitlines()[0]}); "
                    "the file is unchanged. "
                    "Move it away or use --cache with another file"
                ) from e
            version = number
        return version

    # -- chains ----------------------------------------------------------------------------------------------
    def use_chain(self, chain_id: int, genesis_hash: str, *, dev_node: bool = False) -> str:
        """Read and write the rows of the chain (chain id, genesis hash) from now on; the DuckDB schema holding them.

        The first chain of a chain id in this file uses `main` (and claims rows written before chains were told
        apart); another chain with the same id gets its own schema with its own copy of every table, so rows of one
        chain are never read for another. A local development node (`dev_node`) is another chain than the public
        chain whose genesis it shows (a fork). An empty genesis hash (a node that gave none) means `main`.
        """
        key: list[Any] = [int(chain_id), genesis_hash.lower(), bool(dev_node)]
        name = "main"
        if genesis_hash and not self.read_only:
            with self.transaction():
                name = self._chain_schema(int(chain_id), genesis_hash.lower(), bool(dev_node))
        elif genesis_hash:
            got = self.con.execute("SELECT schema_name FROM chains WHERE chain_id = ? AND genesis_hash = ? AND dev_node = ?",
                                   key).fetchall() if self._has_chains() else []
            if got:
                name = got[0][0]
            elif self._has_chains() and self.con.execute("SELECT count(*) FROM chains WHERE chain_id = ?",
                                                         [int(chain_id)]).fetchall()[0][0]:
                raise DefiriskError(f"the cache {self.path} holds no rows of this chain (another chain with id "
                                    f"{chain_id} is in it); open it for writing to add this chain")
        self.con.execute(f"SET search_path = '{name},main'")
        self.chain_schema = name
        return name

    def _has_chains(self) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND "
                                     "table_name = 'chains'").fetchall()[0][0])

    def _chain_schema(self, chain_id: int, genesis: str, dev_node: bool) -> str:
        got = self.con.execute("SELECT schema_name FROM chains WHERE chain_id = ? AND genesis_hash = ? AND dev_node = ?",
                               [chain_id, genesis, dev_node]).fetchall()
        if got:
            return str(got[0][0])
        taken = self.con.execute("SELECT count(*) FROM chains WHERE chain_id = ?", [chain_id]).fetchall()[0][0]
        name = "main"
        if taken:
            name = f"c{chain_id}_{re.sub(r'[^0-9a-f]', '', genesis[2:])[:16]}{'_dev' if dev_node else ''}"
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
            for t in schema.CHAIN_TABLES:
                self.con.execute(schema.TABLES[t].create_sql(f"{name}.{t}"))
        self.con.execute("INSERT INTO main.chains VALUES (?, ?, ?, ?, ?)", [chain_id, genesis, dev_node, name, _utcnow()])
        return name

    def table_names(self) -> list[str]:
        """The cache's tables (schema.TABLES), as `export` names them."""
        return list(schema.TABLES)

    def copy_table(self, table: str, path: str, fmt: str) -> None:
        """COPY every chain's rows of `table` to a file (FORMAT parquet or csv); with several chains side by side
        a `chain_schema` column tells them apart."""
        if table not in schema.TABLES or fmt not in ("parquet", "csv"):
            raise DefiriskError(f"cannot export {table!r} as {fmt!r}")
        schemas = ["main"]
        if self._has_chains():
            schemas += [r[0] for r in self.con.execute(
                "SELECT DISTINCT schema_name FROM main.chains WHERE schema_name <> 'main' ORDER BY 1").fetchall()]
        tag = len(schemas) > 1
        parts = [f"SELECT *{f', {_sql_str(s)} AS chain_schema' if tag else ''} FROM {s}.{table}" for s in schemas]
        self.con.execute(f"COPY ({' UNION ALL BY NAME '.join(parts)}) TO {_sql_str(path)} (FORMAT {fmt})")

    def close(self) -> None:
        """Close the connection (checkpointing the file). Idempotent."""
        self.con.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({self.path!r}{', read_only=True' if self.read_only else ''})"

    # -- transactions ------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Cache]:
        """BEGIN … COMMIT, or ROLLBACK on any error: a crash or failure leaves all of the block or none.

        Nested uses join the outermost transaction.
        """
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield self
            finally:
                self._tx_depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._tx_depth = 1
        try:
            yield self
        except BaseException:
            self._tx_depth = 0
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # the original error matters more; DuckDB drops the transaction with the connection anyway
            raise
        self._tx_depth = 0
        try:
            self.con.execute("COMMIT")
        except BaseException:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise

    # -- the one write path ------------------------------------------------------------------------------------
    def upsert(self, table: str, rows: list[dict[str, Any]] | pd.DataFrame, *, coerce: bool = True) -> int:
        """Insert rows, or update those whose natural key exists; returns the number of distinct keys written.

        Missing columns are NULL; unknown columns are an error. Within one call the last row of a key wins.
        `coerce=False` skips the per-value conversion for rows whose values already are what the columns store
        (exact integers as text, JSON as text, plain ints/floats/str): the scanner's hot path (~4x faster).
        """
        return self._upsert(table, rows, coerce=coerce)

    def _upsert(self, table: str, rows: Any, *, update_sql: dict[str, str] | None = None, coerce: bool = True) -> int:
        spec = schema.TABLES.get(table)
        if spec is None:
            raise InputError(f"no table {table!r} in the cache (tables: {', '.join(schema.TABLES)})")
        if self.read_only:
            raise DefiriskError(f"the cache {self.path} was opened read-only; open it with read_only=False to write")
        recs = _records(rows)
        if not recs:
            return 0
        cols = spec.column_names
        types = dict(spec.columns)
        unknown = sorted({k for r in recs for k in r} - set(cols))
        if unknown:
            raise InputError(f"{table} has no column(s) {', '.join(unknown)} (columns: {', '.join(cols)})")
        if coerce:
            by_key: dict[tuple, list[Any]] = {}
            for i, r in enumerate(recs):
                vals = [_coerce(r.get(c), types[c], table, c) for c in cols]
                key = tuple(vals[cols.index(k)] for k in spec.key)
                if any(k is None for k in key):
                    missing = [k for k, v in zip(spec.key, key) if v is None]
                    raise InputError(f"{table} row {i} lacks its key column(s) {', '.join(missing)}")
                by_key[key] = vals  # the last row of a key wins
            self._insert_values(table, list(by_key.values()), update_sql)
            return len(by_key)
        import pandas as pd  # the bulk path only: a cached analysis never loads pandas (start-up, #11)

        # columnar: no per-row work in Python (the scanner's bulk path)
        frame = pd.DataFrame({c: pd.Series([r.get(c) for r in recs], dtype=object) for c in cols})
        bad = frame[list(spec.key)].isna().any(axis=1)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            missing = [k for k in spec.key if frame[k].iloc[i] is None]
            raise InputError(f"{table} row {i} lacks its key column(s) {', '.join(missing)}")
        frame = frame.drop_duplicates(subset=list(spec.key), keep="last")  # the last row of a key wins
        n_keys = len(frame)
        for c in cols:
            if types[c] in _PANDAS_DTYPE:
                frame[c] = frame[c].astype(_PANDAS_DTYPE[types[c]])  # type: ignore[call-overload]  # stubs: literal dtypes only
            elif types[c] == "TIMESTAMP":
                frame[c] = pd.to_datetime(frame[c])
        updates = update_sql or {}
        sets = ", ".join(f"{c} = {updates.get(c, 'EXCLUDED.' + c)}" for c in cols if c not in spec.key)
        col_list = ", ".join(cols)
        sql = (
            f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM __defirisk_rows "
            f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets}"
        )
        self.con.register("__defirisk_rows", frame)
        try:
            self.con.execute(sql)
        finally:
            self.con.unregister("__defirisk_rows")
        return n_keys

    @contextmanager
    def memory_limit(self, limit: str) -> Iterator[None]:
        """DuckDB's memory limit (e.g. "128MB") for the block inside; the previous one after it."""
        before = self.con.execute("SELECT current_setting('memory_limit')").fetchone()
        self.con.execute(f"SET memory_limit = '{limit}'")
        try:
            yield
        finally:
            if before is not None:
                self.con.execute(f"SET memory_limit = '{before[0]}'")

    def insert_columns(self, table: str, columns: Mapping[str, Sequence[Any]], *, update: bool = False,
                       new_keys: bool = False) -> int:
        """Insert rows given as columns (name -> values, one row per key, values already as the columns store them)
        through one Arrow table: the scanner's bulk path. A key already in the table keeps its row (`update`: the
        new row replaces it; `new_keys`: the caller knows none is there, a plain INSERT, ~2x faster). Missing
        columns are NULL. Returns the rows given."""
        import pyarrow as pa  # type: ignore[import-untyped]  # the bulk path only

        spec = schema.TABLES[table]
        if self.read_only:
            raise DefiriskError(f"the cache {self.path} was opened read-only; open it with read_only=False to write")
        unknown = sorted(set(columns) - set(spec.column_names))
        if unknown:
            raise InputError(f"{table} has no column(s) {', '.join(unknown)} (columns: {', '.join(spec.column_names)})")
        n = len(next(iter(columns.values()), ()))
        if n == 0:
            return 0
        types = dict(spec.columns)
        arrow = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_()}
        cols = [c for c in spec.column_names if c in columns]
        tbl = pa.table({c: pa.array(columns[c], type=arrow.get(types[c], pa.string())) for c in cols})
        if update:
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in spec.key)
            conflict = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
        else:
            conflict = "DO NOTHING"
        col_list = ", ".join(cols)
        on_conflict = "" if new_keys else f" ON CONFLICT ({', '.join(spec.key)}) {conflict}"
        self.con.register("__defirisk_arrow", tbl)
        try:
            self.con.execute(f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM __defirisk_arrow{on_conflict}")
        finally:
            self.con.unregister("__defirisk_arrow")
        return n

    def _insert_values(self, table: str, rows: list[list[Any]], update_sql: dict[str, str] | None) -> None:
        """Upsert already-coerced rows (one per key) with parameterised VALUES statements, no DataFrame."""
        spec = schema.TABLES[table]
        cols = spec.column_names
        types = dict(spec.columns)
        updates = update_sql or {}
        sets = ", ".join(f"{c} = {updates.get(c, 'EXCLUDED.' + c)}" for c in cols if c not in spec.key)
        casts = ", ".join(f"CAST(v.{c} AS {types[c]})" for c in cols)
        one = "(" + ", ".join("?" * len(cols)) + ")"
        step = max(1, 2000 // len(cols))
        for i in range(0, len(rows), step):
            part = rows[i:i + step]
            self.con.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) SELECT {casts} "
                f"FROM (VALUES {', '.join([one] * len(part))}) AS v({', '.join(cols)}) "
                f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets}",
                [x for r in part for x in r],
            )

    # -- writers -----------------------------------------------------------------------------------------------
    def put_run(
        self, *, chain_id: int, block: int, block_hash: str, timestamp: int, target: str, kind: str,
        params: Mapping[str, Any] | None, rpc_round_trips: int = 0, created_at: dt.datetime | None = None,
        recorded_kind: str | None = None,
    ) -> str:
        """Record an analysis run (and its block); returns its deterministic run_id. The id is of the REQUESTED
        `kind` ("auto" when detected), so the same request finds it again; the `kind` column holds `recorded_kind`
        (what the analysis found the target to be) when given.

        Parameters are stored canonical with every string holding '://' replaced by '<redacted>': an RPC URL
        may carry an API key and must never reach the file.
        """
        for name, val in (("target", target), ("kind", kind), ("block_hash", block_hash)):
            if "://" in str(val):
                raise InputError(f"put_run: {name} looks like a URL; refusing to store it")
        clean = scrub_params(params)
        rid = run_id_of(chain_id, block_hash, target, kind, clean)
        with self.transaction():
            self._upsert("runs", [dict(
                run_id=rid, chain_id=chain_id, block=block, block_hash=block_hash, timestamp=timestamp,
                target=target, kind=recorded_kind or kind, params=json.dumps(clean, sort_keys=True, allow_nan=False),
                created_at=created_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                rpc_round_trips=rpc_round_trips, defirisk_version=__version__,
            )])
            self.put_blocks([dict(chain_id=chain_id, number=block, hash=block_hash, timestamp=timestamp)])
        return rid

    def put_blocks(self, blocks: Any) -> int:
        """Block headers (chain_id, number, hash, parent_hash, timestamp); a known parent_hash is kept when a
        row without one arrives for the same hash."""
        keep_parent = "CASE WHEN EXCLUDED.hash = blocks.hash THEN coalesce(EXCLUDED.parent_hash, blocks.parent_hash) ELSE EXCLUDED.parent_hash END"
        return self._upsert("blocks", blocks, update_sql={"parent_hash": keep_parent})

    def put_payload(self, run_id: str, payload: Mapping[str, Any]) -> None:
        """Keep the whole analysis document of a run (URL-like strings redacted)."""
        self._upsert("run_payloads", [dict(run_id=run_id, payload=_dumps(_scrub(payload)))])

    def put_tokens(self, tokens: Any, *, chain_id: int | None = None) -> int:
        """Token metadata: TokenInfo records, dicts or a DataFrame (chain_id from each record or the argument)."""
        rows = []
        for t in _records(tokens):
            rows.append(dict(
                chain_id=_pick(t, "chain_id", default=chain_id), address=t.get("address"), symbol=t.get("symbol"),
                name=t.get("name"), decimals=t.get("decimals"), decimals_known=t.get("decimals_known", True),
            ))
        return self._upsert("tokens", rows)

    def put_pools(
        self, chain_id: int, block: int | None, block_hash: str | None, pools: Any,
        prices: Mapping[str, float] | None = None,
    ) -> int:
        """Pools (PoolRecord, dicts or a DataFrame) and, when `block` is given, their state at that block.

        `prices`: human token1 per token0 by pool address. Returns the number of pools written.
        """
        recs = _records(pools)
        rows = [dict(
            chain_id=chain_id, address=p.get("address"), protocol=p.get("protocol"), token0=p.get("token0"),
            token1=p.get("token1"), fee=p.get("fee"), tick_spacing=p.get("tick_spacing"),
            factory=p.get("factory") or None,
        ) for p in recs]
        with self.transaction():
            n = self._upsert("pools", rows)
            if block is not None:
                self.put_pool_states(chain_id, block, block_hash, recs, prices)
        return n

    def put_pool_states(
        self, chain_id: int, block: int, block_hash: str | None, pools: Any, prices: Mapping[str, float] | None = None,
    ) -> int:
        """State of pools at `block`: from PoolRecord fields (sqrt_price_x96, liquidity, ...) or `*_raw` keys."""
        prices = prices or {}
        rows = []
        for p in _records(pools):
            addr = _pick(p, "pool", "address")
            rows.append(dict(
                chain_id=chain_id, pool=addr, block=block, block_hash=block_hash,
                sqrt_price_x96_raw=_pick(p, "sqrt_price_x96_raw", "sqrt_price_x96"), tick=p.get("tick"),
                liquidity_raw=_pick(p, "liquidity_raw", "liquidity"),
                fee_growth_global0_raw=_pick(p, "fee_growth_global0_raw", "fee_growth_global0_x128"),
                fee_growth_global1_raw=_pick(p, "fee_growth_global1_raw", "fee_growth_global1_x128"),
                reserve0_raw=_pick(p, "reserve0_raw", "reserve0"), reserve1_raw=_pick(p, "reserve1_raw", "reserve1"),
                balance0_raw=_pick(p, "balance0_raw", "balance0"), balance1_raw=_pick(p, "balance1_raw", "balance1"),
                total_supply_raw=_pick(p, "total_supply_raw", "total_supply"),
                price=_pick(p, "price", default=prices.get(addr)),
            ))
        return self._upsert("pool_states", rows)

    def put_positions(self, chain_id: int, block: int, rows: Any, *, position_manager: str | None = None) -> int:
        """Positions at `block`: the LP table of the analysis, LpRecords, or generic dicts (Aave, vaults).

        Key: `contract` if given; else the position manager for v3 NFTs (`position_manager`, or "npm" when
        unknown) and the pool otherwise. `position_id` (or `id`) names the position inside the contract.
        Exact amounts come from `*_raw` keys (or `liquidity` of an LpRecord); the whole record goes to raw_record.
        """
        out = []
        for r in _records(rows):
            contract = _pick(r, "contract")
            if contract is None:
                contract = (position_manager or "npm") if r.get("kind") == "npm" else r.get("pool")
            pid = _pick(r, "position_id", "id")
            out.append(dict(
                chain_id=chain_id, protocol=r.get("protocol"), contract=contract,
                position_id=None if pid is None else str(pid), block=block, owner=r.get("owner"), pool=r.get("pool"),
                tick_lower=r.get("tick_lower"), tick_upper=r.get("tick_upper"),
                liquidity_raw=_pick(r, "liquidity_raw", "liquidity"),
                amount0_raw=r.get("amount0_raw"), amount1_raw=r.get("amount1_raw"),
                fees0_raw=r.get("fees0_raw"), fees1_raw=r.get("fees1_raw"),
                amount0=r.get("amount0"), amount1=r.get("amount1"), fees0=r.get("fees0"), fees1=r.get("fees1"),
                raw_record=_dumps(r),
            ))
        return self._upsert("positions", out)

    _RESULT_COLUMNS = ("value_usd", "il_vs_hodl", "lvr_per_day_usd", "delta", "gamma", "vega", "theta", "health_factor")

    def put_results(self, run_id: str, chain_id: int, rows: Any) -> int:
        """Risk results of a run, one per position: the dedicated columns, and every other field of the row in
        `metrics` (or the row's own `metrics` mapping when it has one)."""
        out = []
        for r in _records(rows):
            pid = _pick(r, "position_id", "id")
            metrics = r.get("metrics")
            if metrics is None:
                skip = {"run_id", "chain_id", "protocol", "position_id", "id", "metrics", *self._RESULT_COLUMNS}
                metrics = {k: v for k, v in r.items() if k not in skip}
            out.append(dict(
                run_id=run_id, chain_id=chain_id, protocol=r.get("protocol"),
                position_id=None if pid is None else str(pid), metrics=metrics,
                **{c: r.get(c) for c in self._RESULT_COLUMNS},
            ))
        return self._upsert("results", out)

    # -- readers -----------------------------------------------------------------------------------------------
    def get_payload(
        self, chain_id: int, block_hash: str, target: str, kind: str, params: Mapping[str, Any] | None,
        *, any_version: bool = False,
    ) -> dict[str, Any] | None:
        """The stored document of the same analysis at the same block hash, or None.

        A document written by another defirisk version is a miss unless `any_version`.
        """
        rid = run_id_of(chain_id, block_hash, target, kind, params)
        rows = self.con.execute(
            "SELECT p.payload, r.defirisk_version FROM run_payloads p JOIN runs r USING (run_id) WHERE run_id = ?",
            [rid],
        ).fetchall()  # fetch everything: DuckDB refuses other work while a result is unfinished
        row = rows[0] if rows else None
        if row is None or (not any_version and row[1] != __version__):
            return None
        return json.loads(row[0])

    def query(self, sql: str, params: list[Any] | Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Any SQL against the cache, as a DataFrame (`?` or `$name` parameters)."""
        try:
            return self.con.execute(sql, params if params is not None else []).df()
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as e:
            raise InputError(f"query failed on the cache {self.path}: {e}") from e

    def rows(self, sql: str, params: list[Any] | Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Any SQL against the cache as plain tuples (no pandas: the analysis path's small reads)."""
        try:
            return self.con.execute(sql, params if params is not None else []).fetchall()
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as e:
            raise InputError(f"query failed on the cache {self.path}: {e}") from e

    def dicts(self, sql: str, params: list[Any] | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Any SQL against the cache as one dict per row (column name -> value)."""
        try:
            cur = self.con.execute(sql, params if params is not None else [])
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as e:
            raise InputError(f"query failed on the cache {self.path}: {e}") from e

    def _load(self, table: str, **filters: Any) -> pd.DataFrame:
        """The one loader: rows of `table` matching the non-None filters, in natural-key order."""
        sql, args = schema.TABLES[table].select_sql(filters)
        return self.query(sql, args)

    def load_runs(self, *, chain_id: int | None = None, target: str | None = None) -> pd.DataFrame:
        return self._load("runs", chain_id=chain_id, target=target)

    def load_tokens(self, *, chain_id: int | None = None) -> pd.DataFrame:
        return self._load("tokens", chain_id=chain_id)

    def load_pools(self, *, chain_id: int | None = None) -> pd.DataFrame:
        return self._load("pools", chain_id=chain_id)

    def load_pool_states(self, pool: str | None = None, *, chain_id: int | None = None) -> pd.DataFrame:
        """Pool states over blocks (exact values in the *_raw text columns)."""
        return self._load("pool_states", chain_id=chain_id, pool=pool)

    def load_positions(
        self, *, chain_id: int | None = None, owner: str | None = None, pool: str | None = None,
    ) -> pd.DataFrame:
        """Positions, optionally filtered (addresses case-insensitively); exact values in the *_raw columns."""
        return self._load("positions", chain_id=chain_id, owner=owner, pool=pool)

    def load_results(self, run_id: str | None = None, *, chain_id: int | None = None) -> pd.DataFrame:
        return self._load("results", run_id=run_id, chain_id=chain_id)


def open_cache(path: str | Path | None = None, *, read_only: bool = True) -> Cache:
    """Open the cache for research scripts: read-only by default (many readers may share a file, but not
    while a writer holds it)."""
    return Cache(path, read_only=read_only)
