"""``spreadlab data fetch`` against a loopback server (127.0.0.1) serving a real Tardis file: ``--retries``."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest
from tests.conftest import need_shared
from tests.data._http_server import LoopbackServer, loopback
from typer.testing import CliRunner

from spreadlab.cli.app import app
from spreadlab.data.download import tardis_url

runner = CliRunner()
RAW = "nautilus_fixtures/tardis_format/deribit_incremental_book_L2_BTC-PERPETUAL.csv"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    yield from loopback()


def _args(server: LoopbackServer, dest: str, retries: int) -> list[str]:
    return [
        "data", "fetch", "tardis", "deribit", "incremental_book_L2", "2020-04-01", "BTC-PERPETUAL",
        "--dest", dest, "--base-url", server.base, "--retries", str(retries), "--json",
    ]  # fmt: skip


def test_fetch_retries_a_dropped_connection_and_resumes(server: LoopbackServer, tmp_path) -> None:
    raw = need_shared(RAW).read_bytes()
    body = gzip.compress(raw)
    path = tardis_url("deribit", "incremental_book_L2", "2020-04-01", "BTC-PERPETUAL", base_url=server.base)
    path = path.removeprefix(server.base)
    server.files[path] = body
    server.fail(path, ("cut", len(body) // 3))
    res = runner.invoke(app, _args(server, str(tmp_path / "a"), 3))
    assert res.exit_code == 0, res.output
    (rep,) = json.loads(res.stdout)
    assert rep["attempts"] == 2 and rep["bytes"] == len(body)
    with gzip.open(rep["path"], "rb") as fh:
        assert fh.read() == raw
    # the second request resumed where the first one was cut
    ranges = [r for p, r, _ in server.requests if p == path]
    assert ranges == [None, f"bytes={len(body) // 3}-"]


def test_fetch_with_one_attempt_fails_in_one_line(server: LoopbackServer, tmp_path) -> None:
    path = tardis_url("deribit", "incremental_book_L2", "2020-04-01", "BTC-PERPETUAL", base_url=server.base)
    path = path.removeprefix(server.base)
    server.files[path] = gzip.compress(need_shared(RAW).read_bytes())
    server.fail(path, ("status", 503, {}))
    res = runner.invoke(app, _args(server, str(tmp_path / "b"), 1))
    assert res.exit_code == 2
    assert "503" in res.output and len(res.output.strip().splitlines()) == 1
    assert len(server.requests) == 1
