"""Bybit ob500 importer: every level of the real file, in order, and a named error for each kind of bad message."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.data.importers.bybit_ob import read_bybit_ob
from spreadlab.errors import DataError

_FILE = "nautilus_fixtures/bybit_ob500/xrpusdt-ob500.data.zip"


def _lines() -> list[bytes]:
    zf = zipfile.ZipFile(need_shared(_FILE))
    return zf.open(zf.namelist()[0]).read().splitlines()


def _reference(lines: list[bytes]) -> pl.DataFrame:
    """The expected rows, built level by level with the standard json module."""
    rows = []
    for ln, text in enumerate(lines, start=1):
        m = json.loads(text)
        d = m["data"]
        for key, side in (("b", 1), ("a", -1)):
            for p, s in d[key]:
                rows.append(
                    {
                        "ts_event": m.get("cts", m["ts"]) * 1_000_000,
                        "ts_recv": m["ts"] * 1_000_000,
                        "side": side,
                        "price": float(p),
                        "size": float(s),
                        "sequence": d["u"],
                        "is_snapshot": m["type"] == "snapshot",
                        "line": ln,
                    }
                )
    return pl.DataFrame(rows)


@pytest.mark.parametrize("chunk_rows", [1, 7, 20_000])
def test_every_level_of_the_real_file_in_source_order(chunk_rows: int) -> None:
    lines = _lines()
    ref = _reference(lines)
    batches = list(read_bybit_ob(need_shared(_FILE), chunk_rows=chunk_rows))
    got = pl.concat([b.frame for b in batches])
    assert got.height == ref.height == 3966
    for col in ("ts_event", "ts_recv", "side", "price", "size", "sequence", "is_snapshot"):
        assert got[col].to_list() == ref[col].to_list(), col
    assert pl.concat([b.line for b in batches if b.line is not None]).to_list() == ref["line"].to_list()
    assert sum(b.rows_read for b in batches) == len(lines)


def _with(lines: list[bytes], at: int, text: bytes, tmp_path: Path) -> Path:
    lines = list(lines)
    lines[at] = text
    p = tmp_path / "x.data"
    p.write_bytes(b"\n".join(lines) + b"\n")
    return p


_HEAD = b'{"topic":"orderbook.500.XRPUSDT","type":"delta",'


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (b"{not json", None, "not JSON"),
        (b"[1, 2]", "data", "no 'data' object"),
        (_HEAD + b'"ts":1,"data":"x"}', "data", "no 'data' object"),
        (b'{"type":"snap","ts":1,"data":{"s":"XRPUSDT","b":[],"a":[]}}', "type", "'snap'"),
        (_HEAD + b'"ts":"1","data":{"s":"XRPUSDT","b":[],"a":[]}}', "ts", "not an integer"),
        (_HEAD + b'"ts":true,"data":{"s":"XRPUSDT","b":[],"a":[]}}', "ts", "not an integer"),
        (_HEAD + b'"ts":1e30,"data":{"s":"XRPUSDT","b":[],"a":[]}}', "ts", "not an integer"),
        (_HEAD + b'"ts":99999999999999999,"data":{"s":"XRPUSDT","b":[],"a":[]}}', "ts", "millisecond"),
        (_HEAD + b'"ts":1,"cts":"x","data":{"s":"XRPUSDT","b":[],"a":[]}}', "cts", "not an integer"),
        (_HEAD + b'"ts":1,"data":{"s":"XRPUSDT","b":[],"a":[],"u":"7"}}', "data.u", "64-bit integer"),
        (_HEAD + b'"ts":1,"data":{"b":[],"a":[]}}', "data.s", "symbol"),
        (_HEAD + b'"ts":1,"data":{"s":"XRPUSDT","b":[["1","2","3"]],"a":[]}}', "data.b", "[price, size]"),
        (_HEAD + b'"ts":1,"data":{"s":"XRPUSDT","b":[],"a":["12"]}}', "data.a", "[price, size]"),
        (_HEAD + b'"ts":1,"data":{"s":"XRPUSDT","b":[["1"]],"a":[]}}', "data.b", "[price, size]"),
        (_HEAD + b'"ts":1,"data":{"s":"XRPUSDT","b":[["x","1"]],"a":[]}}', "data.b", "not numeric"),
        (_HEAD + b'"ts":1,"data":{"s":"XRPUSDT","b":[],"a":[["1",null]]}}', "data.a", "not numeric"),
        (_HEAD + b'"ts":1,"data":{"s":"XRPUSDT","b":{"1":"2"},"a":[]}}', "data.b", "not a list"),
    ],
)
def test_bad_message_is_named_and_quarantined(
    text: bytes, field: str | None, words: str, tmp_path: Path
) -> None:
    lines = _lines()
    p = _with(lines, 5, text, tmp_path)
    with pytest.raises(DataError, match="x.data, row 6") as exc:
        list(read_bybit_ob(p))
    assert (exc.value.row, exc.value.field) == (6, field)
    assert words in str(exc.value)
    batches = list(read_bybit_ob(p, skip_bad=True, chunk_rows=4))
    q = pl.concat([b.quarantine for b in batches])
    assert q["line"].to_list() == [6] and q["raw"][0] == text.decode()
    got = pl.concat([b.frame for b in batches])
    ref = _reference(lines[:5] + lines[6:])
    assert got["price"].to_list() == ref["price"].to_list()  # every other message kept, whole
    assert sum(b.rows_read for b in batches) == len(lines)


def test_numeric_levels_and_blank_lines_are_accepted(tmp_path: Path) -> None:
    lines = _lines()
    msg = (
        _HEAD + b'"ts":1700000000000,"cts":1699999999999,"data":{"s":"XRPUSDT","b":[[1.5,2]],"a":null,"u":9}}'
    )
    p = tmp_path / "x.data"
    p.write_bytes(b"\n".join([lines[0], b"", msg]) + b"\n")
    batches = list(read_bybit_ob(p))
    df = pl.concat([b.frame for b in batches]).tail(1)
    assert df.row(0, named=True) | {"instrument_id": None} == {
        "ts_event": 1_699_999_999_999_000_000,
        "ts_recv": 1_700_000_000_000_000_000,
        "instrument_id": None,
        "side": 1,
        "price": 1.5,
        "size": 2.0,
        "sequence": 9,
        "is_snapshot": False,
        "first_sequence": None,
        "prev_sequence": None,
    }
    assert batches[-1].line is not None and batches[-1].line[-1] == 3
    assert sum(b.rows_read for b in batches) == 2
