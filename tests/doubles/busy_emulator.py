"""TEST DOUBLE: an HTTP server answering like a live but busy moto server.

It serves moto's dashboard page (`/moto-api/`) at once, and refuses the state dump
(`/moto-api/data.json`) with 503, as a stand-in for a dump that takes longer than a
liveness probe waits (seconds, with many resources, on a loaded machine). It records
every path asked for.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class BusyEmulatorDouble:
    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                busy = self.path.startswith("/moto-api/data.json")
                body = b"busy" if busy else b"<html>Moto dashboard</html>"
                self.send_response(503 if busy else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> BusyEmulatorDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
