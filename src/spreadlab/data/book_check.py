"""Check a rebuilt order book against the venue's own best bid/offer stream.

Binance publishes the top of book twice: implicitly in the diff-depth stream
(``depthUpdate``, ids ``U..u``) and explicitly in ``bookTicker`` (id ``u``).
Both ids count the same order-book updates, but the depth stream
*aggregates*: one diff message carries the net change of every update from
``U`` to ``u`` (100 ms on spot, a few ms on futures), so the book is only
observable at the ``u`` of each message. Receive times are no help: the two
streams travel separately and arrive out of step.

Both directions of the comparison are exact when done on update ids:

* **quote -> book** (``exact``): take the book state ``S_k`` after diff ``k``
  (id ``u_k``) and the next diff's first id ``U_{k+1}``. A bookTicker with id
  ``q`` and ``u_k <= q < U_{k+1}`` sees exactly ``S_k`` (no update of this
  book lies between ``u_k`` and ``q``), so it must match. A bookTicker with
  ``U_{k+1} <= q < u_{k+1}`` sits inside an aggregated message whose
  intermediate states the depth stream never shows: it cannot be checked
  this way.
* **book -> quote** (``state``): bookTicker pushes every change of the best
  bid/ask as it happens, so the top of book at any id ``x`` is that of the
  last bookTicker with id ``<= x``. Every book state ``S_k`` is compared with
  the last bookTicker at or before ``u_k``.

A bookTicker is *verified* when either direction compares it; the verified
match rate is over those.

Both directions stop where either stream ends. A bookTicker with an id
after the depth stream's last ``u`` is not compared: the depth stream
stopped (the end of a capture, a disconnect), not the book, so the updates
between that ``u`` and the quote are unknown. Likewise a book state after
the last bookTicker's id is not compared with that stale quote.

``time`` pairs each bookTicker with the last book
state *received* at or before it -- the naive method, reported only to show
why receive times mislead (the two streams arrive out of step).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from spreadlab.data.orderbook import BookReplay, EventOutcome
from spreadlab.errors import DataError

__all__ = ["BboCheck", "check_against_quotes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BboCheck:
    """Agreement of a rebuilt book with recorded best bid/offer messages.

    Rates are fractions in ``[0, 1]`` (NaN when their denominator is 0).
    ``*_matches`` count equal best bid *and* ask prices; ``*_size_matches``
    also require equal sizes. ``after_depth_end`` counts the bookTickers
    (among ``after_sync``) with an id after the depth stream's last message:
    never compared.
    """

    quotes: int
    after_sync: int
    after_depth_end: int
    exact: int
    exact_matches: int
    exact_size_matches: int
    states: int
    state_matches: int
    state_size_matches: int
    verified: int
    verified_matches: int
    time_compared: int
    time_matches: int

    @staticmethod
    def _rate(num: int, den: int) -> float:
        return num / den if den else float("nan")

    @property
    def exact_rate(self) -> float:
        """Share of exactly comparable bookTickers whose bid and ask match the book."""
        return self._rate(self.exact_matches, self.exact)

    @property
    def state_rate(self) -> float:
        """Share of book states whose bid and ask match the last bookTicker at or before them."""
        return self._rate(self.state_matches, self.states)

    @property
    def verified_rate(self) -> float:
        """Share of verified bookTickers that match in every comparison made."""
        return self._rate(self.verified_matches, self.verified)

    @property
    def coverage(self) -> float:
        """Share of bookTickers between the first sync and the depth stream's end that could be verified."""
        return self._rate(self.verified, self.after_sync - self.after_depth_end)

    @property
    def time_rate(self) -> float:
        """Share matching by receive time (naive reference)."""
        return self._rate(self.time_matches, self.time_compared)


