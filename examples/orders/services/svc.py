"""The small service runtime the three order services share.

Standard library only (Debian's python3): an HTTP/1.1 JSON server on
ThreadingHTTPServer, one SQLite database per service (WAL, synchronous=FULL)
holding the service's state and its outbox, the three Kubernetes probes,
graceful SIGTERM, JSON log lines, and an HTTP client that tells apart the
failures a saga must tell apart (refused = not sent; timeout, reset, 5xx =
unknown).

Outbox: every event a service emits is a row of its `outbox` table, written
in the same transaction as the state change it describes, and served on
`GET /events?after=N&limit=L&wait=MS` as {"events": [...], "last": N,
"head": N}; each event carries `seq`, `t` (CLOCK_MONOTONIC ns, the clock
every checker reads), `ts` (wall time) and `service`.
"""
import argparse
import datetime
import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def now_ns():
    """CLOCK_MONOTONIC in ns: the same clock as faultline's histories."""
    return time.monotonic_ns()


def wall():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


class HTTPError(Exception):
    """Raised by a handler: answered as {"error": message, "status": status}."""

    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.raw = body
        self._json = None

    def json(self):
        """The body as a JSON object, or a 400."""
        if self._json is None:
            try:
                v = json.loads(self.raw.decode("utf-8") if self.raw else "")
            except (ValueError, UnicodeDecodeError) as e:
                raise HTTPError(400, "bad JSON body: %s" % e)
            if not isinstance(v, dict):
                raise HTTPError(400, "the body must be a JSON object")
            self._json = v
        return self._json

    def key(self, required=True):
        k = self.headers.get("Idempotency-Key")
        if required and not k:
            raise HTTPError(400, "missing Idempotency-Key header")
        if k is not None and (len(k) > 200 or not k.strip()):
            raise HTTPError(400, "bad Idempotency-Key")
        return k


def field(body, name, kind, required=True, minimum=None):
    """body[name] checked to be of kind (str or int); 400 otherwise."""
    v = body.get(name)
    if v is None:
        if required:
            raise HTTPError(400, "missing field: %s" % name)
        return None
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise HTTPError(400, "field %s must be an integer" % name)
    if kind is str and (not isinstance(v, str) or not v or len(v) > 200):
        raise HTTPError(400, "field %s must be a non-empty string" % name)
    if minimum is not None and v < minimum:
        raise HTTPError(400, "field %s must be at least %d" % (name, minimum))
    return v


class Result:
    """The outcome of one outbound call, classified for a saga:
    kind "ok" (2xx), "rejected" (4xx: a definite business answer),
    "refused" (never sent: connection refused, or the breaker said no),
    "unknown" (sent, answer lost: timeout, reset, 5xx)."""

    def __init__(self, kind, status=0, body=None, error=None, start=0, end=0):
        self.kind = kind
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.error = error
        self.start = start
        self.end = end

    def __repr__(self):
        return "Result(%s, %s, %s)" % (self.kind, self.status, self.error)


def call(method, url, body=None, key=None, timeout=2.0, headers=None):
    """One HTTP exchange with a JSON body; never raises for the network."""
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json"} if data is not None else {}
    if key:
        h["Idempotency-Key"] = key
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    start = now_ns()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        try:
            raw = e.read()
        except (OSError, http.client.HTTPException):
            raw = b""
        status = e.code
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, ConnectionRefusedError):
            return Result("refused", error="connection refused", start=start, end=now_ns())
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return Result("unknown", error="timeout", start=start, end=now_ns())
        return Result("unknown", error=str(reason), start=start, end=now_ns())
    except (socket.timeout, TimeoutError):
        return Result("unknown", error="timeout", start=start, end=now_ns())
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        return Result("unknown", error=type(e).__name__ + ": " + str(e), start=start, end=now_ns())
    end = now_ns()
    try:
        parsed = json.loads(raw.decode("utf-8")) if raw else {}
    except (ValueError, UnicodeDecodeError):
        parsed = {}
    if 200 <= status < 300:
        return Result("ok", status, parsed, start=start, end=end)
    if 400 <= status < 500:
        return Result("rejected", status, parsed, start=start, end=end)
    return Result("unknown", status, parsed, error="HTTP %d" % status, start=start, end=end)


