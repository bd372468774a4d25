"""Recall and precision of the scanner on seeds of the built-in market, per dislocation kind.

For each seed the built-in market (:func:`spreadlab.data.market.build_market`,
default config but the seed and length) is scanned every ``step_minutes``
after a warm-up (:func:`~spreadlab.signals.scan.scan_times`, default
:class:`~spreadlab.signals.scan.ScanConfig`). A row is *flagged* at the
scanner's default threshold: a positive net edge after the round-trip cost at
the configured size (``net_edge_usd > 0``). The ground truth is labelled with
:func:`~spreadlab.signals.scan.truth.label_tradable`, and
:func:`~spreadlab.signals.scan.score_detections` scores the flags against the
tradable episodes of each kind that overlap the scanned span: recall is the
share of tradable episodes flagged at least once, precision the share of
flags that match a tradable episode.

``python -m spreadlab.signals.scan.recall 11 12 13 14 15`` prints the table
(markdown) for those seeds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import polars as pl

from spreadlab.core.time import NS_PER_HOUR, NS_PER_MINUTE
from spreadlab.signals.scan.config import ScanConfig
from spreadlab.signals.scan.scanner import scan_times, score_detections
from spreadlab.signals.scan.truth import label_tradable

__all__ = ["TRUTH_KINDS", "detection_scores", "detection_table"]

TRUTH_KINDS = ("premium_burst", "basis_dislocation", "venue_dislocation", "pair_spread", "iv_mispricing")

_SCHEMA = {
    "seed": pl.Int64(), "kind": pl.String(), "episodes": pl.Int64(), "tradable": pl.Int64(),
    "detected": pl.Int64(), "flags": pl.Int64(), "true_flags": pl.Int64(),
}  # fmt: skip


def detection_scores(
    seeds: Iterable[int],
    *,
    days: float = 1.0,
    step_minutes: int = 10,
    warmup_hours: float = 6.0,
    config: ScanConfig | None = None,
) -> pl.DataFrame:
    """One row per seed and kind: episodes, tradable episodes, detected, flags, true flags."""
    from spreadlab.data.market import MarketConfig, build_market  # the built-in market: on use

    rows = []
    for seed in seeds:
        m = build_market(MarketConfig(days=days, seed=int(seed)))
        start = m.config.start_ns + int(warmup_hours * NS_PER_HOUR)
        times = list(range(start, m.config.end_ns, step_minutes * NS_PER_MINUTE))
        out = scan_times(m.tables, times, config=config, instruments=m.instruments)
        gt = label_tradable(m.ground_truth, m.tables, instruments=m.instruments)
        gt = gt.filter((pl.col("end_ns") > times[0]) & (pl.col("start_ns") <= times[-1]))
        flagged = out.filter(pl.col("net_edge_usd") > 0)
        for kind in TRUTH_KINDS:
            s = score_detections(flagged, gt, truth_kind=kind)
            rows.append({
                "seed": int(seed), "kind": kind, "episodes": gt.filter(pl.col("kind") == kind).height,
                "tradable": s.episodes, "detected": s.detected, "flags": s.flags, "true_flags": s.true_flags,
            })  # fmt: skip
    return pl.DataFrame(rows, schema=_SCHEMA)


def detection_table(scores: pl.DataFrame) -> pl.DataFrame:
    """Pool :func:`detection_scores` over seeds: counts, recall and precision per kind (null: undefined)."""
    agg = scores.group_by("kind").agg(
        pl.col("seed").n_unique().alias("seeds"),
        *(pl.col(c).sum() for c in ("episodes", "tradable", "detected", "flags", "true_flags")),
    )
    order = {k: i for i, k in enumerate(TRUTH_KINDS)}
    return agg.with_columns(
        pl.when(pl.col("tradable") > 0).then(pl.col("detected") / pl.col("tradable")).alias("recall"),
        pl.when(pl.col("flags") > 0).then(pl.col("true_flags") / pl.col("flags")).alias("precision"),
    ).sort(pl.col("kind").replace_strict(order, return_dtype=pl.Int64))


def _markdown(table: pl.DataFrame) -> str:
    head = "| kind | seeds | episodes | tradable | detected | flags | true flags | recall | precision |"
    lines = [head, "|" + "---|" * 9]
    for r in table.iter_rows(named=True):
        rec = "-" if r["recall"] is None else f"{r['recall']:.2f}"
        pre = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        lines.append(
            f"| {r['kind']} | {r['seeds']} | {r['episodes']} | {r['tradable']} | {r['detected']} | "
            f"{r['flags']} | {r['true_flags']} | {rec} | {pre} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - the docs' table
    seeds = [int(a) for a in sys.argv[1:]] or [11, 12, 13, 14, 15]
    print(_markdown(detection_table(detection_scores(seeds))))
