"""Help text a user reads: literal TOML table names, every command listed (issue 10 item 22)."""

from __future__ import annotations

import subprocess
import sys


def _help(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "spreadlab", *args, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return " ".join(out.stdout.split())


def test_toml_table_names_are_shown_literally() -> None:
    assert "TOML file with a [demo] table" in _help("demo")
    assert "TOML file with a [market] table" in _help("market", "build")


def test_root_help_lists_every_command() -> None:
    text = _help()
    for name in ("demo", "instrument", "data", "options", "market", "scan", "pairs", "trials"):
        assert f" {name} " in text, name
