"""Query order after the memory-lean sort (issue 10 item 26): rows by ts_event, ties in import order,
the same as polars' stable sort of the parts read in import order; sorted input is left as it is."""

from __future__ import annotations

import numpy as np
import polars as pl

from spreadlab.data.catalog import Catalog, _collect_sorted
from spreadlab.data.importers.tardis import read_tardis

HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"


def _file(path, ts_us, symbol):
    lines = [HEADER] + [
        f"binance-futures,{symbol},{t},{t + 100},false,{'bid' if i % 2 else 'ask'},{100 + i},{i + 1}\n"
        for i, t in enumerate(ts_us)
    ]
    path.write_text("".join(lines))
    return path


def test_ties_keep_import_order_across_imports(tmp_path):
    rng = np.random.default_rng(7)
    t0 = 1_704_067_200_000_000
    cat = Catalog(tmp_path / "cat")
    files = []
    for k, sym in enumerate(["BTCUSDT", "ETHUSDT", "BTCUSDT"]):
        ts = np.sort(t0 + rng.integers(0, 50, 400) * 1000)  # many equal stamps, overlapping files
        files.append(_file(tmp_path / f"f{k}.csv", ts.tolist(), sym))
        cat.import_("tardis", [files[-1]])
    truth = pl.concat([pl.concat([b.frame for b in read_tardis(f)]) for f in files]).sort(
        "ts_event", maintain_order=True
    )
    got = cat.query("book_deltas")
    assert got.equals(truth)
    assert got["ts_event"].flags["SORTED_ASC"]


def test_random_frames_match_a_stable_sort():
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 1000):
        df = pl.DataFrame(
            {"ts_event": rng.integers(0, 20, n), "x": np.arange(n), "s": [str(i) for i in range(n)]}
        )
        assert _collect_sorted(df.lazy()).equals(df.sort("ts_event", maintain_order=True))
    done = pl.DataFrame({"ts_event": [1, 2, 2, 5], "x": [4, 3, 2, 1]})
    assert _collect_sorted(done.lazy()).equals(done)
