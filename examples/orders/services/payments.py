#!/usr/bin/env python3
"""payments: customer accounts, charges and refunds, idempotent by key.

A double-entry ledger: `customer:NAME` accounts, `merchant` (where charges
go) and `CORP` (where opening balances come from; it is the only account
that may be negative). The accounts always sum to 0.

  POST /payments/accounts            {"customer": "ann", "balance": 500}
  POST /payments/charge   (Idempotency-Key) {"customer": "ann", "amount": 20}
       200 {"result": "CHARGED"} | 402 {"result": "INSUFFICIENT_FUNDS"} | 409 FENCED
  POST /payments/refund   (Idempotency-Key) {"forward_key": K}
       200 {"result": "REFUNDED"} | 200 {"result": "NOTHING_TO_REFUND"} (K fenced)
  GET  /payments/charges/KEY[?fence=1]  {"state": "APPLIED"|"REJECTED"|"NOT_APPLIED"|"FENCED"}
  GET  /payments/accounts/NAME       {"customer", "balance"}
  GET  /payments/snapshot            every account in one transaction
Each applied charge or refund emits one `effect` event (docs/checkers.md);
a replayed key answers the stored result and emits nothing.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc  # noqa: E402

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts(name TEXT PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys(key TEXT PRIMARY KEY, op TEXT NOT NULL, state TEXT NOT NULL,
  customer TEXT, amount INTEGER, status INTEGER NOT NULL, answer TEXT NOT NULL);
INSERT OR IGNORE INTO accounts VALUES ('CORP', 0), ('merchant', 0);
"""

app = svc.App("payments", "payments of the orders example", SCHEMA)


def balance(db, name):
    row = db.execute("SELECT balance FROM accounts WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def move(db, src, dst, amount):
    db.execute("UPDATE accounts SET balance = balance - ? WHERE name = ?", (amount, src))
    db.execute("UPDATE accounts SET balance = balance + ? WHERE name = ?", (amount, dst))


def remember(db, key, op, state, customer, amount, status, answer):
    db.execute("INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, ?)",
               (key, op, state, customer, amount, status, json.dumps(answer)))
    return status, answer


def replay(db, key, op, body):
    row = db.execute("SELECT * FROM keys WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    if row["state"] == "FENCED":
        return 409, {"result": "FENCED", "key": key, "error": "key fenced: the charge was given up"}
    if row["op"] != op or (row["customer"] is not None and body.get("customer") not in (None, row["customer"])) \
            or (row["amount"] is not None and body.get("amount") not in (None, row["amount"])):
        raise svc.HTTPError(422, "Idempotency-Key reused with a different request")
    return row["status"], json.loads(row["answer"]), {"Idempotent-Replayed": "true"}


def open_account(req):
    b = req.json()
    name = "customer:" + svc.field(b, "customer", str)
    amount = svc.field(b, "balance", int, minimum=0)

    def run(db, emit):
        if balance(db, name) is not None:
            raise svc.HTTPError(409, "account exists: %s" % name)
        db.execute("INSERT INTO accounts VALUES (?, 0)", (name,))
        move(db, "CORP", name, amount)
        return 201, {"customer": b["customer"], "balance": amount}
    return app.tx(run)


def charge(req):
    key = req.key()
    b = req.json()
    customer = svc.field(b, "customer", str)
    amount = svc.field(b, "amount", int, minimum=1)
    acct = "customer:" + customer

    def run(db, emit):
        old = replay(db, key, "charge", b)
        if old:
            return old
        bal = balance(db, acct)
        if bal is None:
            return remember(db, key, "charge", "REJECTED", customer, amount, 404,
                            {"result": "NO_ACCOUNT", "key": key, "error": "no account " + customer})
        if bal < amount:
            return remember(db, key, "charge", "REJECTED", customer, amount, 402,
                            {"result": "INSUFFICIENT_FUNDS", "key": key, "balance": bal})
        move(db, acct, "merchant", amount)
        emit({"event": "effect", "participant": "payments", "key": key,
              "from": acct, "to": "merchant", "amount": amount})
        return remember(db, key, "charge", "APPLIED", customer, amount, 200,
                        {"result": "CHARGED", "key": key, "amount": amount, "balance": bal - amount})
    return app.tx(run)


def refund(req):
    key = req.key()
    b = req.json()
    fwd = svc.field(b, "forward_key", str)

    def run(db, emit):
        old = replay(db, key, "refund", {})
        if old:
            return old
        row = db.execute("SELECT * FROM keys WHERE key = ?", (fwd,)).fetchone()
        if row is None:
            # the charge never arrived: fence its key so a late one cannot apply
            db.execute("INSERT INTO keys VALUES (?, 'charge', 'FENCED', NULL, NULL, 409, '{}')", (fwd,))
            return remember(db, key, "refund", "NOTHING", None, None, 200,
                            {"result": "NOTHING_TO_REFUND", "key": key, "forward_key": fwd})
        if row["op"] != "charge":
            raise svc.HTTPError(422, "forward_key %s is not a charge" % fwd)
        if row["state"] != "APPLIED":
            return remember(db, key, "refund", "NOTHING", None, None, 200,
                            {"result": "NOTHING_TO_REFUND", "key": key, "forward_key": fwd})
        acct = "customer:" + row["customer"]
        move(db, "merchant", acct, row["amount"])
        emit({"event": "effect", "participant": "payments", "key": key,
              "from": "merchant", "to": acct, "amount": row["amount"]})
        return remember(db, key, "refund", "APPLIED", row["customer"], row["amount"], 200,
                        {"result": "REFUNDED", "key": key, "forward_key": fwd, "amount": row["amount"]})
    return app.tx(run)


def charge_state(req, key):
    fence = req.query.get("fence") == "1"

    def run(db, emit):
        row = db.execute("SELECT state, amount FROM keys WHERE key = ?", (key,)).fetchone()
        if row is None:
            if fence:
                db.execute("INSERT INTO keys VALUES (?, 'charge', 'FENCED', NULL, NULL, 409, '{}')", (key,))
                return 200, {"key": key, "state": "FENCED"}
            return 200, {"key": key, "state": "NOT_APPLIED"}
        return 200, {"key": key, "state": row["state"], "amount": row["amount"]}
    return app.tx(run)


def account(req, name):
    rows = app.read("SELECT balance FROM accounts WHERE name = ?", ("customer:" + name,))
    if not rows:
        raise svc.HTTPError(404, "no account " + name)
    return 200, {"customer": name, "balance": rows[0][0]}


def snapshot(req):
    def run(db, emit):
        acc = {r["name"]: r["balance"] for r in db.execute("SELECT * FROM accounts")}
        return 200, {"t": svc.now_ns(), "accounts": acc, "sum": sum(acc.values())}
    return app.tx(run)


app.route("POST", "/payments/accounts", open_account)
app.route("POST", "/payments/charge", charge)
app.route("POST", "/payments/refund", refund)
app.route("GET", "/payments/charges/([^/]+)", charge_state)
app.route("GET", "/payments/accounts/([^/]+)", account)
app.route("GET", "/payments/snapshot", snapshot)

if __name__ == "__main__":
    app.serve()
