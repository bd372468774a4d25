"""Run every benchmark (``make bench``): write benchmarks/results.json and print a table.

Usage: ``python benchmarks/run.py [--only NAME ...]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.harness import Context  # noqa: E402
from benchmarks.render import render  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names (bench_<name>.py)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args()
    console = Console(width=180)
    files = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    names = [f.stem.removeprefix("bench_") for f in files]
    if args.only:
        names = [n for n in names if n in set(args.only)]
    records: list[dict] = []
    failures: list[str] = []
    for name in names:
        console.rule(f"bench {name}")
        ctx = Context(workdir=ROOT / "benchmarks" / ".work" / name, benchmark=name, log=console.print)
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            records.extend(module.run(ctx))
        except Exception:
            failures.append(name)
            console.print(traceback.format_exc())
    previous: list[dict] = []
    if args.only and args.out.exists():
        kept = {r["benchmark"] for r in records}
        previous = [r for r in json.loads(args.out.read_text()) if r["benchmark"] not in kept]
    all_records = previous + records
    args.out.write_text(json.dumps(all_records, indent=2) + "\n")
    render(all_records, args.out.with_name("RESULTS.md"))
    table = Table(title="spreadlab vs peers (ratio > 1: spreadlab faster)")
    for col in ("benchmark", "unit", "spreadlab", "peer", "peer value", "ratio"):
        table.add_column(col)
    for r in all_records:
        peers = r["peers"] or {"-": {"value": float("nan"), "ratio": float("nan"), "version": ""}}
        for pname, p in peers.items():
            table.add_row(
                r["benchmark"],
                r["unit"],
                f"{r['spreadlab']['value']:.4g}",
                f"{pname} {p.get('version', '')}".strip(),
                f"{p['value']:.4g}",
                f"{p['ratio']:.1f}x",
            )
    console.print(table)
    console.print(f"wrote {args.out}")
    if failures:
        console.print(f"[red]failed: {', '.join(failures)}[/red]")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
