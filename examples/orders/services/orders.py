#!/usr/bin/env python3
"""orders: the saga coordinator of the orders example.

An order is a saga of two steps:
  1. charge   payments  POST /payments/charge    key O7:charge:fwd   (compensable: refund)
  2. reserve  inventory POST /inventory/reserve  key O7:reserve:fwd  (the pivot)
When inventory says OUT_OF_STOCK, the charge is refunded (key
O7:charge:comp) and the order ends COMPENSATED. The saga log and every step
are written durably before each call; a crash is recovered on start (a step
left REQUESTED is retried with its key). Calls to payments go through a
circuit breaker (orders->payments).

Outcomes of a call: an answer decides the step; a refused connection means
not sent (retried); a timeout, reset or 5xx is UNKNOWN (retried with the
same key). At the deadline an UNKNOWN step is resolved by asking the
participant (which fences the key), never compensated blindly.

  POST /orders  (Idempotency-Key optional) {"customer", "item", "qty", "amount", "deadline_ms"?, "wait"?}
       200 {"saga_id", "state": COMPLETED|COMPENSATED|FAILED, "reason"}
       202 (still running after --reply-timeout, or "wait": false)
       503 {"error": "circuit_open"} (the breaker refused the charge: nothing happened)
  GET  /orders/ID        the saga and its steps
  GET  /sagas[?state=open|COMPLETED|...]
  GET  /breakers         the breaker's state and configuration
Planted bugs (--bug): missing-compensation (OUT_OF_STOCK ends FAILED
without the refund), ready-while-draining (svc.py).
"""
import hashlib
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import breaker  # noqa: E402
import svc  # noqa: E402

SCHEMA = """
CREATE TABLE IF NOT EXISTS sagas(id INTEGER PRIMARY KEY AUTOINCREMENT, request_key TEXT UNIQUE,
  body_hash TEXT NOT NULL, customer TEXT NOT NULL, item TEXT NOT NULL, qty INTEGER NOT NULL,
  amount INTEGER NOT NULL, deadline_ms INTEGER NOT NULL, started INTEGER NOT NULL,
  phase TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  charge TEXT NOT NULL DEFAULT '', reserve TEXT NOT NULL DEFAULT '', refund TEXT NOT NULL DEFAULT '');
"""
TERMINAL = ("COMPLETED", "COMPENSATED", "FAILED", "STUCK")
STEPS = {"charge": ("payments", 1), "reserve": ("inventory", 2)}


def add_args(p):
    p.add_argument("--payments", default=os.environ.get("PAYMENTS_URL") or os.environ.get("FL_LINK_PAYMENTS"),
                   help="payments base URL (default $PAYMENTS_URL, else $FL_LINK_PAYMENTS)")
    p.add_argument("--inventory", default=os.environ.get("INVENTORY_URL") or os.environ.get("FL_LINK_INVENTORY"),
                   help="inventory base URL (default $INVENTORY_URL, else $FL_LINK_INVENTORY)")
    p.add_argument("--saga-deadline", type=float, default=5.0, help="seconds before the pivot (default 5)")
    p.add_argument("--reply-timeout", type=float, default=10.0)
    p.add_argument("--call-timeout", type=float, default=2.0)
    p.add_argument("--breaker", default=os.environ.get("ORDERS_BREAKER") or "{}",
                   help="breaker configuration as JSON (docs/checkers.md keys; default $ORDERS_BREAKER, else {})")


app = svc.App("orders", "the order saga coordinator of the orders example", SCHEMA, add_args)
if not app.args.payments or not app.args.inventory:
    sys.exit("orders: --payments and --inventory (or PAYMENTS_URL, INVENTORY_URL) are required")
try:
    BREAKER = breaker.Breaker("orders->payments", "orders", json.loads(app.args.breaker), app.bugs)
except (ValueError, TypeError) as e:
    sys.exit("orders: bad --breaker (or $ORDERS_BREAKER): %s" % e)
URL = {"payments": app.args.payments.rstrip("/"), "inventory": app.args.inventory.rstrip("/")}


