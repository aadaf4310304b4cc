"""A one-file HTTP service for the launcher's tests (standard library only).

GET /readyz   200 once started
GET /hello    {"service": NAME}
GET /call     calls every FL_LINK_* it was given and answers what they said
SIGTERM       exits 0; --fail-start exits 3 before listening."""
import json
import os
import signal
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (os.environ.get("FL_SERVICE", "?"), fmt % args))
        sys.stdout.flush()

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        name = os.environ.get("FL_SERVICE", "?")
        if self.path == "/readyz":
            self.answer(200, {"ready": True})
        elif self.path == "/hello":
            self.answer(200, {"service": name})
        elif self.path == "/call":
            out = {}
            for key, url in sorted(os.environ.items()):
                if key.startswith("FL_LINK_"):
                    try:
                        with urllib.request.urlopen(url + "/hello", timeout=3) as r:
                            out[key] = json.load(r)["service"]
                    except Exception as e:  # an injected fault answers here
                        out[key] = "error: %s" % e
            self.answer(200, {"service": name, "calls": out})
        else:
            self.answer(404, {"error": "not found"})


def main():
    port = int(sys.argv[sys.argv.index("--port") + 1])
    host = sys.argv[sys.argv.index("--host") + 1] if "--host" in sys.argv else "127.0.0.1"
    if "--fail-start" in sys.argv:
        print("cannot start: --fail-start given", flush=True)
        sys.exit(3)
    srv = ThreadingHTTPServer((host, port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(0)))
    print("%s listening on %s:%d" % (os.environ.get("FL_SERVICE"), host, port), flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except SystemExit:
        print("stopping on SIGTERM", flush=True)
        sys.exit(0)


if __name__ == "__main__":
    main()
