"""The book rebuilt from real Binance depth captures against the recorded bookTicker stream.

Method (see spreadlab.data.book_check): compare on update ids, both ways. A
bookTicker whose id falls between two depth messages must equal the book
after the first; every book state must equal the last bookTicker at or
before its id. Receive-time pairing is shown to be much worse, which is why
it is not the test.
"""

from __future__ import annotations

import polars as pl
import pytest
from tests.conftest import need_shared

from spreadlab.data.book_check import check_against_quotes
from spreadlab.data.importers.binance_ws import read_binance_ws_tables
from spreadlab.data.orderbook import EventOutcome, OrderBook, SequenceRule
from spreadlab.errors import DataError
from spreadlab.events.schema import EventKind

FAST = [
    ("spot", "ethusdt", SequenceRule.BINANCE_SPOT),
    ("usdm", "ethusdt", SequenceRule.BINANCE_FUTURES),
    ("cm", "ethusd_perp", SequenceRule.BINANCE_FUTURES),
]
SLOW = [
    ("spot", "btcusdt", SequenceRule.BINANCE_SPOT),
    ("usdm", "btcusdt", SequenceRule.BINANCE_FUTURES),
    ("cm", "btcusd_perp", SequenceRule.BINANCE_FUTURES),
]


def _paths(folder: str, stem: str) -> list:
    first = need_shared(f"binance_l2_hftbacktest/{folder}/{stem}_20240808.gz")
    second = first.with_name(f"{stem}_20240809.gz")
    return [first, second] if second.exists() else [first]


def _check(folder: str, stem: str, rule: SequenceRule) -> None:
    tables = read_binance_ws_tables(_paths(folder, stem))
    deltas, quotes = tables[EventKind.BOOK_DELTAS], tables[EventKind.QUOTES]
    venue = deltas["instrument_id"][0].split(":")[0]
    assert SequenceRule.for_venue(venue) is rule
    book = OrderBook(rule=rule)
    replay = book.replay(deltas)
    assert book._grid is not None  # the tick-grid fast path held the whole capture (no fallback)
    # one snapshot, the chain holds across the two daily files, never a gap
    assert replay.snapshots == 1 and replay.gaps == 0
    # each diff is applied, stale or dropped while unsynced (buffered ones were dropped, then re-applied)
    assert replay.applied + replay.stale + replay.unsynced == replay.events - 1
    assert replay.buffered <= replay.unsynced
    check = check_against_quotes(replay, quotes)
    print(f"{folder}/{stem}: {check}")
    assert check.after_sync >= check.quotes - 50
    # quote -> book on update ids: every exactly comparable bookTicker matches (prices and sizes)
    assert check.exact > 500
    assert check.exact_rate == 1.0
    assert check.exact_size_matches >= 0.995 * check.exact
    # book -> quote: every book state against the last bookTicker at or before its id
    assert check.states > 6000
    assert check.state_rate >= 0.999
    assert check.verified_rate >= 0.999
    # receive-time pairing is far worse: the two streams arrive out of step
    assert check.time_rate < 0.85


@pytest.mark.parametrize(("folder", "stem", "rule"), FAST)
def test_rebuilt_book_matches_book_ticker(folder: str, stem: str, rule: SequenceRule) -> None:
    _check(folder, stem, rule)


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "stem", "rule"), SLOW)
def test_rebuilt_book_matches_book_ticker_btc(folder: str, stem: str, rule: SequenceRule) -> None:
    _check(folder, stem, rule)


@pytest.mark.parametrize(("folder", "stem"), [("spot", "ethusdt"), ("cm", "ethusd_perp")])
def test_comparison_stops_where_the_depth_stream_ends(folder: str, stem: str) -> None:
    """The depth stream stops early (end of capture, disconnect); later bookTickers are not compared.

    Before the fix every bookTicker after the depth stream's last message was
    paired with the frozen last book state and counted as exactly comparable:
    on this capture cut at 90% of its depth messages, 16% (spot) and 40% (COIN-M)
    of those "exact" quotes matched instead of all of them.
    """
    tables = read_binance_ws_tables(_paths(folder, stem))
    deltas, quotes = tables[EventKind.BOOK_DELTAS], tables[EventKind.QUOTES]
    rule = SequenceRule.for_venue(deltas["instrument_id"][0].split(":")[0])
    ids = deltas["sequence"].unique(maintain_order=True)
    last_u = int(ids[int(0.9 * len(ids))])
    cut = deltas.filter(pl.col("sequence") <= last_u)
    check = check_against_quotes(OrderBook(rule=rule).replay(cut), quotes)
    tail = int((quotes["sequence"] > last_u).sum())
    assert tail > 1000  # the bookTicker stream runs on well past the cut
    assert check.after_depth_end == tail
    assert check.exact > 500 and check.exact_rate == 1.0
    assert check.verified_rate >= 0.999
    # the quotes cut off the other way: book states after the last bookTicker are not compared either
    q_cut = quotes.filter(pl.col("sequence") <= last_u)
    full = check_against_quotes(OrderBook(rule=rule).replay(deltas), q_cut)
    assert full.states < check_against_quotes(OrderBook(rule=rule).replay(deltas), quotes).states
    assert full.state_rate >= 0.999 and full.exact_rate == 1.0 and full.after_depth_end == 0
    # coverage is over the quotes the depth stream spans, so it does not collapse at the cut
    assert full.coverage == pytest.approx(check.coverage, abs=0.05)