def sid_of(row_id):
    return "O%d" % row_id


def load(row_id):
    return app.read("SELECT * FROM sagas WHERE id = ?", (row_id,))[0]


def write(row_id, events, **cols):
    """Update the saga's columns and emit its events in one transaction."""
    def run(db, emit):
        if cols:
            db.execute("UPDATE sagas SET %s WHERE id = ?" % ", ".join("%s = ?" % k for k in cols),
                       tuple(cols.values()) + (row_id,))
        for e in events:
            if "saga_id" not in e and not e.get("event", "").startswith("breaker"):
                e["saga_id"] = sid_of(row_id)
            emit(e)
    app.tx(run)


def step_event(ev, s, step, d="fwd", **kv):
    participant, n = STEPS[step]
    e = {"event": ev, "saga_id": sid_of(s["id"]), "step": step, "dir": d,
         "key": "%s:%s:%s" % (sid_of(s["id"]), step, d), "participant": participant}
    if d == "fwd":
        e["pivot"] = n == 2
        e["effect"] = step == "charge"
    e.update(kv)
    return e


def past_deadline(s):
    return svc.now_ns() > s["started"] + s["deadline_ms"] * 1000000


def send(participant, method, path, body=None, key=None):
    """One call; through the breaker when it goes to payments. Returns
    (Result, breaker events)."""
    events = []
    url = URL[participant] + path
    if participant != "payments":
        return svc.call(method, url, body, key, app.args.call_timeout), events
    permit = BREAKER.acquire(events)
    if permit is None:
        return svc.Result("refused", error="circuit_open"), events
    r = svc.call(method, url, body, key, app.args.call_timeout)
    BREAKER.record(permit, r.kind in ("unknown", "refused"), r.start, r.end, events)
    return r, events


def backoff(attempt):
    time.sleep(min(0.05 * (2 ** min(attempt, 5)), 1.0))


def forward(s, step, path, body):
    """Run forward step `step` until it is decided or the deadline passes.
    Returns "ok", ("rejected", result), "circuit_open", or ("deadline", in_doubt)."""
    key = "%s:%s:fwd" % (sid_of(s["id"]), step)
    in_doubt = s[step] in ("REQUESTED", "UNKNOWN")  # recovered after a crash
    attempt = 0
    while True:
        if past_deadline(s):
            return ("deadline", in_doubt)
        attempt += 1
        write(s["id"], [step_event("step_requested", s, step, attempt=attempt, amount=s["amount"])],
              **{step: "REQUESTED" if not in_doubt else "UNKNOWN"})
        r, bev = send(STEPS[step][0], "POST", path, body, key)
        if r.kind == "ok":
            write(s["id"], bev + [step_event("step_succeeded", s, step)], **{step: "SUCCEEDED"})
            return "ok"
        if r.kind == "rejected" and r.body.get("result") != "FENCED":
            reason = r.body.get("result") or "HTTP_%d" % r.status
            write(s["id"], bev + [step_event("step_failed", s, step, reason=reason, status=r.status)],
                  **{step: "FAILED"})
            return ("rejected", reason)
        if r.kind == "refused" and not in_doubt:
            if r.error == "circuit_open" and step == "charge":
                write(s["id"], bev + [step_event("step_failed", s, step, reason="CIRCUIT_OPEN")],
                      **{step: "NOT_SENT"})
                return "circuit_open"
            write(s["id"], bev, **{step: "NOT_SENT"})
        elif r.kind != "refused":
            in_doubt = True
            write(s["id"], bev + [step_event("step_unknown", s, step, reason=r.error or "unknown")],
                  **{step: "UNKNOWN"})
        elif bev:
            write(s["id"], bev)
        backoff(attempt)


def resolve(s, step, path):
    """Ask the participant whether an in-doubt step was applied (fencing it
    when it was not). Returns True when applied."""
    attempt = 0
    while True:
        attempt += 1
        r, bev = send(STEPS[step][0], "GET", path + "?fence=1")
        if r.kind == "ok" and r.body.get("state"):
            applied = r.body["state"] == "APPLIED"
            write(s["id"], bev + [step_event("step_resolved", s, step,
                                             outcome="applied" if applied else "not_applied")],
                  **{step: "SUCCEEDED" if applied else "NOT_APPLIED"})
            return applied
        if bev:
            write(s["id"], bev)
        backoff(attempt)