class App:
    """One service: arguments, database, routes, probes, shutdown."""

    def __init__(self, name, description, schema, add_args=None):
        p = argparse.ArgumentParser(prog=name, description=description)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
        p.add_argument("--data", default=None, help="directory of the SQLite database")
        p.add_argument("--bug", action="append", default=[],
                       help="plant a bug (repeatable; also $ORDERS_BUGS=a,b)")
        p.add_argument("--drain-delay", type=float, default=0.5,
                       help="seconds between SIGTERM and closing the listener (readyz 503 meanwhile)")
        p.add_argument("--grace", type=float, default=10.0,
                       help="seconds from SIGTERM to answer what was received")
        if add_args:
            add_args(p)
        self.args = p.parse_args()
        self.name = name
        self.bugs = set(self.args.bug)
        for b in os.environ.get("ORDERS_BUGS", "").split(","):
            if b.strip():
                self.bugs.add(b.strip())
        self.routes = []
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.started = False
        self.draining = False
        self.inflight = 0
        self.inflight_lock = threading.Condition()
        self.wakeup = None
        data = self.args.data or os.path.join(
            os.environ.get("TMPDIR", "/tmp"), "orders-example-%d" % os.getuid(), name)
        os.makedirs(data, exist_ok=True)
        self.db = sqlite3.connect(os.path.join(data, name + ".db"), check_same_thread=False,
                                  isolation_level=None, timeout=10)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);"
            + schema)
        self.route("GET", "/livez", self.livez)
        self.route("GET", "/readyz", self.readyz)
        self.route("GET", "/startupz", self.startupz)
        self.route("GET", "/events", self.events)

    # --- logging, routes, transactions ---

    def log(self, level, msg, **kv):
        kv.update(ts=wall(), level=level, service=self.name, msg=msg)
        sys.stderr.write(json.dumps(kv) + "\n")
        sys.stderr.flush()

    def route(self, method, pattern, fn):
        """fn(req, *groups) -> (status, body dict[, headers dict])."""
        self.routes.append((method, re.compile("^" + pattern + "$"), fn))

    def tx(self, fn):
        """Run fn(db, emit) in one IMMEDIATE transaction; events emitted with
        emit(dict) are in the outbox iff the transaction commits."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self.db, self._emitter())
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.changed.notify_all()
            return out

    def _emitter(self):
        def emit(ev):
            ev.setdefault("t", now_ns())
            ev.setdefault("ts", wall())
            ev.setdefault("service", self.name)
            self.db.execute("INSERT INTO outbox(body) VALUES (?)", (json.dumps(ev),))
        return emit

    def read(self, sql, params=()):
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    # --- probes and the outbox ---

    def livez(self, req):
        return 200, {"status": "ok"}

    def terminating(self):
        """True from the moment SIGTERM is delivered: the C-level handler
        writes to the wakeup pipe at once, while the Python handler waits
        for the main thread to get the interpreter (hundreds of ms on a
        busy machine)."""
        if self.draining:
            return True
        return self.wakeup is not None and bool(select.select([self.wakeup], [], [], 0)[0])

    def readyz(self, req):
        draining = self.terminating() and "ready-while-draining" not in self.bugs
        if not self.started:
            return 503, {"status": "starting"}
        if draining:
            return 503, {"status": "draining"}
        try:
            self.read("SELECT 1")
        except sqlite3.Error as e:
            return 503, {"status": "database unavailable: %s" % e}
        return 200, {"status": "ready"}

    def startupz(self, req):
        if not self.started:
            return 503, {"status": "starting"}
        return 200, {"status": "started"}

    def events(self, req):
        try:
            after = int(req.query.get("after", "0"))
            limit = min(max(int(req.query.get("limit", "1000")), 1), 10000)
            wait = min(max(int(req.query.get("wait", "0")), 0), 30000)
        except ValueError:
            raise HTTPError(400, "after, limit and wait must be integers")
        deadline = time.monotonic() + wait / 1000.0
        with self.lock:
            while True:
                rows = self.db.execute("SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                                       (after, limit)).fetchall()
                left = deadline - time.monotonic()
                if rows or left <= 0:
                    break
                self.changed.wait(left)
            head = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
        evs = []
        for r in rows:
            e = json.loads(r["body"])
            e["seq"] = r["seq"]
            evs.append(e)
        return 200, {"events": evs, "last": evs[-1]["seq"] if evs else after, "head": head}

    # --- serving ---

    def dispatch(self, req):
        allowed = False
        for method, rx, fn in self.routes:
            m = rx.match(req.path)
            if not m:
                continue
            if method != req.method:
                allowed = True
                continue
            if not self.started and req.path not in ("/livez", "/readyz", "/startupz", "/events"):
                raise HTTPError(503, "starting")
            return fn(req, *(urllib.parse.unquote(g) for g in m.groups()))
        if allowed:
            raise HTTPError(405, "method not allowed")
        raise HTTPError(404, "not found: %s" % req.path)

    def serve(self, recover=None):
        """Bind, run recover() (crash recovery) and go ready; returns never."""
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = app.name

            def log_message(self, fmt, *a):
                pass

            def handle_one(self):
                with app.inflight_lock:
                    app.inflight += 1
                try:
                    self._handle()
                finally:
                    with app.inflight_lock:
                        app.inflight -= 1
                        app.inflight_lock.notify_all()

            def _handle(self):
                self.close_connection = True
                u = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(u.query))
                try:
                    n = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    n = -1
                headers = {}
                try:
                    if n < 0 or n > 1 << 20:
                        raise HTTPError(400 if n < 0 else 413, "bad Content-Length")
                    body = self.rfile.read(n) if n else b""
                    out = app.dispatch(Request(self.command, u.path, query, self.headers, body))
                    status, doc = out[0], out[1]
                    if len(out) > 2:
                        headers = out[2]
                except HTTPError as e:
                    status, doc = e.status, dict(e.extra, error=e.message, status=e.status)
                except Exception as e:  # a bug: answer 500, keep serving
                    app.log("error", "handler failed", path=u.path, error=repr(e))
                    status, doc = 500, {"error": "internal error", "status": 500}
                raw = (json.dumps(doc) + "\n").encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.send_header("Connection", "close")
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        server = Server((self.args.host, self.args.port), Handler)
        port = server.server_address[1]
        stop = threading.Event()
        term_at = [0.0]

        def on_term(sig, frame):
            if self.draining:  # a second SIGTERM stops at once
                os._exit(0)
            term_at[0] = time.monotonic()
            self.draining = True
            stop.set()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        rfd, wfd = os.pipe()
        os.set_blocking(wfd, False)
        signal.set_wakeup_fd(wfd)
        self.wakeup = rfd
        self.tx(lambda db, emit: emit({"event": "process", "action": "started",
                                       "pid": os.getpid(), "port": port}))
        t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        t.start()
        if recover:
            recover()
        self.started = True
        self.log("info", "listening", port=port, host=self.args.host, bugs=sorted(self.bugs))
        print("%s: listening on %s:%d" % (self.name, self.args.host, port), flush=True)
        while not stop.wait(0.5):
            pass
        # draining: readyz is 503 (unless the planted bug), requests still served
        self.log("info", "SIGTERM: draining", drain_delay=self.args.drain_delay, grace=self.args.grace)
        time.sleep(max(self.args.drain_delay, 0))
        server.shutdown()
        # answer the connections already queued: closing a listener with a
        # backlog resets them, and a client would see its request lost
        server.socket.setblocking(False)
        while True:
            try:
                conn, addr = server.socket.accept()
            except OSError:
                break
            conn.setblocking(True)
            server.process_request(conn, addr)
        server.socket.close()
        deadline = term_at[0] + self.args.grace
        with self.inflight_lock:
            while self.inflight > 0 and time.monotonic() < deadline:
                self.inflight_lock.wait(deadline - time.monotonic())
            left = self.inflight
        self.log("info", "exiting", unanswered=left)
        with self.lock:  # no transaction is cut in half
            sys.stderr.flush()
            os._exit(0)
