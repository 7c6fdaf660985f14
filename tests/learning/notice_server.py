"""A local HTTP server that records every request and answers as a test tells it, so
the notice backends' real client code runs against it (SMS gateways, WeCom, DingTalk)."""

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str  # without the query
    query: dict  # {name: value}, the last value of each
    headers: dict  # {lower-case name: value}
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def form(self):
        return dict(urllib.parse.parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass
class Answer:
    status: int = 200
    body: object = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    delay: float = 0.0


class GatewayServer:
    """Answers by path: `answer(path, status, body, delay)`; a path answered with a
    list of Answers gives them in turn (the last one stays)."""

    def __init__(self):
        self.requests = []
        self.answers = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # keep test output quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urllib.parse.urlsplit(self.path)
                recorded = Recorded(
                    self.command,
                    parts.path,
                    dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                )
                with server.lock:
                    server.requests.append(recorded)
                    answers = server.answers.get(parts.path, [Answer()])
                    answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path, *answers, status=200, body=None, delay=0.0):
        with self.lock:
            if answers:
                self.answers[path] = list(answers)
            else:
                default = Answer().body if body is None else body
                self.answers[path] = [Answer(status, default, delay)]

    def at(self, path):
        return [r for r in self.requests if r.path == path]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
