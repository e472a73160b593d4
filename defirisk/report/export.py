"""Files for research: the tables of an `analyze` or `risk` document as CSV, Parquet or JSON, and any cache table
as CSV or Parquet through DuckDB's own COPY.

Tables are flat: a nested JSON field becomes `parent_child` (`greeks_delta`, `distance_pct_lower`); a list
inside a row (a loan's `liquidation`, a position's `payoff_at_expiry`) is kept as JSON text. Columns are named as
the `--json` fields. Exact integers stay exact: a `*_raw` column is DECIMAL(38,0) in Parquet when every value
fits in 38 digits, else decimal text (never a float); other integer columns BIGINT (DECIMAL(38,0) beyond 64 bits:
Parquet has no 128-bit integer); CSV holds them as decimal text.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError

FORMATS = ("csv", "parquet", "json")
DECIMAL_DIGITS = 38


def flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """One flat row from a JSON item: nested objects joined with "_", lists as JSON text."""
    out: dict[str, Any] = {}
    for k, v in item.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "_"))
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def analysis_tables(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The tables of an `analyze` document: positions (LP and vault), lending_assets, borrowers (market views)."""
    tables = {"positions": [flatten(p) for p in doc.get("positions") or []]}
    assets = []
    for e in doc.get("lending") or []:
        for a in e.get("assets") or []:
            assets.append(flatten({"protocol": e.get("protocol"), "market": e.get("market"), "wallet": e.get("wallet"),
                                   "health_factor": e.get("health_factor"), **a}))
    tables["lending_assets"] = assets
    if doc.get("borrowers") is not None:
        tables["borrowers"] = [flatten(b) for b in doc["borrowers"]]
    return tables


def book_tables(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The tables of a `risk` document: positions (one row per position and factor), greeks (the Python API's
    frames' rows), scenarios, var, buffers."""
    from ..engine.book_run import greek_rows, position_rows

    positions, greeks = position_rows(doc), greek_rows(doc)
    scenarios = [flatten({k: v for k, v in s.items() if k != "positions"}) for s in doc.get("scenarios") or []]
    var = [flatten({k: v for k, v in x.items() if k != "component_es_usd"}) for x in doc.get("var") or []]
    buffers = [flatten(b) for b in doc.get("buffers") or []]
    return {"positions": positions, "greeks": greeks, "scenarios": scenarios, "var": var, "buffers": buffers}


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def _csv_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return v


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Rows as CSV (header from the union of keys, unknown values empty)."""
    cols = _columns(rows)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([_csv_value(r.get(c)) for c in cols])


def _raw_fits(values: Iterable[Any]) -> bool:
    for v in values:
        if v is None:
            continue
        try:
            if len(str(abs(int(v)))) > DECIMAL_DIGITS:
                return False
        except (TypeError, ValueError):
            return False
    return True


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """Rows as Parquet (exact `*_raw` integers as DECIMAL(38,0) where they fit, else text)."""
    from ..store.parquet import write_rows

    cols = _columns(rows)
    types = [_sql_type(c, [r.get(c) for r in rows]) for c in cols]
    write_rows(cols, types, [[_param(t, r.get(c)) for c, t in zip(cols, types)] for r in rows], path)


def _sql_type(col: str, values: list[Any]) -> str:
    vals = [v for v in values if v is not None]
    if col.endswith("_raw"):
        return f"DECIMAL({DECIMAL_DIGITS},0)" if _raw_fits(vals) else "VARCHAR"
    if vals and all(isinstance(v, bool) for v in vals):
        return "BOOLEAN"
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        if all(-(2**63) <= v < 2**63 for v in vals):
            return "BIGINT"
        return f"DECIMAL({DECIMAL_DIGITS},0)" if _raw_fits(vals) else "VARCHAR"  # Parquet has no 128-bit integer
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "DOUBLE"
    return "VARCHAR"


def _param(sql_type: str, v: Any) -> Any:
    if v is None:
        return None
    if sql_type.startswith("DECIMAL") or sql_type == "VARCHAR":  # exact: DuckDB parses the decimal text
        return str(v) if not isinstance(v, str) else v
    if sql_type == "DOUBLE" and isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_tables(tables: dict[str, list[dict[str, Any]]], doc: dict[str, Any], fmt: str, out: str | Path) -> list[Path]:
    """Write the document (json: one file) or each table (csv/parquet: `<out stem>.<table>.<fmt>` beside `out`);
    the paths written."""
    if fmt not in FORMATS:
        raise InputError(f"--format is csv, parquet or json, not {fmt!r}")
    path = Path(out)
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        if fmt == "json":
            path.write_text(json.dumps(doc, indent=1))
            return [path]
        written = []
        stem = path.name[: -len(path.suffix)] if path.suffix else path.name
        for name, rows in tables.items():
            p = path.with_name(f"{stem}.{name}.{fmt}")
            if fmt == "csv":
                write_csv(rows, p)
            else:
                write_parquet(rows, p)
            written.append(p)
        return written
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}") from None


def export_cache_table(cache: Any, table: str, out: str | Path) -> Path:
    """COPY one table of an open cache to `out` (.parquet or .csv by its suffix)."""
    path = Path(out)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("parquet", "csv"):
        raise InputError(f"export writes .parquet or .csv files, not {path.name!r}")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: the folder {path.parent} does not exist")
    names = cache.table_names()
    if table not in names:
        raise InputError(f"no table {table!r} in the cache; its tables: {', '.join(sorted(names))}")
    try:
        cache.copy_table(table, str(path), fmt)
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}") from None
    return path