def check_against_quotes(replay: BookReplay, quotes: pl.DataFrame) -> BboCheck:
    """Compare a replayed book with bookTicker quotes of the same instrument.

    Parameters
    ----------
    replay
        The result of :meth:`OrderBook.replay` with ``time_column="ts_recv"``.
    quotes
        ``quotes`` rows with the bookTicker id in ``sequence`` (as the
        ``binance-ws`` importer's :func:`read_binance_ws_tables` keeps it).

    Returns
    -------
    BboCheck
        Counts by method; see the module docstring.
    """
    for col in ("sequence", "bid", "ask", "bid_size", "ask_size", "ts_recv"):
        if col not in quotes.columns:
            raise DataError(f"quotes frame lacks column {col!r} (the bookTicker update id is needed)")
    fr = replay.frame
    ok = pl.col("valid") & pl.col("outcome").is_in([int(EventOutcome.APPLIED), int(EventOutcome.SNAPSHOT)])
    states = (
        fr.filter(ok)
        .select("book_id", "bid", "ask", "bid_size", "ask_size")
        .unique("book_id", keep="last", maintain_order=True)
        .sort("book_id")
    )
    first_id = int(states["book_id"][0]) if len(states) else None
    qt = (
        quotes.select(
            pl.col("sequence").alias("q_id"),
            pl.col("bid").alias("q_bid"),
            pl.col("ask").alias("q_ask"),
            pl.col("bid_size").alias("q_bs"),
            pl.col("ask_size").alias("q_as"),
        )
        .with_row_index("q_row")
        .sort("q_id")
    )
    if first_id is None:
        qt = qt.clear()
    else:
        qt = qt.filter(pl.col("q_id") >= first_id)
    # both directions stop where either stream ends (see the module docstring)
    last_u = int(states["book_id"][-1]) if len(states) else None
    last_q = int(qt["q_id"].max()) if len(qt) else None  # type: ignore[arg-type]
    in_depth = qt if last_u is None else qt.filter(pl.col("q_id") <= last_u)
    in_quotes = states if last_q is None else states.filter(pl.col("book_id") <= last_q)
    price_ok = (pl.col("bid") == pl.col("q_bid")) & (pl.col("ask") == pl.col("q_ask"))
    size_ok = price_ok & (pl.col("bid_size") == pl.col("q_bs")) & (pl.col("ask_size") == pl.col("q_as"))

    # quote -> book: quotes falling between two diff messages
    diffs = (
        fr.filter(pl.col("outcome") != int(EventOutcome.SNAPSHOT))
        .select(pl.col("sequence").alias("next_u"), pl.col("first_sequence").alias("next_U"))
        .unique("next_u")
        .sort("next_u")
    )
    st_next = states.join_asof(
        diffs, left_on="book_id", right_on="next_u", strategy="forward", allow_exact_matches=False
    )
    exact = (
        in_depth.join_asof(st_next, left_on="q_id", right_on="book_id", strategy="backward")
        .filter(pl.col("book_id").is_not_null())
        .filter(pl.col("next_U").is_null() | (pl.col("next_U") > pl.col("q_id")))
        .with_columns(m=price_ok, ms=size_ok)
    )
    # book -> quote: each state against the last quote at or before it
    by_state = (
        in_quotes.join_asof(qt, left_on="book_id", right_on="q_id", strategy="backward")
        .filter(pl.col("q_id").is_not_null())
        .with_columns(m=price_ok, ms=size_ok)
    )
    per_quote = (
        pl.concat([exact.select("q_row", "m"), by_state.select("q_row", "m")])
        .group_by("q_row")
        .agg(pl.col("m").all())
    )
    by_time = (
        quotes.sort("ts_recv")
        .join_asof(
            fr.filter(pl.col("valid")).select(
                "ts", pl.col("bid").alias("t_bid"), pl.col("ask").alias("t_ask")
            ),
            left_on="ts_recv",
            right_on="ts",
            strategy="backward",
        )
        .drop_nulls(["t_bid", "t_ask"])
    )
    time_ok = int(((by_time["bid"] == by_time["t_bid"]) & (by_time["ask"] == by_time["t_ask"])).sum())
    return BboCheck(
        quotes=len(quotes),
        after_sync=len(qt),
        after_depth_end=len(qt) - len(in_depth),
        exact=len(exact),
        exact_matches=int(exact["m"].sum()),
        exact_size_matches=int(exact["ms"].sum()),
        states=len(by_state),
        state_matches=int(by_state["m"].sum()),
        state_size_matches=int(by_state["ms"].sum()),
        verified=len(per_quote),
        verified_matches=int(per_quote["m"].sum()),
        time_compared=len(by_time),
        time_matches=time_ok,
    )
