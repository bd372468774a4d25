"""Tardis ``incremental_book_L2`` CSV import: spreadlab vs NautilusTrader's Tardis CSV loader.

Data: a ~3.1 million row Tardis-format L2 CSV built from the real Binance
USDT-M BTCUSDT depth capture (``binance_l2_hftbacktest/usdm/btcusdt_20240808.gz``):
the REST snapshot becomes ``is_snapshot=true`` rows, every ``depthUpdate``
level one ``false`` row (``timestamp`` = event time E, ``local_timestamp`` =
receive time, microseconds), and the 6-minute capture is repeated 7 times,
shifted in time, to reach a realistic hour-scale file. Both tools read the same
plain CSV from ``ctx.workdir``.

spreadlab: ``read_tardis`` streamed to canonical ``book_deltas`` frames (the
parse + validation-free import step: the exact byte-level L2 kernel
``spreadlab.kernels.csv_l2``), and the full ``Catalog.import_`` as a second
record: sha256 of the file (idempotency), parse, validation, partitioned
Parquet parts (pyarrow, LZ4, dictionary + statistics), fsync of every part,
of the folders that gained entries and of the pending manifest, then the
DuckDB metadata commit. The hash and the Parquet writes run on worker threads
while the next chunk is parsed.
NautilusTrader: ``TardisCSVDataLoader.load_deltas`` (Rust CSV reader producing
``OrderBookDelta`` objects), precisions given so nothing is inferred.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path

from benchmarks.harness import Context, best_of
from spreadlab.data.catalog import Catalog
from spreadlab.data.importers.tardis import read_tardis
from spreadlab.testing import shared_file

REPEAT = 7
SOURCE = "binance_l2_hftbacktest/usdm/btcusdt_20240808.gz"


def _generate(out: Path) -> int:
    src = shared_file(SOURCE)
    if src is None:
        raise FileNotFoundError(f"../shared/data/{SOURCE} is needed to build the benchmark file")
    snapshot: list[str] = []
    updates: list[tuple[int, int, list, list]] = []
    with gzip.open(src, "rt") as fh:
        for line in fh:
            recv, _, body = line.partition(" ")
            msg = json.loads(body)
            recv_us = int(recv) // 1000
            if "stream" not in msg and "lastUpdateId" in msg:
                ev = int(msg.get("E", recv_us // 1000)) * 1000
                for side, key in (("bid", "bids"), ("ask", "asks")):
                    snapshot.extend(
                        f"binance-futures,BTCUSDT,{ev},{recv_us},true,{side},{p},{q}\n" for p, q in msg[key]
                    )
                continue
            data = msg.get("data", {})
            if data.get("e") == "depthUpdate":
                updates.append((int(data["E"]) * 1000, recv_us, data["b"], data["a"]))
    span = updates[-1][0] - updates[0][0] + 1_000_000
    rows = 0
    with out.open("w") as fh:
        fh.write("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n")
        fh.writelines(snapshot)
        rows += len(snapshot)
        for k in range(REPEAT):
            shift = k * span
            buf = []
            for ev, recv, bids, asks in updates:
                e, r = ev + shift, recv + shift
                buf.extend(f"binance-futures,BTCUSDT,{e},{r},false,bid,{p},{q}\n" for p, q in bids)
                buf.extend(f"binance-futures,BTCUSDT,{e},{r},false,ask,{p},{q}\n" for p, q in asks)
            fh.writelines(buf)
            rows += len(buf)
    return rows


def run(ctx: Context) -> list[dict]:
    csv_path = ctx.workdir / "binance-futures_incremental_book_L2_BTCUSDT.csv"
    rows_file = ctx.workdir / "rows.txt"
    if not csv_path.exists() or not rows_file.exists():
        rows_file.write_text(str(_generate(csv_path)))
    rows = int(rows_file.read_text())
    ctx.log(f"L2 CSV: {rows:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB")

    def parse() -> int:
        return sum(b.frame.height for b in read_tardis(csv_path))

    assert parse() == rows
    t_parse = best_of(parse, repeat=3)

    def full_import() -> None:
        cat_dir = ctx.workdir / "catalog"
        shutil.rmtree(cat_dir, ignore_errors=True)
        rep = Catalog(cat_dir).import_("tardis", [csv_path])
        if rep.rows_stored != rows:
            raise RuntimeError(f"catalog stored {rep.rows_stored} of {rows} rows")

    t_import = best_of(full_import, repeat=2)
    peer = ctx.run_peer("nautilus", ctx.workdir.parent.parent / "peers" / "nautilus_tardis.py", str(csv_path))
    if peer["rows"] != rows:
        raise RuntimeError(f"NautilusTrader loaded {peer['rows']} deltas, expected {rows}")
    naut = {
        "NautilusTrader TardisCSVDataLoader.load_deltas": {
            "value": peer["rows_per_s"],
            "version": peer["version"],
            "checked": f"row count only: {rows:,} deltas from both (values not compared)",
        }
    }
    ctx.log(
        f"spreadlab parse {rows / t_parse:,.0f} rows/s ({t_parse:.2f}s), catalog import {rows / t_import:,.0f} rows/s "
        f"({t_import:.2f}s); NautilusTrader {peer['rows_per_s']:,.0f} rows/s ({peer['seconds']:.2f}s, {peer['variant']})"
    )
    return [
        ctx.record(
            name="tardis_l2_csv_parse",
            work=f"Tardis incremental_book_L2 CSV, {rows:,} rows -> canonical book deltas",
            unit="rows/s",
            spreadlab=rows / t_parse,
            peers=naut,
            extra={
                "rows": rows,
                "spreadlab_seconds": t_parse,
                "peer_seconds": peer["seconds"],
                "peer_variant": peer["variant"],
                "stamp": time.strftime("%Y-%m-%d"),
            },
        ),
        ctx.record(
            name="tardis_l2_csv_catalog_import",
            work=f"same file -> sha256, validated, partitioned Parquet, fsync, DuckDB commit ({rows:,} rows)",
            unit="rows/s",
            spreadlab=rows / t_import,
            peers=naut,
            extra={"rows": rows, "spreadlab_seconds": t_import, "peer_seconds": peer["seconds"]},
        ),
    ]
