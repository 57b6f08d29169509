"""FakeGemini over real HTTP on 127.0.0.1: for benchmarks, end-to-end tests and ``base_url=`` clients.

A ``ThreadingHTTPServer`` on a free loopback port; each request goes through `FakeGemini.handle`. A
``reset`` fault closes the socket without answering, which clients see as a dropped connection.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:  # pragma: no cover
    from humortune.testing.fake_gemini import FakeGemini

__all__ = ["serve"]


@contextmanager
def serve(fake: FakeGemini) -> Iterator[str]:
    """Serve ``fake`` until the block exits; yields ``http://127.0.0.1:PORT``."""
    from humortune.testing.fake_gemini import _Reset

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall

        def _answer(self) -> None:
            if fake.latency_s:
                threading.Event().wait(fake.latency_s)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            try:
                reply = fake.handle(self.command, parts.path, query, raw, "Authorization" in self.headers)
            except _Reset:
                self.close_connection = True
                with suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = _answer

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: tests and benchmarks read fake.requests instead

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # bursts of concurrent clients must queue, not be reset

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-gemini", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
