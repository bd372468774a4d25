"""A loopback HTTP file server (127.0.0.1) for the downloader tests, with scripted faults.

``files`` maps a path to its bytes; ``script`` maps a path to the faults its
next requests meet, one per request, in order:

* ``("status", code, headers)``: answer ``code`` with an empty body;
* ``("cut", k)``: answer normally (honouring ``Range``) but send only ``k``
  body bytes, then close the connection;
* ``("full",)``: ignore ``Range`` and send the whole file with ``200``;
* ``("reset",)``: close the connection without answering;
* ``("stall", seconds)``: wait that long, then answer normally.

``requests`` records ``(path, Range header, Authorization header)`` of every request.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections import deque
from collections.abc import Iterator

Fault = tuple[object, ...]


class LoopbackServer:
    """Serves ``files`` with Range support and scripted faults (see the module docstring)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.script: dict[str, deque[Fault]] = {}
        self.requests: list[tuple[str, str | None, str | None]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                outer.requests.append((self.path, rng, self.headers.get("Authorization")))
                queue = outer.script.get(self.path)
                fault = queue.popleft() if queue else ("ok",)
                if fault[0] == "stall":
                    time.sleep(float(str(fault[1])))
                if fault[0] == "reset":
                    self.close_connection = True
                    return
                if fault[0] == "status":
                    self.send_response(int(str(fault[1])))
                    for k, v in dict(fault[2]).items():  # type: ignore[call-overload]
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = outer.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                if rng and fault[0] != "full":
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if fault[0] == "cut":  # the connection drops part-way through
                    self.wfile.write(payload[: int(str(fault[1]))])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def fail(self, path: str, *faults: Fault) -> None:
        """Queue ``faults`` for the next requests of ``path``."""
        self.script.setdefault(path, deque()).extend(faults)

    def ranges(self, path: str) -> list[str | None]:
        """The Range headers sent for ``path``, in order."""
        return [r for p, r, _ in self.requests if p == path]


def loopback() -> Iterator[LoopbackServer]:
    """Start a server, yield it, stop it (wrap with ``pytest.fixture`` in a test module)."""
    s = LoopbackServer()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()
