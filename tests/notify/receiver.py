"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that checks signatures like a real receiver."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each request and answers `codes` in turn (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.codes: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                code = outer.codes.pop(0) if outer.codes else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?team=ops"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verified(self, secret: str) -> list[dict]:
        """The bodies whose signature is right for `secret` (HMAC-SHA256 over "<timestamp>.<body>")."""
        out = []
        for request in self.requests:
            timestamp = request["headers"]["X-Portaladmin-Timestamp"]
            expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256)
            if hmac.compare_digest(request["headers"]["X-Portaladmin-Signature"], "v1=" + expected.hexdigest()):
                out.append(json.loads(request["body"]))
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()
