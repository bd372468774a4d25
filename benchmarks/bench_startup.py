"""Command start-up: ``spreadlab --help`` and ``spreadlab instrument`` (issue 10 item 24).

Each command runs as a fresh ``python -m spreadlab`` process, 5 times; the figure is the least
CPU time (user + system) of the process, which a busy shared machine inflates far less than wall
time (the least wall time is in ``extra``). The import budget is held by
``tests/cli/test_startup.py`` (no numba, scipy, polars, pyarrow or duckdb). No peer: the figures
before the change (eager imports, commit b347fad, same machine) are in ``extra``.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

from benchmarks.harness import ROOT, Context

# b347fad on this machine: CPU seconds, wall seconds (best of 3, load average about 10 on 2 cores)
BEFORE = {"help": (1.08, 3.07), "instrument": (1.01, 2.69)}


def _cpu_and_wall(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def run(ctx: Context) -> list[dict]:
    out = []
    for key, args in (("help", ["--help"]), ("instrument", ["instrument", "DERIBIT:BTC-27JUN25-100000-C"])):
        runs = [_cpu_and_wall([sys.executable, "-m", "spreadlab", *args]) for _ in range(5)]
        cpu, wall = min(r[0] for r in runs), min(r[1] for r in runs)
        ctx.log(f"spreadlab {' '.join(args)}: {cpu:.3f} s CPU, {wall:.3f} s wall (before {BEFORE[key]})")
        out.append(
            ctx.record(
                name=f"startup_{key}",
                work=f"fresh process: spreadlab {' '.join(args)} (CPU time of the process)",
                unit="CPU seconds",
                spreadlab=cpu,
                peers={},
                higher_is_better=False,
                extra={
                    "wall_s": wall,
                    "before_cpu_s": BEFORE[key][0],
                    "before_wall_s": BEFORE[key][1],
                    "before_commit": "b347fad",
                },
            )
        )
    return out
