"""The byte-level L2 kernel: same answers as its plain-Python twin and as the general CSV reader."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadlab.data.importers.tardis import read_tardis
from spreadlab.errors import DataError
from spreadlab.kernels.csv_l2 import parse_l2_rows, parse_l2_rows_py

HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
PREFIX = b"binance-futures,BTCUSDT,"
_DTYPES = (np.int64, np.int64, np.int8, np.float64, np.float64, np.bool_)

_digits = st.text("0123456789", min_size=1, max_size=20)
_decimal = st.builds(
    lambda sign, a, b: f"{sign}{a}" + (f".{b}" if b else ""),
    st.sampled_from(["", "", "-"]),
    _digits,
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=25)),
)
_odd_number = st.sampled_from(["1e5", "nan", "inf", "", ".5", "5.", "+3", "1,5", '"7"', " 7"])
_time = st.one_of(
    st.sampled_from(["1704067200000000", "1704067200000001", "17040672000000000"]),  # repeats, as in L2 files
    st.integers(0, 10**18 - 1).map(str),
    st.integers(-(10**17), 10**17).map(str),
    st.sampled_from(["", "1.5", "12345678901234567890", "-"]),
)


@st.composite
def _row(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from([PREFIX.decode()] * 8 + ["binance-futures,ETHUSDT,", "binance,BTCUSDT,"]))
    ts = draw(_time)
    recv = draw(_time)
    snap = draw(st.sampled_from(["true", "false"] * 4 + ["True", "1", ""]))
    side = draw(st.sampled_from(["bid", "ask"] * 4 + ["buy", "BID", ""]))
    price = draw(st.one_of(_decimal, _decimal, _odd_number))
    amount = draw(st.one_of(_decimal, _decimal, _odd_number))
    end = draw(st.sampled_from(["\n"] * 6 + ["\r\n", "\n\n", ",x\n"]))
    return f"{prefix}{ts},{recv},{snap},{side},{price},{amount}{end}"


def _run(fn, data: bytes, pos: int, cap: int):  # type: ignore[no-untyped-def]
    out = [np.zeros(cap, t) for t in _DTYPES]
    n, end, ok = fn(np.frombuffer(data, np.uint8), pos, np.frombuffer(PREFIX, np.uint8), *out)
    return n, end, ok, [o[:n] for o in out]


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(_row(), min_size=0, max_size=12), cap=st.integers(1, 15), drop_last_nl=st.booleans())
def test_kernel_equals_python_twin(rows: list[str], cap: int, drop_last_nl: bool) -> None:
    data = "".join(rows).encode()
    if drop_last_nl and data.endswith(b"\n") and not data.endswith(b"\r\n"):
        data = data[:-1]
    n, end, ok, out = _run(parse_l2_rows, data, 0, cap)
    n_py, end_py, ok_py, out_py = _run(parse_l2_rows_py, data, 0, cap)
    assert (n, end, ok) == (n_py, end_py, ok_py)
    for a, b in zip(out, out_py, strict=True):
        np.testing.assert_array_equal(a, b)  # floats bit-identical (signed zeros compared too)
        if a.dtype == np.float64:
            assert np.array_equal(np.signbit(a), np.signbit(b))


@settings(max_examples=300, deadline=None)
@given(mantissa=st.integers(0, 2**53), frac=st.integers(0, 22), neg=st.booleans())
def test_kernel_decimal_is_correctly_rounded(mantissa: int, frac: int, neg: bool) -> None:
    digits = str(mantissa).rjust(frac + 1, "0")
    text = ("-" if neg else "") + (digits[:-frac] + "." + digits[-frac:] if frac else digits)
    line = PREFIX + f"1700000000000000,1700000000000001,false,bid,{text},{text}\n".encode()
    n, _, ok, out = _run(parse_l2_rows, line, 0, 1)
    assert (n, ok) == (1, True)
    assert out[3][0] == float(text) and np.signbit(out[3][0]) == np.signbit(float(text))


def test_kernel_time_units_and_rejections() -> None:
    line = PREFIX + b"1700000000,1700000000123,true,ask,1.5,0\n"  # seconds and milliseconds
    n, end, ok, out = _run(parse_l2_rows, line, 0, 4)
    assert (n, end, ok) == (1, len(line), True)
    assert out[0][0] == 1_700_000_000 * 10**9 and out[1][0] == 1_700_000_000_123 * 10**6
    assert out[2][0] == -1 and out[5][0]
    # a price with 17 significant digits is not exact with the fast path: the kernel stops there
    long = line + PREFIX + b"1700000000,1700000000,false,bid,12345.678901234567,1\n"
    assert _run(parse_l2_rows, long, 0, 4)[:3] == (1, len(line), False)


def _l2(path, rows: list[str]):  # type: ignore[no-untyped-def]
    path.write_bytes((HEADER + "".join(rows)).encode())
    return path


def _frames(path, **kw):  # type: ignore[no-untyped-def]
    batches = list(read_tardis(path, **kw))
    return pl.concat([b.frame for b in batches]), pl.concat([b.line for b in batches])


def _rows(n: int, t0: int = 1_704_067_200_000_000) -> list[str]:
    return [
        f"binance-futures,BTCUSDT,{t0 + i},{t0 + i + 7},{'true' if i < 3 else 'false'},"
        f"{'bid' if i % 3 else 'ask'},{50000 + (i % 13) * 0.1:.1f},{(i % 5) * 0.125}\n"
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "edit",
    ["none", "crlf", "no_final_newline", "trailing_blank_lines", "long_mantissa_mid_file", "exponent_price"],
)
def test_fast_path_equals_general_reader(tmp_path, edit: str) -> None:
    rows = _rows(2500)
    if edit == "crlf":
        rows = [r.replace("\n", "\r\n") for r in rows]
    elif edit == "no_final_newline":
        rows[-1] = rows[-1].rstrip("\n")
    elif edit == "trailing_blank_lines":
        rows.append("\n\n")
    elif edit == "long_mantissa_mid_file":
        rows[1700] = rows[1700].replace(",50000", ",50000.000000000000001")
    elif edit == "exponent_price":
        fields = rows[1200].split(",")
        rows[1200] = ",".join([*fields[:6], "5.00001e4", fields[7]])
    path = _l2(tmp_path / "l2.csv", rows)
    fast, fast_lines = _frames(path, chunk_rows=1000)
    general, general_lines = _frames(path, chunk_rows=1000, skip_bad=True)  # skip_bad takes the general path
    assert fast.height == 2500
    assert fast.equals(general)
    assert fast_lines.equals(general_lines)


def test_fast_path_bad_value_names_line_and_field(tmp_path) -> None:
    rows = _rows(3000)
    rows[2200] = rows[2200].replace(",bid,", ",sideways,").replace(",ask,", ",sideways,")
    path = _l2(tmp_path / "l2.csv", rows)
    with pytest.raises(DataError) as exc:
        _frames(path, chunk_rows=1000)
    assert exc.value.row == 2202 and exc.value.field == "side"


def test_fast_path_second_symbol_is_its_own_instrument(tmp_path) -> None:
    rows = _rows(1500)
    rows[900:] = [r.replace("BTCUSDT", "ETHUSDT") for r in rows[900:]]
    path = _l2(tmp_path / "l2.csv", rows)
    frame, lines = _frames(path, chunk_rows=400)
    counts = frame.group_by("instrument_id").len().sort("instrument_id").rows()
    assert counts == [("BINANCE_USDM:BTCUSDT", 900), ("BINANCE_USDM:ETHUSDT", 600)]
    assert lines.to_list() == list(range(2, 1502))


def test_no_memory_map_falls_back_to_general_reader(tmp_path, monkeypatch) -> None:
    import spreadlab.data.importers.tardis as tardis

    path = _l2(tmp_path / "l2.csv", _rows(700))
    expected, _ = _frames(path, chunk_rows=300)

    def no_mmap(*args: object, **kwargs: object) -> None:
        raise OSError(19, "No such device")

    monkeypatch.setattr(tardis.mmap, "mmap", no_mmap)
    frame, lines = _frames(path, chunk_rows=300)
    assert frame.equals(expected) and lines.to_list() == list(range(2, 702))
