"""Self-contained HTML report of a spread backtest (plotly.js inlined, no CDN).

Three charts share one time axis: the spread with its rolling mean and the
entry/exit bands, the position with entries, exits and stops marked, and the
equity curve with its PnL split (convergence, crossing, fees, funding).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spreadlab._typing import FloatArray, IntArray
from spreadlab.analytics.metrics import Metrics
from spreadlab.errors import ValidationError

__all__ = ["ReportData", "write_report"]

_EVENT_STYLE = {
    1: ("entry", "triangle-up", "#1f77b4"),
    2: ("exit", "circle", "#2ca02c"),
    3: ("stop", "x", "#d62728"),
    4: ("time exit", "square", "#9467bd"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    """Everything the report draws; arrays are per bar and equally long."""

    title: str
    ts_ns: IntArray
    spread: FloatArray
    spread_label: str
    mean: FloatArray
    upper_entry: FloatArray
    lower_entry: FloatArray
    upper_exit: FloatArray
    lower_exit: FloatArray
    position: FloatArray
    events: IntArray
    equity: FloatArray
    convergence: FloatArray
    crossing: FloatArray
    fees: FloatArray
    funding: FloatArray
    metrics: Metrics

    def __post_init__(self) -> None:
        n = len(self.ts_ns)
        for name in (
            "spread",
            "mean",
            "upper_entry",
            "lower_entry",
            "upper_exit",
            "lower_exit",
            "position",
            "events",
            "equity",
            "convergence",
            "crossing",
            "fees",
            "funding",
        ):
            if len(getattr(self, name)) != n:
                raise ValidationError(f"{name} has {len(getattr(self, name))} values; ts_ns has {n}")


def _figure(d: ReportData) -> go.Figure:
    t = np.asarray(d.ts_ns, dtype="datetime64[ns]")
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.42, 0.2, 0.38],
        subplot_titles=(
            f"Spread: {d.spread_label} with rolling mean and bands",
            "Position, entries and exits",
            "Equity (USD) and PnL split",
        ),
    )
    line = {"width": 1}
    fig.add_trace(go.Scattergl(x=t, y=d.spread, name="spread", line={"color": "#333", **line}), 1, 1)
    fig.add_trace(go.Scattergl(x=t, y=d.mean, name="rolling mean", line={"color": "#ff7f0e", **line}), 1, 1)
    for arr, name, dash in (
        (d.upper_entry, "entry band", "dash"),
        (d.lower_entry, None, "dash"),
        (d.upper_exit, "exit band", "dot"),
        (d.lower_exit, None, "dot"),
    ):
        fig.add_trace(
            go.Scattergl(
                x=t,
                y=arr,
                name=name or "",
                showlegend=name is not None,
                legendgroup=dash,
                line={"color": "#7f7f7f", "dash": dash, **line},
            ),
            1,
            1,
        )
    fig.add_trace(
        go.Scattergl(x=t, y=d.position, name="position", line={"color": "#17becf", "shape": "hv"}), 2, 1
    )
    ev = np.asarray(d.events)
    for code, (name, symbol, color) in _EVENT_STYLE.items():
        idx = np.flatnonzero(ev == code)
        if idx.size == 0:
            continue
        marker = {"symbol": symbol, "color": color, "size": 8}
        fig.add_trace(
            go.Scatter(
                x=t[idx],
                y=np.asarray(d.spread)[idx],
                mode="markers",
                name=name,
                marker=marker,
                legendgroup=name,
            ),
            1,
            1,
        )
        fig.add_trace(
            go.Scatter(
                x=t[idx],
                y=np.asarray(d.position)[idx],
                mode="markers",
                name=name,
                marker=marker,
                legendgroup=name,
                showlegend=False,
            ),
            2,
            1,
        )
    fig.add_trace(go.Scattergl(x=t, y=d.equity, name="equity", line={"color": "#000", "width": 2}), 3, 1)
    base = float(d.equity[0] - (d.convergence[0] + d.crossing[0] + d.fees[0] + d.funding[0]))
    for arr, name, color in (
        (d.convergence, "convergence", "#2ca02c"),
        (d.crossing, "crossing", "#8c564b"),
        (d.fees, "fees", "#d62728"),
        (d.funding, "funding", "#1f77b4"),
    ):
        fig.add_trace(
            go.Scattergl(
                x=t, y=base + np.cumsum(arr), name=f"capital + {name}", line={"color": color, **line}
            ),
            3,
            1,
        )
    fig.update_layout(
        height=950,
        title=d.title,
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.05},
    )
    return fig


def _metrics_table(m: Metrics) -> str:
    rows = [
        ("total return", f"{m.total_return:.4%}"),
        ("annualised return", f"{m.annualised_return:.2%}"),
        ("Sharpe", f"{m.sharpe:.2f}"),
        ("Sortino", f"{m.sortino:.2f}"),
        ("max drawdown", f"{m.max_drawdown:.3%}"),
        ("turnover (x capital / year)", f"{m.turnover:.1f}"),
        ("trades (round trips)", str(m.n_trades)),
        ("periods per year (from data)", f"{m.periods_per_year:,.0f}"),
        ("PnL convergence (USD)", f"{m.pnl.convergence:,.2f}"),
        ("PnL crossing (USD)", f"{m.pnl.crossing:,.2f}"),
        ("PnL fees (USD)", f"{m.pnl.fees:,.2f}"),
        ("PnL funding (USD)", f"{m.pnl.funding:,.2f}"),
        ("PnL total (USD)", f"{m.pnl.total:,.2f}"),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="metrics">{body}</table>'


def write_report(path: str | Path, data: ReportData) -> Path:
    """Write the report to ``path`` (one HTML file that works offline) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig_html = _figure(data).to_html(full_html=False, include_plotlyjs=True, div_id="spreadlab-report")
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(data.title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em}"
        "table.metrics{border-collapse:collapse;margin-bottom:1em}"
        "table.metrics th,table.metrics td{border:1px solid #ddd;padding:4px 10px;text-align:left}"
        "</style></head><body>"
        f"<h1>{html.escape(data.title)}</h1>{_metrics_table(data.metrics)}{fig_html}</body></html>"
    )
    out.write_text(doc, encoding="utf-8")
    return out
