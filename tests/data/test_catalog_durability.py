"""Durability: every committed part file, the folders naming it and the manifest are fsynced before the commit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spreadlab.data import catalog as catalog_mod
from spreadlab.data import catalog_parts
from spreadlab.data.catalog import Catalog

HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
DAY_US = 86_400_000_000


def _two_day_file(path: Path) -> Path:
    """Two symbols over two UTC days: four partitions, several parts each with small chunks."""
    t0 = 1_704_067_200_000_000  # 2024-01-01
    lines = [HEADER]
    for i in range(1200):
        ts = t0 + (i * DAY_US * 2) // 1200
        sym = "BTCUSDT" if i % 2 else "ETHUSDT"
        lines.append(
            f"binance-futures,{sym},{ts},{ts + 5},false,{'bid' if i % 3 else 'ask'},{100 + i % 7},1.5\n"
        )
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize("sync_now_bytes", [0, 1 << 20], ids=["each-part-at-once", "small-parts-at-end"])
def test_parts_folders_and_manifest_fsynced_before_commit(tmp_path, monkeypatch, sync_now_bytes):
    monkeypatch.setattr(catalog_parts, "_SYNC_NOW_BYTES", sync_now_bytes)
    events: list[tuple[str, str]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    real_commit = catalog_mod.commit_import

    def recording_commit(*args, **kwargs):  # type: ignore[no-untyped-def]
        events.append(("commit", ""))
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(catalog_mod, "commit_import", recording_commit)
    root = (tmp_path / "cat").resolve()
    cat = Catalog(root)
    rep = cat.import_("tardis", [_two_day_file(tmp_path / "l2.csv")], chunk_rows=250)
    assert rep.rows_stored == 1200

    assert [e for e, _ in events].count("commit") == 1
    done = [e for e in events if e[0] == "commit"]
    before = {p for e, p in events[: events.index(done[0])] if e == "fsync"}
    after = {p for e, p in events[events.index(done[0]) + 1 :] if e == "fsync"}
    parts = cat.sql("SELECT path FROM files")["path"].to_list()
    assert len(parts) >= 8  # 2 symbols x 2 days, 250-row chunks
    for rel in parts:
        part = root / rel
        assert str(part) in before, f"{rel} was not fsynced before the commit"
        for folder in [part.parent, *part.parent.parents]:
            if folder == root.parent:
                break
            assert str(folder) in before, f"folder {folder} was not fsynced before the commit"
    manifests = [p for p in before if "/pending/" in p and p.endswith(".txt")]
    assert len(manifests) == 1 and str(root / "pending") in before
    assert not after  # nothing is left to sync once the metadata commit is done
    assert cat.query("book_deltas").height == 1200


def test_failed_fsync_aborts_the_import_and_keeps_earlier_data(tmp_path, monkeypatch):
    cat = Catalog(tmp_path / "cat")
    first = _two_day_file(tmp_path / "a.csv")
    cat.import_("tardis", [first])
    second = tmp_path / "b.csv"
    second.write_text(first.read_text().replace("BTCUSDT", "SOLUSDT"))

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(Exception, match="Input/output error"):
        cat.import_("tardis", [second])
    monkeypatch.undo()
    assert cat.query("book_deltas").height == 1200
    assert sorted(cat.instruments()["instrument_id"]) == ["BINANCE_USDM:BTCUSDT", "BINANCE_USDM:ETHUSDT"]
    assert len(list((tmp_path / "cat" / "data").rglob("*.parquet"))) == len(cat.sql("SELECT path FROM files"))