def compensate(s, reason):
    """Refund the charge (retried until payments answers); ends COMPENSATED."""
    key = "%s:charge:comp" % sid_of(s["id"])
    if s["refund"] != "REQUESTED":
        write(s["id"], [step_event("compensation_requested", s, "charge", "comp")],
              phase="compensate", reason=reason, refund="REQUESTED")
    for attempt in range(1, 201):
        r, bev = send("payments", "POST", "/payments/refund",
                      {"forward_key": "%s:charge:fwd" % sid_of(s["id"])}, key)
        if r.kind == "ok":
            end(s["id"], "COMPENSATED", reason,
                bev + [step_event("compensation_succeeded", s, "charge", "comp",
                                  result=r.body.get("result"))], refund="SUCCEEDED")
            return
        if bev:
            write(s["id"], bev)
        backoff(attempt)
    end(s["id"], "STUCK", reason, [])
    app.log("error", "compensation exhausted", saga_id=sid_of(s["id"]))


def end(row_id, state, reason, events, **cols):
    write(row_id, events + [{"event": "saga_ended", "state": state, "reason": reason}],
          phase="done", state=state, reason=reason, **cols)


def drive(row_id):
    """Run saga row_id from wherever its log says it is, to its end."""
    try:
        _drive(row_id)
    except Exception as e:  # leave it to recovery; never kill the process
        app.log("error", "saga driver failed", saga_id=sid_of(row_id), error=repr(e))
    with app.lock:
        app.changed.notify_all()


def _drive(row_id):
    s = load(row_id)
    sid = sid_of(row_id)
    if s["phase"] == "charge":
        out = forward(s, "charge", "/payments/charge",
                      {"customer": s["customer"], "amount": s["amount"], "order_id": sid})
        if out == "circuit_open":
            return end(row_id, "FAILED", "CIRCUIT_OPEN", [])
        if isinstance(out, tuple) and out[0] == "rejected":
            return end(row_id, "FAILED", out[1], [])
        if isinstance(out, tuple):  # the deadline
            if not out[1] or not resolve(s, "charge", "/payments/charges/" + urllib.parse.quote(sid + ":charge:fwd")):
                return end(row_id, "FAILED", "DEADLINE", [])
            return compensate(load(row_id), "DEADLINE")
        write(row_id, [], phase="reserve")
        s = load(row_id)
    if s["phase"] == "reserve":
        out = forward(s, "reserve", "/inventory/reserve",
                      {"item": s["item"], "qty": s["qty"], "order_id": sid})
        if out == "ok":
            return end(row_id, "COMPLETED", "", [])
        if out[0] == "rejected":
            if "missing-compensation" in app.bugs:
                return end(row_id, "FAILED", out[1], [])
            return compensate(load(row_id), out[1])
        if out[1] and resolve(s, "reserve", "/inventory/reservations/" +
                              urllib.parse.quote(sid + ":reserve:fwd")):
            return end(row_id, "COMPLETED", "", [])
        return compensate(load(row_id), "DEADLINE")
    if s["phase"] == "compensate":
        return compensate(s, s["reason"])


def view(s):
    sid = sid_of(s["id"])
    return {"saga_id": sid, "order_id": sid, "state": s["state"], "reason": s["reason"],
            "customer": s["customer"], "item": s["item"], "qty": s["qty"], "amount": s["amount"],
            "deadline_ms": s["deadline_ms"], "request_key": s["request_key"],
            "steps": {"charge": s["charge"], "reserve": s["reserve"], "refund": s["refund"]}}


