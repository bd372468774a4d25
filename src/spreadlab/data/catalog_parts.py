"""Parquet parts of the catalog: partition keys, the writer threads and fsync.

A validated batch is split by (venue, instrument partition, date): tick kinds
by UTC day, low-frequency kinds by UTC month (``date`` = the first of the
month); options share their root's partition. :class:`_PartWriter` numbers
the parts and lists them in the import's manifest on the importing thread,
writes them with pyarrow (LZ4, dictionary encoding, statistics, row groups of
``_ROW_GROUP`` rows) on worker threads, and fsyncs parts, folders and the
manifest before the caller commits the metadata (see :mod:`spreadlab.data.catalog`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import quote

import polars as pl
import pyarrow.parquet as pq

from spreadlab.core.time import NS_PER_DAY
from spreadlab.data.schema import EventKind

__all__: list[str] = []

_TICK_KINDS = frozenset({EventKind.QUOTES, EventKind.TRADES, EventKind.BOOK_DELTAS, EventKind.BOOK_SNAPSHOTS})

_EPOCH = date(1970, 1, 1)
_SYNC_NOW_BYTES = 1 << 20  # parts this big are fsynced as soon as written
_ROW_GROUP = 262_144  # rows per Parquet row group (the granularity of time-range pruning)
_INST_SCHEMA = {
    "path": pl.String(),
    "instrument_id": pl.String(),
    "kind": pl.String(),
    "rows": pl.Int64(),
    "ts_min": pl.Int64(),
    "ts_max": pl.Int64(),
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _partition_of(instrument_id: str, kind: EventKind) -> tuple[str, str]:
    """Return (venue, instrument partition) of an id; options share their root's partition."""
    venue, _, symbol = instrument_id.partition(":")
    if kind is EventKind.OPTION_QUOTES:
        symbol = symbol.split("-")[0]
    return venue, symbol


