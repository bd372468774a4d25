"""The HTTP + WebSocket server shell shared by the loopback venues.

A venue is an :mod:`aiohttp` application bound to ``127.0.0.1`` on a free
port, run inside the test's own event loop (``async with venue:``). It keeps
the matching engine, the fault plan, a log of every request it answered and
the open stream connections; :meth:`LoopbackVenue.step` replays the next
recorded book deltas into the venue's book, pushes them to subscribers and
fills resting orders that the book moved through.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import WSCloseCode, web

from spreadlab.testing.venues.faults import Faults
from spreadlab.testing.venues.matching import MatchingEngine

__all__ = ["LoopbackVenue", "StreamConnection"]


class StreamConnection:
    """One client WebSocket: its subscriptions and the messages sent on it."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.channels: set[str] = set()
        self.authenticated = False
        self.sent = 0

    async def send(self, venue: LoopbackVenue, payload: dict[str, Any]) -> None:
        """Send one JSON message, obeying the disconnect fault."""
        if self.ws.closed:
            return
        faults = venue.faults
        if faults.disconnect_after is not None:
            if faults.disconnect_after <= 0:
                await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"loopback: injected disconnect")
                return
            faults.disconnect_after -= 1
        await self.ws.send_json(payload)
        self.sent += 1


class LoopbackVenue:
    """Base of the loopback venues: server lifecycle, clock, request log, streams.

    Parameters
    ----------
    engine
        The account's matching engine (instruments, balances, fees).
    api_key, api_secret
        The one key pair the venue accepts; signatures are checked with it.
    """

    name = "loopback"

    def __init__(self, engine: MatchingEngine, *, api_key: str, api_secret: str) -> None:
        self.engine = engine
        self.api_key = api_key
        self.api_secret = api_secret
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.connections: list[StreamConnection] = []
        self.stream_opens = 0  # stream connections accepted so far (a reconnect adds one)
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    def build_app(self) -> web.Application:  # pragma: no cover - each venue overrides
        raise NotImplementedError

    async def start(self) -> LoopbackVenue:
        """Bind to 127.0.0.1 on a free port and start serving."""
        app = self.build_app()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server  # an asyncio.Server once started
        self.port = int(server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        """Close every stream and stop the server."""
        for task in list(self._tasks):
            task.cancel()
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LoopbackVenue:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT``."""
        return f"ws://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ clock and streams

    def now_ms(self) -> int:
        """The venue's clock in ms (the machine's plus the injected skew)."""
        return time.time_ns() // 1_000_000 + self.faults.clock_skew_ms

    async def drop_connections(self) -> int:
        """Close every open stream connection (the venue's side of a disconnect); return how many."""
        n = 0
        for conn in list(self.connections):
            if not conn.ws.closed:
                await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"loopback: dropped")
                n += 1
        self.connections.clear()
        return n

    def register(self, conn: StreamConnection) -> None:
        """Track a newly accepted stream connection."""
        self.connections.append(conn)
        self.stream_opens += 1

    async def publish(self, channel: str, payload: dict[str, Any]) -> int:
        """Send ``payload`` to every connection subscribed to ``channel``; return how many got it."""
        if self.faults.down:
            return 0
        n = 0
        for conn in list(self.connections):
            if channel in conn.channels and not conn.ws.closed:
                await conn.send(self, payload)
                n += 1
        return n

    def spawn(self, coro: Any) -> None:
        """Run a coroutine in the background, kept until it ends or the venue stops."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def step(self, n: int = 1) -> int:  # pragma: no cover - each venue overrides
        """Replay the next ``n`` recorded deltas; return how many were applied."""
        raise NotImplementedError

    async def play(self, *, interval_s: float, count: int) -> int:
        """Replay ``count`` deltas, one every ``interval_s`` seconds; return how many were applied."""
        done = 0
        for _ in range(count):
            got = await self.step(1)
            if got == 0:
                break
            done += got
            await asyncio.sleep(interval_s)
        return done
