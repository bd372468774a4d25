"""The catalog's metadata database: schema, migration of older catalogs, the import commit, deletes.

Tables (DuckDB, ``catalog.duckdb``): ``imports`` (one row per import: its
identity, the file's sha256, format, the options that changed what was
stored, counts, the JSON report), ``files`` (every committed Parquet part),
``file_instruments`` (rows and time range per instrument per part) and
``quarantine`` (rows left out). Readers see exactly the parts in ``files``,
so every change of what is visible (an import, a replacement, a delete) is
one transaction here; part files that stop being listed are unlinked after
the commit, and a manifest under ``pending/`` names them first so that a
crash in between is cleaned up (:mod:`spreadlab.data.catalog_recover`).

Catalogs written before imports had an identity (``sha256`` was unique) are
migrated on the first write: each old import gets the identity of its sha256,
format and ``venue`` (its ``--symbol`` was not recorded: null).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from spreadlab.data.catalog_parts import _INST_SCHEMA
from spreadlab.data.import_options import import_identity
from spreadlab.data.importers.base import ImporterSpec, ImportFormat, get_importer
from spreadlab.errors import ValidationError

__all__ = ["FILES_SCHEMA", "commit_import", "delete_imports_sql", "setup"]

_IMPORTS = """
CREATE TABLE IF NOT EXISTS imports (
    import_id VARCHAR PRIMARY KEY, sha256 VARCHAR, path VARCHAR, fmt VARCHAR, venue VARCHAR,
    imported_at_ns BIGINT, rows_read BIGINT, rows_stored BIGINT, rows_quarantined BIGINT, report VARCHAR,
    identity VARCHAR UNIQUE, options VARCHAR);
"""
_DDL = """
CREATE TABLE IF NOT EXISTS files (
    path VARCHAR PRIMARY KEY, import_id VARCHAR, seq BIGINT, kind VARCHAR, venue VARCHAR,
    part_key VARCHAR, date DATE, rows BIGINT, ts_min BIGINT, ts_max BIGINT);
CREATE TABLE IF NOT EXISTS file_instruments (
    path VARCHAR, instrument_id VARCHAR, kind VARCHAR, rows BIGINT, ts_min BIGINT, ts_max BIGINT);
CREATE TABLE IF NOT EXISTS quarantine (
    import_id VARCHAR, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR, raw VARCHAR);
"""

FILES_SCHEMA = {
    "path": pl.String(), "import_id": pl.String(), "seq": pl.Int64(), "kind": pl.String(),
    "venue": pl.String(), "part_key": pl.String(), "date": pl.Date(), "rows": pl.Int64(),
    "ts_min": pl.Int64(), "ts_max": pl.Int64(),
}  # fmt: skip
"""Columns of the ``files`` table."""


def setup(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables, migrating an ``imports`` table without identities."""
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'imports' "
            "AND table_schema = current_schema() ORDER BY ordinal_position"
        ).fetchall()
    ]
    if cols and "identity" not in cols:
        _migrate(con)
    con.execute(_IMPORTS + _DDL)


def _spec(fmt: str) -> ImporterSpec | None:
    try:
        return get_importer(ImportFormat(fmt))
    except (ValueError, ValidationError, ImportError):
        return None


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    old = pl.DataFrame(con.sql("SELECT * FROM imports").to_arrow_table())
    ident, opts = [], []
    for row in old.iter_rows(named=True):
        spec = _spec(str(row["fmt"]))
        if spec is None:  # a format this version does not know: the bytes and format alone
            ident.append(f"{row['sha256']}|{row['fmt']}")
            opts.append("{}")
            continue
        i, o = import_identity(str(row["sha256"]), spec, row["venue"], None)
        ident.append(i)
        opts.append(o)
    new = old.with_columns(pl.Series("identity", ident, pl.String()), pl.Series("options", opts, pl.String()))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DROP TABLE imports")
        con.execute(_IMPORTS)
        if new.height:
            con.register("__old_imports", new.to_arrow())
            con.execute("INSERT INTO imports SELECT * FROM __old_imports")
            con.unregister("__old_imports")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def delete_imports_sql(con: duckdb.DuckDBPyConnection, import_ids: Sequence[str]) -> None:
    """Delete every metadata row of ``import_ids`` (inside the caller's transaction)."""
    ids = list(import_ids)
    if not ids:
        return
    con.execute(
        "DELETE FROM file_instruments WHERE path IN "
        "(SELECT path FROM files WHERE import_id IN (SELECT unnest(?::VARCHAR[])))",
        [ids],
    )
    for table in ("files", "quarantine", "imports"):
        con.execute(f"DELETE FROM {table} WHERE import_id IN (SELECT unnest(?::VARCHAR[]))", [ids])


def commit_import(
    con: duckdb.DuckDBPyConnection,
    *,
    import_id: str,
    identity: str,
    options: str,
    path: Path,
    fmt: ImportFormat,
    venue: str | None,
    report: dict[str, object],
    file_rows: Sequence[dict[str, object]],
    inst_rows: Sequence[pl.DataFrame],
    quarantine: pl.DataFrame,
    replaces: Sequence[str] = (),
) -> None:
    """Insert one import's metadata, deleting the imports it ``replaces``, in one transaction."""
    files_df = pl.DataFrame(file_rows, schema=FILES_SCHEMA)
    inst_df = pl.concat(inst_rows) if inst_rows else pl.DataFrame(schema=_INST_SCHEMA)
    q_df = quarantine.select(pl.lit(import_id).alias("import_id"), pl.all())
    con.execute("BEGIN TRANSACTION")
    try:
        delete_imports_sql(con, replaces)
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                import_id, report["sha256"], str(path.resolve()), fmt.value, venue, time.time_ns(),
                report["rows_read"], report["rows_stored"], report["rows_quarantined"], json.dumps(report),
                identity, options,
            ],
        )  # fmt: skip
        con.register("__files", files_df.to_arrow())
        con.execute("INSERT INTO files SELECT * FROM __files")
        con.register("__inst", inst_df.to_arrow())
        con.execute("INSERT INTO file_instruments SELECT * FROM __inst")
        con.register("__q", q_df.to_arrow())
        con.execute("INSERT INTO quarantine SELECT * FROM __q")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("__files", "__inst", "__q"):
            con.unregister(name)
