"""The HTML report of an engine backtest: one self-contained file that works offline.

Sections: headline metrics; equity (USD) with drawdown; per spread the
mid value with its fitted centre and entry bands and the entry/exit
decisions; PnL attribution per round trip (convergence, slippage, fees,
funding); the round-trip table; the fills (first 500) with the book level
filled at; the data sources and cost assumptions.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from spreadlab.backtest.result import BacktestResult

__all__ = ["write_engine_report"]


def _dt(ns: Any) -> Any:
    return np.asarray(ns, dtype="datetime64[ns]")


def _table(df: pl.DataFrame, *, limit: int = 500) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    rows = []
    for r in df.head(limit).iter_rows():
        cells = []
        for v in r:
            if isinstance(v, float):
                cells.append(f"<td>{v:,.6g}</td>")
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='t'><tr>{head}</tr>{''.join(rows)}</table>"


def _figure(res: BacktestResult, bands: dict[str, float]) -> go.Figure:
    spreads = [c.split("|")[0] for c in res.spread_values.columns if c.endswith("|value")]
    rows = 3 + len(spreads)
    titles = [
        "equity (USD)",
        "drawdown (% of peak)",
        *[f"spread {s}: mid value, centre +- entry band" for s in spreads],
        "PnL per round trip (USD)",
    ]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=False, vertical_spacing=0.06, subplot_titles=titles)
    eq = res.equity
    t = _dt(eq["ts"].to_numpy())
    e = eq["equity_usd"].to_numpy()
    fig.add_trace(go.Scattergl(x=t, y=e, name="equity USD"), 1, 1)
    peak = np.maximum.accumulate(e) if e.size else e
    fig.add_trace(go.Scattergl(x=t, y=100 * (e - peak) / peak, name="drawdown %", fill="tozeroy"), 2, 1)
    fig.update_yaxes(title_text="USD", row=1, col=1)
    fig.update_yaxes(title_text="% of peak", row=2, col=1)
    sv = res.spread_values
    ts = _dt(sv["ts"].to_numpy())
    for k, s in enumerate(spreads):
        row = 3 + k
        v = sv[f"{s}|value"].to_numpy()
        mu = sv[f"{s}|mean"].to_numpy()
        sd = sv[f"{s}|std"].to_numpy()
        ent = bands.get(s, 2.0)
        fig.add_trace(go.Scattergl(x=ts, y=v, name=f"{s} mid", line={"width": 1}), row, 1)
        fig.add_trace(go.Scattergl(x=ts, y=mu, name="centre", line={"dash": "dot"}), row, 1)
        fig.add_trace(
            go.Scattergl(x=ts, y=mu + ent * sd, name="+entry", line={"dash": "dash", "width": 1}), row, 1
        )
        fig.add_trace(
            go.Scattergl(x=ts, y=mu - ent * sd, name="-entry", line={"dash": "dash", "width": 1}), row, 1
        )
        d = res.decisions.filter(pl.col("spread") == s)
        for action, symbol, color in (
            ("enter_long", "triangle-up", "green"),
            ("enter_short", "triangle-down", "red"),
            ("exit", "circle", "black"),
            ("stop", "x", "orange"),
        ):
            dd = d.filter(pl.col("action") == action)
            if dd.height:
                fig.add_trace(
                    go.Scattergl(
                        x=_dt(dd["ts"].to_numpy()),
                        y=dd["value"].to_numpy(),
                        mode="markers",
                        name=action,
                        marker={"symbol": symbol, "size": 9, "color": color},
                    ),
                    row,
                    1,
                )
        fig.update_yaxes(title_text="spread value (executable at the markers)", row=row, col=1)
    tr = res.trades.filter(pl.col("closed"))
    x = [f"{r['spread'][:12]}#{r['trade']}" for r in tr.to_dicts()]
    for col, name in (
        ("convergence_usd", "convergence"),
        ("slippage_usd", "slippage vs mid"),
        ("fees_usd", "fees"),
        ("funding_usd", "funding"),
    ):
        fig.add_trace(go.Bar(x=x, y=tr[col].to_numpy() if tr.height else [], name=name), rows, 1)
    fig.update_layout(
        barmode="relative",
        height=350 * rows,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.03},
    )
    fig.update_yaxes(title_text="USD", row=rows, col=1)
    return fig


def write_engine_report(
    path: str | Path,
    result: BacktestResult,
    *,
    title: str,
    assumptions: dict[str, Any] | None = None,
    bands: dict[str, float] | None = None,
) -> Path:
    """Write the report of ``result`` to ``path`` and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    m = result.metrics.to_dict()
    metrics = pl.DataFrame(
        {"metric": list(m), "value": [f"{v:,.6g}" if isinstance(v, float) else str(v) for v in m.values()]}
    )
    fig = _figure(result, bands or {}).to_html(
        full_html=False, include_plotlyjs=True, div_id="spreadlab-backtest"
    )
    src = pl.DataFrame({"instrument": list(result.sources), "prices from": list(result.sources.values())})
    assume = pl.DataFrame(
        {
            "assumption": list((assumptions or {}).keys()),
            "value": [str(v) for v in (assumptions or {}).values()],
        }
    )
    fills = result.fills.select(
        "ts",
        "instrument_id",
        "side",
        "price",
        "quantity",
        "liquidity",
        "level",
        "fee",
        "mid",
        "slippage_usd",
        "owner",
        "trade",
    )
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em}"
        "table.t{border-collapse:collapse;margin:1em 0}"
        "table.t th,table.t td{border:1px solid #ddd;padding:3px 8px;text-align:right;font-size:13px}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>"
        f"<h2>Metrics</h2>{_table(metrics)}{fig}"
        f"<h2>Round trips</h2>{_table(result.trades)}"
        f"<h2>Fills</h2>{_table(fills)}"
        f"<h2>Data and cost assumptions</h2>{_table(src)}{_table(assume)}"
        "<p>Depth instruments fill against the reconstructed L2 book level by level; quote-only and bar "
        "instruments fill at the touch plus the venue's impact (bp). Fees are the FeeModel's maker/taker "
        "rates; funding is paid at the mark (else index, else mid) at each funding time.</p>"
        "</body></html>"
    )
    out.write_text(doc, encoding="utf-8")
    return out
