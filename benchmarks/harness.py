"""Benchmark harness: isolated peer venvs, peer scripts, and records with ratios.

A benchmark is ``benchmarks/bench_<name>.py`` defining ``run(ctx) -> list[dict]``.
spreadlab is timed in-process; each peer runs as a standalone script in its own
venv (declared in ``peers.toml``) and prints one JSON object on its last stdout
line. ``ratio`` is spreadlab's speed over the peer's (> 1: spreadlab is faster).
Every peer entry says whether the two tools' outputs were checked equal
(``checked``) and, where the peer's time was not measured on the whole work,
how it was extrapolated (``timing``); every record carries the machine's load
average when it was measured.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".bench-venvs"

__all__ = ["Context", "best_of", "machine_info"]


def machine_info() -> dict[str, Any]:
    """Describe the machine the figures were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def best_of(fn: Callable[[], Any], *, repeat: int = 3) -> float:
    """Return the best wall time in seconds of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@dataclass
class Context:
    """What a benchmark gets: a work folder, peer venvs, and a record builder."""

    workdir: Path
    benchmark: str = ""
    log: Callable[[str], None] = print
    _peers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._peers = tomllib.loads((ROOT / "benchmarks" / "peers.toml").read_text())

    def peer(self, key: str) -> Path:
        """Return the python of the peer venv ``key``, creating it on first use."""
        if key not in self._peers:
            raise KeyError(f"peer venv {key!r} is not declared in benchmarks/peers.toml")
        reqs = list(self._peers[key]["requirements"])
        venv = VENVS / key
        py = venv / "bin" / "python"
        stamp = venv / ".requirements"
        want = hashlib.sha256("\n".join(reqs).encode()).hexdigest()
        if not py.exists() or not stamp.exists() or stamp.read_text() != want:
            self.log(f"creating peer venv {key}: {' '.join(reqs)}")
            subprocess.run(["python3", "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", *reqs], check=True)
            stamp.write_text(want)
        return py

    def run_peer(self, key: str, script: Path, *args: str, timeout: float = 3600.0) -> dict[str, Any]:
        """Run ``script`` under peer venv ``key``; return the JSON object of its last stdout line."""
        py = self.peer(key)
        proc = subprocess.run(
            [str(py), str(script), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(self.workdir),
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"peer script {script.name} ({key}) failed:\n{proc.stderr[-4000:]}")
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        if not lines:
            raise RuntimeError(f"peer script {script.name} ({key}) printed nothing")
        return json.loads(lines[-1])

    def record(
        self,
        *,
        name: str,
        work: str,
        unit: str,
        spreadlab: float,
        peers: dict[str, dict[str, Any]],
        higher_is_better: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build one result record; each peer gets ``ratio`` = spreadlab's advantage (> 1 is faster).

        Each peer's ``info`` must say ``checked`` (what output was compared and the difference
        found, or why none was); ``timing`` defaults to ``"measured"`` (say how it was
        extrapolated otherwise).
        """
        out_peers: dict[str, dict[str, Any]] = {}
        for peer_name, info in peers.items():
            if not info.get("checked"):
                raise ValueError(f"{name}: peer {peer_name!r} does not say whether its output was checked")
            info = {"timing": "measured", **info}
            value = float(info["value"])
            if higher_is_better:
                ratio = spreadlab / value if value > 0 else float("inf")
            else:
                ratio = value / spreadlab if spreadlab > 0 else float("inf")
            out_peers[peer_name] = {**info, "value": value, "ratio": ratio}
        from importlib.metadata import version

        return {
            "benchmark": name,
            "work": work,
            "unit": unit,
            "higher_is_better": higher_is_better,
            "spreadlab": {"value": float(spreadlab), "version": version("spreadlab")},
            "peers": out_peers,
            "machine": machine_info(),
            "load_avg_1m": os.getloadavg()[0],
            **({"extra": extra} if extra else {}),
        }
