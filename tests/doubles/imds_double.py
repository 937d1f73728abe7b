"""TEST DOUBLE: the EC2 instance metadata service (IMDSv2) on 127.0.0.1, serving instance tags.

PUT /latest/api/token (with the TTL header) hands out a token; GET of
/latest/meta-data/tags/instance/KEY answers the tag's value only with that token
(401 without it) and 404 for a tag it does not hold, as IMDS does when the tag is
absent or tags in metadata are off. It records every request as "METHOD PATH".
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

TOKEN = "imds-double-token"
TAGS_PATH = "/latest/meta-data/tags/instance/"


class ImdsDouble:
    def __init__(self, tags: dict[str, str] | None = None) -> None:
        self.tags: dict[str, str] = dict(tags or {})
        self.requests: list[str] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: str = "") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:
                double.requests.append(f"PUT {self.path}")
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
                if self.path != "/latest/api/token" or not ttl.isdigit():
                    self._answer(400)
                else:
                    self._answer(200, TOKEN)

            def do_GET(self) -> None:
                double.requests.append(f"GET {self.path}")
                if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                    self._answer(401)
                elif self.path.startswith(TAGS_PATH) and self.path[len(TAGS_PATH) :] in double.tags:
                    self._answer(200, double.tags[self.path[len(TAGS_PATH) :]])
                else:
                    self._answer(404)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ImdsDouble:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