@pytest.mark.parametrize(("folder", "stem"), [("usdm", "ethusdt"), ("spot", "ethusdt")])
def test_deleting_a_message_is_detected_and_book_resyncs_on_next_snapshot(folder: str, stem: str) -> None:
    path = need_shared(f"binance_l2_hftbacktest/{folder}/{stem}_20240808.gz")
    deltas = read_binance_ws_tables(path)[EventKind.BOOK_DELTAS]
    rule = SequenceRule.for_venue(deltas["instrument_id"][0].split(":")[0])
    diff_ids = deltas.filter(~pl.col("is_snapshot"))["sequence"].unique(maintain_order=True)
    victim = int(diff_ids[len(diff_ids) // 2])
    after_victim = int(diff_ids[len(diff_ids) // 2 + 1])
    resync_at = int(diff_ids[len(diff_ids) // 2 + 200])

    full_book = OrderBook(rule=rule)
    full = full_book.replay(deltas)
    assert full.gaps == 0

    holed = deltas.filter(pl.col("sequence") != victim)
    r = OrderBook(rule=rule).replay(holed)
    assert r.gaps == 1
    fr = r.frame
    gap_row = fr.filter(pl.col("outcome") == int(EventOutcome.GAP))
    assert gap_row["sequence"].to_list() == [after_victim]
    after = fr.filter(pl.col("sequence") >= after_victim)
    assert not after["valid"].any()  # never a wrong book: invalid to the end of the file
    assert after["bid"].null_count() == len(after)

    # a fresh snapshot taken from the intact book at resync_at brings the book back
    state = OrderBook(rule=rule)
    state.replay(deltas.filter(pl.col("sequence") <= resync_at))
    bp, bs = state.bids()
    ap, as_ = state.asks()
    ts = int(deltas.filter(pl.col("sequence") == resync_at)["ts_recv"][0])
    snap = pl.DataFrame(
        {
            "ts_recv": [ts + 1] * (len(bp) + len(ap)),
            "side": [1] * len(bp) + [-1] * len(ap),
            "price": [*bp.tolist(), *ap.tolist()],
            "size": [*bs.tolist(), *as_.tolist()],
            "sequence": [resync_at] * (len(bp) + len(ap)),
            "is_snapshot": [True] * (len(bp) + len(ap)),
            "first_sequence": [resync_at] * (len(bp) + len(ap)),
            "prev_sequence": [resync_at] * (len(bp) + len(ap)),
        },
        schema={c: holed.schema[c] for c in holed.columns if c not in ("ts_event", "instrument_id")},
    )
    cut = holed.with_row_index("i").filter(pl.col("sequence") == resync_at)["i"].max()
    rest = holed.select(snap.columns)
    healed = pl.concat([rest.head(cut + 1), snap, rest.slice(cut + 1)])
    h = OrderBook(rule=rule).replay(healed)
    assert h.gaps == 1 and h.snapshots == 2
    later = h.frame.filter(pl.col("sequence") > resync_at, ~pl.col("outcome").eq(int(EventOutcome.SNAPSHOT)))
    ref = full.frame.filter(pl.col("sequence") > resync_at)
    assert later["valid"].all()
    assert later.select("bid", "ask", "bid_size", "ask_size").equals(
        ref.select("bid", "ask", "bid_size", "ask_size")
    )


def test_day_two_alone_never_syncs() -> None:
    """A file without a REST snapshot cannot give a book: every row stays invalid (no guessing)."""
    path = need_shared("binance_l2_hftbacktest/cm/ethusd_perp_20240809.gz")
    deltas = read_binance_ws_tables(path)[EventKind.BOOK_DELTAS]
    book = OrderBook(rule=SequenceRule.BINANCE_FUTURES)
    r = book.replay(deltas)
    assert r.snapshots == 0 and r.unsynced == r.events and not r.frame["valid"].any()
    with pytest.raises(DataError, match="not synchronised"):
        book.depth(10.0)


def test_queries_on_a_real_book_against_numpy() -> None:
    path = need_shared("binance_l2_hftbacktest/usdm/ethusdt_20240808.gz")
    deltas = read_binance_ws_tables(path)[EventKind.BOOK_DELTAS]
    book = OrderBook("BINANCE_USDM:ETHUSDT", rule="binance_futures")
    book.replay(deltas)
    bp, bs = book.bids()
    ap, as_ = book.asks()
    assert len(bp) > 500 and len(ap) > 500 and bp[0] < ap[0]
    mid = 0.5 * (bp[0] + ap[0])
    d = book.depth(10.0)
    assert d.bid_size == pytest.approx(bs[bp >= mid * (1 - 1e-3)].sum())
    assert d.ask_size == pytest.approx(as_[ap <= mid * (1 + 1e-3)].sum())
    q = 250.0
    cum = as_.cumsum()
    n = int((cum < q).sum()) + 1
    want = (ap[: n - 1] @ as_[: n - 1] + ap[n - 1] * (q - cum[n - 2])) / q
    imp = book.impact(pytest.importorskip("spreadlab").Side.BUY, q)
    assert imp.complete and imp.levels == n and imp.vwap == pytest.approx(want, rel=1e-12)
    k5 = book.imbalance((5,))[0]
    assert k5 == pytest.approx((bs[:5].sum() - as_[:5].sum()) / (bs[:5].sum() + as_[:5].sum()))
