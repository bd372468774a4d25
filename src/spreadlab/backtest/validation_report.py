"""Self-contained HTML report of a validation run (plotly.js inlined, no CDN), ending in the verdict.

Sections, top to bottom:

1. the verdict line and the statistics behind it: out-of-sample Sharpe,
   PSR, DSR with the number of configurations tried and the variance of
   their Sharpe ratios, the Sharpe ratio the best of them reaches by luck,
   PBO and the minimum backtest length for that many trials;
2. the out-of-sample equity (walk-forward: stitched, window boundaries
   marked; CPCV: every path) against the in-sample Sharpe of each window;
3. parameter stability: one heatmap per parameter, a row per value and a
   column per window (split), each cell the best in-sample score of the
   trials with that value, the chosen value outlined;
4. the distribution of out-of-sample path Sharpe ratios (CPCV) and the PBO
   logits;
5. the per-window table (training and test dates, chosen parameters, fitted
   hedge ratio and size, in- and out-of-sample metrics);
6. the verdict again, as the last line.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spreadlab.analytics.sharpe_stats import expected_max_sharpe, min_backtest_length
from spreadlab.backtest.validation import ValidationResult
from spreadlab.core.time import ns_to_iso

__all__ = ["write_validation_report"]

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1200px}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
    "th,td{border:1px solid #ddd;padding:4px 10px;text-align:left;font-size:0.9em}"
    ".verdict{font-size:1.25em;font-weight:600;padding:0.6em 1em;border-radius:6px}"
    ".pass{background:#e3f6e3;color:#145214}.fail{background:#fbe4e4;color:#7a1010}"
)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return "n/a"
        return f"{v:.4g}"
    return str(v)


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _summary(res: ValidationResult) -> str:
    s = res.stats
    rows = [
        ("method", res.method),
        ("strategy", res.objective),
        ("data", res.data_key),
        ("out-of-sample span", f"{ns_to_iso(int(res.oos_ts[0]))} .. {ns_to_iso(int(res.oos_ts[-1]))}"),
        ("out-of-sample bars", f"{s.n_obs:,}"),
        ("out-of-sample total return", f"{float(np.sum(res.oos_returns)):.4%}"),
        ("out-of-sample Sharpe (annualised)", f"{s.sharpe_annualised:.3f}"),
        ("Sharpe per bar, skew, kurtosis", f"{s.sharpe_per_period:.5f}, {_fmt(s.skew)}, {_fmt(s.kurtosis)}"),
        ("periods per year (from the data)", f"{res.periods_per_year:,.0f}"),
        ("PSR (true Sharpe > 0)", f"{s.psr:.4f}"),
        ("configurations tried on this data (trial log)", f"{res.n_trials:,}"),
        ("variance of their per-bar Sharpe ratios", f"{res.sharpe_variance:.3g}"),
        (
            "best per-bar Sharpe expected by luck",
            f"{expected_max_sharpe(max(1, res.n_trials), sharpe_variance=res.sharpe_variance):.5f}",
        ),
        ("DSR (deflated by the trials)", f"{s.dsr:.4f} (needs {res.confidence:g})"),
    ]
    if res.pbo is not None:
        rows.append(
            (
                "PBO (CSCV)",
                f"{res.pbo.pbo:.3f} over {res.pbo.n_combinations:,} splits of {res.pbo.n_strategies} "
                f"candidates; P(OOS loss of the IS winner) {res.pbo.prob_oos_loss:.3f}",
            )
        )
    else:
        rows.append(("PBO (CSCV)", "n/a (fewer than two candidates or too few bars)"))
    best_is = max((w.is_metrics.get("sharpe", math.nan) for w in res.windows), default=math.nan)
    if res.n_trials >= 2 and math.isfinite(best_is) and best_is > 0:
        rows.append(
            (
                "minimum backtest length for that many trials",
                f"{min_backtest_length(res.n_trials, target_sharpe=best_is):.3g} years at an in-sample "
                f"Sharpe of {best_is:.2f}; the data span "
                f"{(int(res.oos_ts[-1]) - int(res.windows[0].train_ns[0])) / 3.15576e16:.3g} years",
            )
        )
    return _table(rows)


def _equity_figure(res: ValidationResult) -> go.Figure:
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.68, 0.32],
        subplot_titles=("out-of-sample cumulative return", "Sharpe in sample vs out of sample (annualised)"),
    )  # fmt: skip
    t = np.asarray(res.oos_ts).astype("datetime64[ns]")
    if res.paths is not None:
        for p, row in enumerate(res.paths):
            fig.add_trace(
                go.Scatter(x=t, y=np.cumsum(row), mode="lines", name=f"path {p}", line={"width": 1}),
                row=1, col=1,
            )  # fmt: skip
    else:
        fig.add_trace(
            go.Scatter(x=t, y=np.cumsum(res.oos_returns), mode="lines", name="stitched OOS"), row=1, col=1
        )
        for w in res.windows[1:]:
            fig.add_vline(
                x=np.datetime64(w.test_ns[0], "ns"), line={"dash": "dot", "color": "#999"}, row=1, col=1
            )
    labels = [str(w.index) for w in res.windows]
    fig.add_trace(
        go.Bar(x=labels, y=[w.is_metrics.get("sharpe", math.nan) for w in res.windows], name="in sample"),
        row=1, col=2,
    )  # fmt: skip
    fig.add_trace(
        go.Bar(
            x=labels, y=[w.oos_metrics.get("sharpe", math.nan) for w in res.windows], name="out of sample"
        ),
        row=1, col=2,
    )  # fmt: skip
    fig.update_xaxes(title_text="window" if res.method == "walk-forward" else "split", row=1, col=2)
    fig.update_layout(height=420, barmode="group", margin={"t": 40, "b": 30})
    return fig


def _stability_figure(res: ValidationResult) -> go.Figure | None:
    names = sorted({k for w in res.windows for p, _ in w.trials for k in p})
    if not names:
        return None
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=[f"{n}: best in-sample score" for n in names])
    cols = [w.index for w in res.windows]
    for i, name in enumerate(names, start=1):
        values = sorted({p[name] for w in res.windows for p, _ in w.trials if name in p})
        z = np.full((len(values), len(cols)), np.nan)
        for c, w in enumerate(res.windows):
            for p, score in w.trials:
                if name in p and math.isfinite(score):
                    r = values.index(p[name])
                    z[r, c] = score if np.isnan(z[r, c]) else max(z[r, c], score)
        ys = [_fmt(v) for v in values]
        fig.add_trace(
            go.Heatmap(z=z, x=cols, y=ys, colorscale="Viridis", showscale=i == 1, colorbar={"len": 0.3}),
            row=i, col=1,
        )  # fmt: skip
        chosen = [_fmt(w.params.get(name)) for w in res.windows]
        fig.add_trace(
            go.Scatter(
                x=cols, y=chosen, mode="markers", name=f"chosen {name}", showlegend=False,
                marker={"symbol": "square-open", "size": 16, "color": "#ff2d2d", "line": {"width": 3}},
            ),
            row=i, col=1,
        )  # fmt: skip
        fig.update_yaxes(type="category", title_text=name, row=i, col=1)
    fig.update_xaxes(title_text="window" if res.method == "walk-forward" else "split", row=len(names), col=1)
    fig.update_layout(height=max(300, 260 * len(names)), margin={"t": 40, "b": 30})
    return fig


def _distribution_figure(res: ValidationResult) -> go.Figure:
    fig = make_subplots(
        rows=1, cols=2,
        subplot_titles=(
            "out-of-sample path Sharpe ratios (annualised)", "PBO: logit of the IS winner's OOS rank"
        ),
    )  # fmt: skip
    fig.add_trace(go.Histogram(x=res.path_sharpes(), name="paths", nbinsx=20), row=1, col=1)
    if res.pbo is not None:
        fig.add_trace(go.Histogram(x=res.pbo.logits, name="logits", nbinsx=40), row=1, col=2)
        fig.add_vline(x=0.0, line={"dash": "dash", "color": "#d62728"}, row=1, col=2)
    fig.update_layout(height=360, showlegend=False, margin={"t": 40, "b": 30})
    return fig


def _windows_table(res: ValidationResult) -> str:
    head = [
        "window", "train", "test", "chosen parameters", "fitted", "IS Sharpe", "OOS Sharpe", "OOS return",
        "OOS trades",
    ]  # fmt: skip
    out = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for w in res.windows:
        cells = [
            str(w.index),
            f"{ns_to_iso(w.train_ns[0])[:16]} .. {ns_to_iso(w.train_ns[1])[:16]}",
            f"{ns_to_iso(w.test_ns[0])[:16]} .. {ns_to_iso(w.test_ns[1])[:16]}",
            ", ".join(f"{k}={_fmt(v)}" for k, v in w.params.items()),
            ", ".join(f"{k}={_fmt(v)}" for k, v in w.fitted.items()),
            _fmt(w.is_metrics.get("sharpe", math.nan)),
            _fmt(w.oos_metrics.get("sharpe", math.nan)),
            f"{w.oos_metrics.get('total_return', math.nan):.4%}",
            _fmt(w.oos_metrics.get("n_trades", math.nan)),
        ]
        out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return "".join(out) + "</table>"


def write_validation_report(path: str | Path, result: ValidationResult, *, title: str | None = None) -> Path:
    """Write the validation report to ``path`` (one HTML file that works offline) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    v = result.verdict
    cls = "pass" if v.passed else "fail"
    head = title or f"spreadlab validation ({result.method}): {result.objective}"
    verdict = f'<p class="verdict {cls}" id="verdict">{html.escape(v.line)}</p>'
    parts = [
        f"<h1>{html.escape(head)}</h1>",
        verdict,
        "<h2>Statistics</h2>",
        _summary(result),
        "<h2>In sample vs out of sample</h2>",
        _equity_figure(result).to_html(full_html=False, include_plotlyjs=True, div_id="equity"),
    ]
    stab = _stability_figure(result)
    if stab is not None:
        parts += [
            "<h2>Parameter stability</h2>",
            "<p>Each cell: the best in-sample score of the trials with that value in that window; "
            "the outlined cell is the value chosen.</p>",
            stab.to_html(full_html=False, include_plotlyjs=False, div_id="stability"),
        ]
    parts += [
        "<h2>Out-of-sample distribution and overfitting</h2>",
        _distribution_figure(result).to_html(full_html=False, include_plotlyjs=False, div_id="distribution"),
        "<h2>Windows</h2>" if result.method == "walk-forward" else "<h2>Splits</h2>",
        _windows_table(result),
        "<h2>Verdict</h2>",
        verdict.replace('id="verdict"', 'id="verdict-final"'),
    ]
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(head)}</title><style>{_CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )
    out.write_text(doc, encoding="utf-8")
    return out
