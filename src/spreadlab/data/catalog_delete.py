"""Deleting stored data, atomically: whole imports, or an instrument's rows in a time range.

Both kinds of delete change what readers see in one metadata transaction
(:mod:`spreadlab.data.catalog_meta`):

- *By import*: the import's rows in ``imports``, ``files``,
  ``file_instruments`` and ``quarantine`` go; its part files are unlinked
  after the commit.
- *By instrument and time range*: every part holding rows of the
  instruments in ``[start, end)`` is rewritten without them (a new part file
  with the same ``seq``, so query order is kept; a part left empty is
  dropped); the commit swaps the old parts' metadata for the new ones.

Before the commit a manifest under ``pending/`` lists the new parts and the
old ones, and new parts, their folder and the manifest are fsynced. Whatever
a crash interrupts, recovery deletes exactly the listed files that ``files``
does not hold: before the commit the new parts, after it the old ones.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from spreadlab.data.catalog_meta import FILES_SCHEMA, delete_imports_sql
from spreadlab.data.catalog_parts import _INST_SCHEMA, _fsync_path, _write_part
from spreadlab.data.catalog_recover import remove_files
from spreadlab.data.schema import EventKind, canonical_schema
from spreadlab.errors import DataError

__all__ = ["DeleteReport", "delete_imports", "delete_range"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteReport:
    """What a delete did.

    Parameters
    ----------
    imports
        Imports deleted whole.
    rows_deleted
        Stored rows deleted.
    files_removed
        Part files no longer read (deleted, or replaced by a rewritten part).
    files_rewritten
        Parts rewritten without the deleted rows.
    """

    imports: tuple[str, ...] = ()
    rows_deleted: int = 0
    files_removed: int = 0
    files_rewritten: int = 0

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "imports": list(self.imports),
            "rows_deleted": self.rows_deleted,
            "files_removed": self.files_removed,
            "files_rewritten": self.files_rewritten,
        }


def _manifest(root: Path) -> Path:
    pending = root / "pending"
    pending.mkdir(parents=True, exist_ok=True)
    return pending / f"delete-{uuid.uuid4().hex[:12]}.txt"


def _write_manifest(manifest: Path, rels: Sequence[str]) -> None:
    with manifest.open("w") as fh:
        fh.write("".join(f"{r}\n" for r in rels))
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_path(manifest.parent)


def delete_imports(root: Path, con: duckdb.DuckDBPyConnection, import_ids: Sequence[str]) -> DeleteReport:
    """Delete whole imports (the caller holds the writer lock)."""
    ids = list(dict.fromkeys(import_ids))
    known = {r[0] for r in con.execute(
        "SELECT import_id FROM imports WHERE import_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
    ).fetchall()}  # fmt: skip
    missing = [i for i in ids if i not in known]
    if missing:
        raise DataError(
            f"no import with id {missing[0]!r} (spreadlab data imports lists them)", path=str(root)
        )
    parts = con.execute(
        "SELECT path, rows FROM files WHERE import_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY seq", [ids]
    ).fetchall()
    rels = [str(r[0]) for r in parts]
    manifest = _manifest(root)
    _write_manifest(manifest, rels)
    con.execute("BEGIN TRANSACTION")
    try:
        delete_imports_sql(con, ids)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        manifest.unlink(missing_ok=True)
        raise
    remove_files(root, rels)
    manifest.unlink(missing_ok=True)
    return DeleteReport(
        imports=tuple(ids), rows_deleted=sum(int(r[1]) for r in parts), files_removed=len(rels)
    )


def delete_range(
    root: Path,
    con: duckdb.DuckDBPyConnection,
    instruments: Sequence[str],
    *,
    kinds: Sequence[EventKind] | None,
    start: int | None,
    end: int | None,
) -> DeleteReport:
    """Delete the rows of ``instruments`` with ``start <= ts_event < end`` (the caller holds the lock)."""
    ids = list(dict.fromkeys(instruments))
    sql = (
        "SELECT DISTINCT f.* FROM files f JOIN file_instruments fi ON fi.path = f.path "
        "WHERE fi.instrument_id IN (SELECT unnest(?::VARCHAR[]))"
    )
    args: list[object] = [ids]
    if kinds is not None:
        sql += " AND f.kind IN (SELECT unnest(?::VARCHAR[]))"
        args.append([k.value for k in kinds])
    if start is not None:
        sql += " AND fi.ts_max >= ?"
        args.append(start)
    if end is not None:
        sql += " AND fi.ts_min < ?"
        args.append(end)
    hit = pl.DataFrame(con.sql(sql + " ORDER BY f.seq", params=args).to_arrow_table())
    hit = hit.cast(FILES_SCHEMA) if hit.height else pl.DataFrame(schema=FILES_SCHEMA)  # type: ignore[arg-type]
    cond = pl.col("instrument_id").is_in(ids)
    if start is not None:
        cond = cond & (pl.col("ts_event") >= start)
    if end is not None:
        cond = cond & (pl.col("ts_event") < end)
    manifest = _manifest(root)
    old: list[str] = []
    new_files: list[dict[str, object]] = []
    new_inst: list[pl.DataFrame] = []
    deleted = 0
    listed: list[str] = []
    try:
        with manifest.open("w") as man:
            for row in hit.iter_rows(named=True):
                kind = EventKind(row["kind"])
                data = pl.read_parquet(root / row["path"], schema=canonical_schema(kind))
                keep = data.filter(~cond)
                if keep.height == data.height:
                    continue
                deleted += data.height - keep.height
                old.append(row["path"])
                man.write(f"{row['path']}\n")
                listed.append(row["path"])
                if keep.height == 0:
                    continue
                rel = Path(row["path"])
                stem = rel.name.removesuffix(".parquet")
                new_rel = rel.with_name(f"{stem}-r{uuid.uuid4().hex[:8]}.parquet").as_posix()
                man.write(f"{new_rel}\n")
                man.flush()
                listed.append(new_rel)
                meta = {**{k: row[k] for k in ("import_id", "seq", "kind", "venue", "part_key", "date")},
                        "path": new_rel}  # fmt: skip
                single = keep["instrument_id"].n_unique() == 1
                rec, inst, _ = _write_part(root / new_rel, keep, kind, meta, single)
                _fsync_path(root / new_rel)
                _fsync_path((root / new_rel).parent)
                new_files.append(rec)
                new_inst.append(inst)
            man.flush()
            os.fsync(man.fileno())
        _fsync_path(manifest.parent)
        if not old:
            manifest.unlink(missing_ok=True)
            return DeleteReport()
        files_df = pl.DataFrame(new_files, schema=FILES_SCHEMA)
        inst_df = pl.concat(new_inst) if new_inst else pl.DataFrame(schema=_INST_SCHEMA)
        con.register("__files", files_df.to_arrow())
        con.register("__inst", inst_df.to_arrow())
        con.execute("BEGIN TRANSACTION")
        try:
            for table in ("file_instruments", "files"):
                con.execute(f"DELETE FROM {table} WHERE path IN (SELECT unnest(?::VARCHAR[]))", [old])
            con.execute("INSERT INTO files SELECT * FROM __files")
            con.execute("INSERT INTO file_instruments SELECT * FROM __inst")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("__files")
            con.unregister("__inst")
    except BaseException:
        # before the commit: the new parts go, the old ones stay (they are still in files)
        committed = {r[0] for r in con.execute(
            "SELECT path FROM files WHERE path IN (SELECT unnest(?::VARCHAR[]))", [listed]
        ).fetchall()} if listed else set()  # fmt: skip
        remove_files(root, [p for p in listed if p not in committed])
        manifest.unlink(missing_ok=True)
        raise
    remove_files(root, old)
    manifest.unlink(missing_ok=True)
    return DeleteReport(rows_deleted=deleted, files_removed=len(old), files_rewritten=len(new_files))
