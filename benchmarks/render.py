"""Render ``benchmarks/RESULTS.md`` from ``benchmarks/results.json`` (called by ``run.py``)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = """# Benchmark results

Written by `make bench` (`benchmarks/run.py`) from `benchmarks/results.json`: every
benchmark runs spreadlab and its peer tools on the same work in one run, each peer in
its own virtual environment (`.bench-venvs/<peer>`, requirements in
`benchmarks/peers.toml`), exchanging data through files. The ratio is spreadlab's
speed over the peer's: above 1, spreadlab is faster. Each benchmark's module
docstring states the exact work and what is checked equal between the tools.

The figures are from the shared 2-core development machine; other processes were
running during some of them, so small ratios can move by tens of percent between runs.
"load" is the machine's 1-minute load average when the row was measured (2.0 = both
cores busy); "checked" says which outputs of the two tools were compared in that run and
the difference found; "peer time" says "measured" or how the peer's time was extrapolated.
Rows whose load reads "not recorded" come from an earlier run that did not log it (their
"checked" entry restates the comparison that run enforced, from the figures it stored).

Reproduce: `make bench` runs everything; one benchmark with
`.venv/bin/python benchmarks/run.py --only engine` (peer venvs are created on first use).
"""


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def render(records: list[dict], out: Path) -> None:
    """Write the Markdown table of ``records`` to ``out``."""
    lines = [HEADER]
    machines = {json.dumps(r["machine"], sort_keys=True) for r in records}
    for m in sorted(machines):
        d = json.loads(m)
        lines.append(f"Machine: {d['cpu']}, {d['cores']} cores, Python {d['python']}, {d['platform']}.\n")
    lines.append(
        "| benchmark | work | unit | spreadlab | peer (version) | peer | ratio | checked | peer time | load |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in records:
        sl = f"{_fmt(r['spreadlab']['value'])} (spreadlab {r['spreadlab']['version']})"
        none = {"value": float("nan"), "ratio": float("nan"), "version": "", "checked": "no peer"}
        peers = r["peers"] or {"—": {**none, "timing": "—"}}
        load = f"{r['load_avg_1m']:.1f}" if "load_avg_1m" in r else "not recorded"
        for name, p in peers.items():
            ver = f" {p.get('version', '')}" if p.get("version") else ""
            value = "—" if p["value"] != p["value"] else _fmt(p["value"])
            ratio = "—" if p["ratio"] != p["ratio"] else f"{p['ratio']:.2f}x"
            lines.append(
                f"| {r['benchmark']} | {r['work']} | {r['unit']} | {sl} | {name}{ver} | {value} | {ratio} | "
                f"{p.get('checked', 'not recorded')} | {p.get('timing', 'measured')} | {load} |"
            )
    noted = [r for r in records if r.get("extra", {}).get("notes")]
    if noted:
        lines.append("\n## Notes\n")
        for r in noted:
            for note in r["extra"]["notes"]:
                lines.append(f"- **{r['benchmark']}**: {note}")
    changed = [r for r in records if any(k.startswith("before_") for k in r.get("extra", {}))]
    if changed:
        lines.append("\n## Before and after\n")
        lines.append(
            "Figures of the same work measured on the commit before a change, on the same machine.\n"
        )
        lines.append("| benchmark | unit | before | commit | after | speed-up |")
        lines.append("|---|---|---|---|---|---|")
        for r in changed:
            ex = r["extra"]
            before = next(v for k, v in ex.items() if k.startswith("before_") and k != "before_commit")
            after = r["spreadlab"]["value"]
            lines.append(
                f"| {r['benchmark']} | {r['unit']} | {_fmt(before)} | {ex.get('before_commit', '')} | "
                f"{_fmt(after)} | {(after / before if r.get('higher_is_better') else before / after):.1f}x |"
            )
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    render(json.loads((ROOT / "benchmarks" / "results.json").read_text()), ROOT / "benchmarks" / "RESULTS.md")
