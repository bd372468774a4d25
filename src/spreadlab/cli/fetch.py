"""``spreadlab data fetch``: download market data (Tardis.dev, Binance archives, ccxt REST).

Thin: parse, call one :mod:`spreadlab.data.download` function, print.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from spreadlab.cli._common import console, print_json, run_or_exit
from spreadlab.core.time import parse_time
from spreadlab.data.download import (
    BINANCE_BASE_URL,
    TARDIS_BASE_URL,
    BinanceArchive,
    DownloadResult,
    fetch_binance_archive,
    fetch_tardis,
)
from spreadlab.data.download.retry import RetryPolicy

__all__ = ["app"]

app = typer.Typer(
    help="Download market data: Tardis.dev, Binance public archives, ccxt REST.", no_args_is_help=True
)

Dest = Annotated[Path, typer.Option("--dest", help="Folder to download into.")]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON report.")]
Retries = Annotated[
    int,
    typer.Option(
        "--retries",
        min=1,
        max=100,
        help="Attempts per request (1 = no retry); waits back off exponentially and honour Retry-After.",
    ),
]


def _report(results: list[DownloadResult], as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "url": r.url,
                    "path": str(r.path),
                    "bytes": r.bytes,
                    "sha256": r.sha256,
                    "status": r.status.value,
                    "verified": r.verified,
                    "attempts": r.attempts,
                }
                for r in results
            ]
        )
        return
    for r in results:
        check = "sha256 verified" if r.verified else "no published checksum"
        console.print(f"{r.status.value:10s} {r.path} ({r.bytes:,} bytes, {check})", highlight=False)


@app.command("tardis")
def tardis_cmd(
    exchange: Annotated[str, typer.Argument(help="Tardis exchange id, e.g. binance-futures, deribit.")],
    data_type: Annotated[
        str, typer.Argument(help="incremental_book_L2, trades, quotes, derivative_ticker, ...")
    ],
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD (the 1st of a month is free without a key).")],
    symbols: Annotated[list[str], typer.Argument(help="Exchange symbols.")],
    dest: Dest = Path("data"),
    api_key: Annotated[str | None, typer.Option(help="Tardis API key (default: $TARDIS_API_KEY).")] = None,
    base_url: Annotated[str, typer.Option(hidden=True)] = TARDIS_BASE_URL,
    retries: Retries = 5,
    as_json: Json = False,
) -> None:
    """Download Tardis.dev daily CSV files."""
    key = api_key or os.environ.get("TARDIS_API_KEY") or None
    policy = RetryPolicy(max_attempts=retries)
    results = run_or_exit(
        lambda: fetch_tardis(
            exchange, data_type, day, symbols, dest, api_key=key, base_url=base_url, retry=policy
        )
    )
    _report(results, as_json)


@app.command("binance")
def binance_cmd(
    market: Annotated[str, typer.Argument(help="spot, um (USDT-M) or cm (COIN-M).")],
    data_type: Annotated[str, typer.Argument(help="klines, trades, aggTrades, bookTicker, fundingRate, ...")],
    symbol: Annotated[str, typer.Argument(help="e.g. BTCUSDT, BTCUSD_PERP.")],
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD (any day of the month for --monthly).")],
    interval: Annotated[str | None, typer.Option(help="Kline interval, e.g. 1m, 1h.")] = None,
    monthly: Annotated[bool, typer.Option("--monthly", help="The monthly file.")] = False,
    dest: Dest = Path("data"),
    base_url: Annotated[str, typer.Option(hidden=True)] = BINANCE_BASE_URL,
    retries: Retries = 5,
    as_json: Json = False,
) -> None:
    """Download one data.binance.vision archive, verified against its .CHECKSUM."""

    def go() -> DownloadResult:
        archive = BinanceArchive(
            market=market,  # type: ignore[arg-type]
            data_type=data_type,
            symbol=symbol,
            day=date.fromisoformat(day) if len(day) == 10 else date.fromisoformat(day + "-01"),
            period="monthly" if monthly else "daily",  # type: ignore[arg-type]
            interval=interval,
        )
        return fetch_binance_archive(
            archive, dest, base_url=base_url, retry=RetryPolicy(max_attempts=retries)
        )

    _report([run_or_exit(go)], as_json)


@app.command("rest")
def rest_cmd(
    what: Annotated[str, typer.Argument(help="ohlcv, funding, book or options.")],
    exchange: Annotated[
        str, typer.Argument(help="ccxt exchange id: binance, binanceusdm, deribit, okx, bybit ...")
    ],
    symbol: Annotated[str, typer.Argument(help="ccxt symbol (BTC/USDT:USDT) or, for options, the currency.")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    timeframe: Annotated[str, typer.Option(help="Candle width for ohlcv.")] = "1h",
    start: Annotated[str | None, typer.Option(help="ISO time or ns (ohlcv, funding).")] = None,
    end: Annotated[str | None, typer.Option(help="ISO time or ns (ohlcv, funding).")] = None,
    retries: Retries = 5,
) -> None:
    """Fetch through ccxt (needs the 'fetch' extra) and write a canonical Parquet table."""
    import time

    from spreadlab.data.download import rest

    policy = RetryPolicy(max_attempts=retries)

    def go() -> int:
        s = parse_time(start) if start else 0
        e = parse_time(end) if end else time.time_ns()
        if what == "ohlcv":
            frame = rest.fetch_ohlcv(exchange, symbol, timeframe, start=s, end=e, retry=policy)
        elif what == "funding":
            frame = rest.fetch_funding_history(exchange, symbol, start=s, end=e, retry=policy)
        elif what == "book":
            frame = rest.fetch_book_snapshot(exchange, symbol, ts_recv=time.time_ns(), retry=policy)
        elif what == "options":
            frame = rest.fetch_option_chain(exchange, symbol, ts_recv=time.time_ns(), retry=policy)
        else:
            from spreadlab.errors import ValidationError

            raise ValidationError(f"what={what!r} must be one of ohlcv, funding, book, options")
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(out)
        return frame.height

    rows = run_or_exit(go)
    console.print(f"wrote {rows:,} rows to {out}", highlight=False)