def answer(row_id, wait, replayed):
    deadline = time.monotonic() + (app.args.reply_timeout if wait else 0)
    with app.lock:
        while True:
            s = load(row_id)
            left = deadline - time.monotonic()
            if s["state"] in TERMINAL or left <= 0:
                break
            app.changed.wait(min(left, 0.5))
    h = {"Idempotent-Replayed": "true"} if replayed else {}
    if s["state"] == "FAILED" and s["reason"] == "CIRCUIT_OPEN":
        h["Retry-After"] = "1"
        return 503, dict(view(s), error="circuit_open", status=503), h
    return (200 if s["state"] in TERMINAL else 202), view(s), h


def create(req):
    key = req.key(required=False)
    b = req.json()
    customer = svc.field(b, "customer", str)
    item = svc.field(b, "item", str)
    qty = svc.field(b, "qty", int, minimum=1)
    amount = svc.field(b, "amount", int, minimum=1)
    deadline = svc.field(b, "deadline_ms", int, required=False)
    if deadline is not None and not 100 <= deadline <= 600000:
        raise svc.HTTPError(400, "deadline_ms must be within 100..600000")
    wait = b.get("wait", True)
    if not isinstance(wait, bool):
        raise svc.HTTPError(400, "field wait must be a boolean")
    digest = hashlib.sha256(json.dumps([customer, item, qty, amount, deadline]).encode()).hexdigest()
    deadline = deadline or int(app.args.saga_deadline * 1000)

    def run(db, emit):
        if key is not None:
            old = db.execute("SELECT id, body_hash FROM sagas WHERE request_key = ?", (key,)).fetchone()
            if old is not None:
                if old["body_hash"] != digest:
                    raise svc.HTTPError(422, "Idempotency-Key reused with a different order")
                return old["id"], True
        cur = db.execute("INSERT INTO sagas(request_key, body_hash, customer, item, qty, amount, deadline_ms,"
                         " started, phase, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'charge', 'RUNNING')",
                         (key, digest, customer, item, qty, amount, deadline, svc.now_ns()))
        ev = {"event": "saga_started", "saga_id": sid_of(cur.lastrowid), "saga_type": "order",
              "amount": amount, "pivot_step": 2, "deadline_ms": deadline, "customer": customer,
              "item": item, "qty": qty}
        if key is not None:
            ev["request_key"] = key
        emit(ev)
        return cur.lastrowid, False
    row_id, replayed = app.tx(run)
    if not replayed:
        threading.Thread(target=drive, args=(row_id,), daemon=True).start()
    return answer(row_id, wait, replayed)


def get_order(req, sid):
    if not sid.startswith("O") or not sid[1:].isdigit():
        raise svc.HTTPError(400, "bad order id: %s" % sid)
    rows = app.read("SELECT * FROM sagas WHERE id = ?", (int(sid[1:]),))
    if not rows:
        raise svc.HTTPError(404, "no order " + sid)
    return 200, view(rows[0])


def list_sagas(req):
    st = req.query.get("state")
    if st == "open":
        rows = app.read("SELECT * FROM sagas WHERE state NOT IN ('COMPLETED','COMPENSATED','FAILED','STUCK')")
    elif st:
        rows = app.read("SELECT * FROM sagas WHERE state = ?", (st,))
    else:
        rows = app.read("SELECT * FROM sagas ORDER BY id DESC LIMIT 1000")
    return 200, {"sagas": [view(r) for r in rows]}


def breakers(req):
    return 200, {"breakers": [BREAKER.describe()]}


def recover():
    """Restart every saga the log left open (before /startupz turns OK)."""
    rows = app.read("SELECT id FROM sagas WHERE state NOT IN ('COMPLETED','COMPENSATED','FAILED','STUCK')")
    for r in rows:
        write(r["id"], [{"event": "saga_recovered", "saga_id": sid_of(r["id"])}])
        threading.Thread(target=drive, args=(r["id"],), daemon=True).start()
    if rows:
        app.log("info", "recovering sagas", count=len(rows))


app.route("POST", "/orders", create)
app.route("GET", "/orders/([^/]+)", get_order)
app.route("GET", "/sagas", list_sagas)
app.route("GET", "/breakers", breakers)

if __name__ == "__main__":
    app.serve(recover)