def _fsync_path(path: Path) -> None:
    """Flush a file's or a folder's data and metadata to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_Written = tuple[dict[str, object], pl.DataFrame, Path | None]


def _write_part(
    target: Path, data: pl.DataFrame, kind: EventKind, meta: dict[str, object], single_id: bool
) -> _Written:
    """Write one part (worker thread); return its ``files`` row, ``file_instruments`` rows, and the
    path when it still needs an fsync."""
    tmp = target.with_name(target.name + ".tmp")
    pq.write_table(data.to_arrow(), tmp, compression="lz4", row_group_size=_ROW_GROUP, write_statistics=True)
    os.replace(tmp, target)
    unsynced: Path | None = target
    if target.stat().st_size >= _SYNC_NOW_BYTES:
        _fsync_path(target)  # a big part: flush it now, while the next chunk is parsed
        unsynced = None
    lo, hi = data["ts_event"].min(), data["ts_event"].max()
    rel = str(meta["path"])
    if single_id:
        inst = pl.DataFrame(
            {"path": [rel], "instrument_id": [data["instrument_id"][0]], "kind": [kind.value],
             "rows": [data.height], "ts_min": [lo], "ts_max": [hi]},
            schema=_INST_SCHEMA,
        )  # fmt: skip
    else:
        inst = data.group_by("instrument_id", maintain_order=True).agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.col("ts_event").min().alias("ts_min"),
            pl.col("ts_event").max().alias("ts_max"),
        )
        inst = inst.select(
            pl.lit(rel).alias("path"),
            "instrument_id",
            pl.lit(kind.value).alias("kind"),
            "rows",
            "ts_min",
            "ts_max",
        )
    rec = {**meta, "rows": data.height, "ts_min": int(lo), "ts_max": int(hi)}  # type: ignore[arg-type]
    return rec, inst, unsynced


class _PartWriter:
    """Write the Parquet parts of one import on worker threads.

    :meth:`submit` runs on the importing thread: it splits a batch into partitions,
    numbers the parts, creates their folders and lists each part in the manifest
    before handing its write to the pool, so part numbers and the manifest do not
    depend on thread timing; :meth:`collect` takes the results back in submission
    order. Each part is written under ``<name>.tmp`` and renamed (an uncommitted
    part is deleted by the next writer, whatever state a crash left it in). A part
    of 1 MiB or more is fsynced at once on its worker, so its write-back overlaps
    parsing; :meth:`sync` then fsyncs the smaller parts, every folder on the way to
    a part and the manifest, before the DuckDB commit.
    """

    def __init__(
        self, *, root: Path, import_id: str, manifest: IO[str], seq: int, pool: ThreadPoolExecutor
    ) -> None:
        self._root = root
        self._import_id = import_id
        self._manifest = manifest
        self._seq = seq
        self._pool = pool
        self._dirs: dict[Path, None] = {}  # folders to fsync, in creation order
        self._parts: list[Path] = []  # part files to fsync
        self.files: list[dict[str, object]] = []
        self.instruments: list[pl.DataFrame] = []

    def submit(self, frame: pl.DataFrame, kind: EventKind) -> list[Future[_Written]]:
        """Plan the parts of ``frame`` (one validated batch of ``kind``) and start writing them."""
        jobs: list[Future[_Written]] = []
        for (venue, part, day), data, single_id in _partitions(frame, kind):
            self._seq += 1
            rel = (
                Path("data")
                / f"venue={venue}"
                / f"kind={kind.value}"
                / f"instrument={quote(str(part), safe='-_.@')}"
                / f"date={day}"
                / f"part-{self._import_id}-{self._seq:08d}.parquet"
            )
            target = self._root / rel
            if target.parent not in self._dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                # every folder on the way down, even one that existed: an earlier import that
                # crashed before its sync may have created it without making it durable
                for up in reversed(rel.parents):
                    self._dirs.setdefault(self._root / up, None)
            self._manifest.write(f"{rel.as_posix()}\n")
            self._manifest.flush()
            meta: dict[str, object] = {
                "path": rel.as_posix(),
                "import_id": self._import_id,
                "seq": self._seq,
                "kind": kind.value,
                "venue": venue,
                "part_key": str(part),
                "date": day,
            }
            jobs.append(self._pool.submit(_write_part, target, data, kind, meta, single_id))
        return jobs

    def collect(self, jobs: Sequence[Future[_Written]]) -> None:
        """Wait for ``jobs`` and keep their metadata rows (in submission order)."""
        for job in jobs:
            rec, inst, unsynced = job.result()
            self.files.append(rec)
            self.instruments.append(inst)
            if unsynced is not None:
                self._parts.append(unsynced)

    def sync(self, manifest: Path) -> None:
        """Fsync every part, the folders that gained parts or sub-folders, the manifest and its folder.

        All at the end of the import and concurrently: the file system batches concurrent
        fsyncs into shared journal commits (a few per import, not one per part).
        """
        self._manifest.flush()
        targets = [*self._parts, *self._dirs, manifest, manifest.parent]
        if len(targets) <= 4:
            for t in targets:
                _fsync_path(t)
            return
        # concurrent fsyncs share journal commits: a few commits instead of one per file
        with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
            list(pool.map(_fsync_path, targets))


def _day(ns: int, kind: EventKind) -> date:
    """Return the partition date of a ``ts_event`` (UTC day; first of the month for low-frequency kinds)."""
    d = _EPOCH + timedelta(days=ns // NS_PER_DAY)
    return d if kind in _TICK_KINDS else d.replace(day=1)


def _partitions(
    frame: pl.DataFrame, kind: EventKind
) -> Iterable[tuple[tuple[object, ...], pl.DataFrame, bool]]:
    """Split a batch by (venue, instrument partition, date); yield (key, rows, one instrument only).

    Keys are computed per instrument, not per row; a one-instrument batch within one
    partition date (the usual case) is recognised from its first and last dates alone.
    """
    first_id = frame["instrument_id"][0]
    single_id = bool((frame["instrument_id"] == first_id).all())
    ids = [first_id] if single_id else frame["instrument_id"].unique(maintain_order=True).to_list()
    part_of = {i: _partition_of(i, kind) for i in ids}
    if single_id:
        lo, hi = frame["ts_event"].min(), frame["ts_event"].max()
        if _day(int(lo), kind) == _day(int(hi), kind):  # type: ignore[arg-type]
            return [((*part_of[first_id], _day(int(lo), kind)), frame, True)]  # type: ignore[arg-type]
    day = (pl.col("ts_event") // NS_PER_DAY).cast(pl.Int32).cast(pl.Date)
    date_expr = day if kind in _TICK_KINDS else day.dt.truncate("1mo")
    dates = frame.select(date_expr.alias("__date"))["__date"]
    venues = {i: v for i, (v, _) in part_of.items()}
    parts = {i: p for i, (_, p) in part_of.items()}
    keyed = frame.with_columns(
        pl.col("instrument_id").replace_strict(venues, return_dtype=pl.String).alias("__venue"),
        pl.col("instrument_id").replace_strict(parts, return_dtype=pl.String).alias("__part"),
        dates,
    )
    return (
        (key, sub.drop("__venue", "__part", "__date"), single_id)
        for key, sub in keyed.group_by(["__venue", "__part", "__date"], maintain_order=True)
    )
