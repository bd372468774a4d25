"""First use: every bad option or config table is one line on stderr and exit code 2 (issue 10 item 18).

Through the root command tree as a user runs it (``spreadlab.cli.app.app``),
so click's own parse errors go through the same path as the commands' errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from spreadlab.cli.app import COMMANDS, app


def _fails(args: list[str], needle: str) -> str:
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, (args, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, res.stderr)
    assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in res.output
    return lines[0]


@pytest.mark.parametrize("cmd", [["demo"], ["market", "build"]])
def test_negative_seed_names_the_option(tmp_path: Path, cmd: list[str]) -> None:
    line = _fails([*cmd, "--seed", "-1", "--out", str(tmp_path / "o")], "--seed -1")
    assert "seed=-1 must lie in [0," in line
    assert not (tmp_path / "o").exists()  # failed before anything was written


def test_unknown_config_table_is_rejected_the_same_way_by_demo_and_market(tmp_path: Path) -> None:
    cfg = tmp_path / "typo.toml"
    cfg.write_text("[markt]\nseed = 3\n")
    demo = _fails(
        ["demo", "--config", str(cfg), "--out", str(tmp_path / "d")], "unknown top-level table(s) markt"
    )
    market = _fails(
        ["market", "build", "--config", str(cfg), "--out", str(tmp_path / "m")],
        "unknown top-level table(s) markt",
    )
    assert demo.endswith("expected [demo]") and market.endswith("expected [market]")
    assert demo.startswith(f"error: {cfg}:") and market.startswith(f"error: {cfg}:")
    field = tmp_path / "field.toml"
    field.write_text("[market]\nsed = 3\n")
    _fails(
        ["market", "build", "--config", str(field), "--out", str(tmp_path / "m")], "unknown field(s) ['sed']"
    )
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("cmd", [["demo"], ["market", "build"]])
def test_out_that_is_a_file_is_one_line_and_the_file_is_kept(tmp_path: Path, cmd: list[str]) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me\n")
    _fails([*cmd, "--out", str(target), "--days", "0.1"] if cmd[0] == "market" else [*cmd, "--out", str(target)],
           "is a file; give a folder")  # fmt: skip
    _fails([*cmd, "--out", str(target / "sub")], "is a file, not a folder")
    assert target.read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["demo", "--seed", "abc"], "Invalid value for '--seed'"),
        (["scan", "--top", "-1", "--catalog", "."], "Invalid value for '--top'"),
        (["scan"], "Missing option '--catalog'"),
        (["options", "chain", "--catalog", "."], "Missing option '--underlying'"),
        (["instrument", "DERIBIT", "BTC-PERPETUAL"], "unexpected extra argument"),
        (["no-such-command"], "No such command 'no-such-command'"),
    ],
)
def test_parse_errors_are_one_line_naming_the_option(args: list[str], needle: str) -> None:
    line = _fails(args, needle)
    assert "--help" in line  # where to look next


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_rejects_an_unknown_option_in_one_line(name: str) -> None:
    cmd = [name, "build"] if name == "market" else [name, "chain"] if name == "options" else [name]
    if name == "data":
        cmd = [name, "list"]
    _fails([*cmd, "--no-such-option"], "No such option: --no-such-option")


def test_a_group_without_a_command_still_shows_its_help() -> None:
    res = CliRunner().invoke(app, ["options"])
    assert res.exit_code == 2 and "chain" in res.output


@pytest.mark.parametrize("example", ["backtest_basis.toml", "backtest_pairs.toml", "validate_basis.toml"])
def test_market_build_reads_the_market_table_of_the_examples(example: str) -> None:
    # a study or backtest config carries the [market] it runs on; its other tables are not an error here
    from spreadlab.config.loader import load_market_config

    path = Path(__file__).resolve().parents[2] / "examples" / example
    assert load_market_config(path).seed in (1, 3)
