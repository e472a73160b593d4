"""Rows to a Parquet file through DuckDB (the table's column types given), for `--format parquet`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence


def write_rows(columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]], path: Path) -> None:
    """Create a table of `columns` with DuckDB `types`, insert `rows`, COPY it to `path` as Parquet."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;")
        spec = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types)) or "empty INTEGER"
        con.execute(f"CREATE TABLE t ({spec})")
        if rows and columns:
            con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})", [list(r) for r in rows])
        con.execute("COPY t TO '" + str(path).replace("'", "''") + "' (FORMAT parquet)")
    finally:
        con.close()
