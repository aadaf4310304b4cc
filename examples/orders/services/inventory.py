#!/usr/bin/env python3
"""inventory: stock per item and reservations, idempotent by key.

  POST /inventory/items       {"item": "lamp", "stock": 10}   (sets the stock)
  POST /inventory/reserve     (Idempotency-Key) {"item": "lamp", "qty": 1, "order_id": "O7"}
       200 {"result": "RESERVED"} | 409 {"result": "OUT_OF_STOCK"} | 409 FENCED
  GET  /inventory/reservations/KEY[?fence=1]  {"state": "APPLIED"|"REJECTED"|"NOT_APPLIED"|"FENCED"}
  GET  /inventory/items/ITEM  {"item", "stock", "reserved"}
A reservation is the saga's pivot: it is never undone. Each applied one
emits a `stock_reserved` event (no money moves here, so no `effect`).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc  # noqa: E402

SCHEMA = """
CREATE TABLE IF NOT EXISTS items(item TEXT PRIMARY KEY, stock INTEGER NOT NULL, reserved INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys(key TEXT PRIMARY KEY, state TEXT NOT NULL, item TEXT, qty INTEGER,
  status INTEGER NOT NULL, answer TEXT NOT NULL);
"""

app = svc.App("inventory", "inventory of the orders example", SCHEMA)


def set_item(req):
    b = req.json()
    item = svc.field(b, "item", str)
    stock = svc.field(b, "stock", int, minimum=0)

    def run(db, emit):
        db.execute("INSERT INTO items VALUES (?, ?, 0) ON CONFLICT(item) DO UPDATE SET stock = ?",
                   (item, stock, stock))
        return 200, {"item": item, "stock": stock}
    return app.tx(run)


def reserve(req):
    key = req.key()
    b = req.json()
    item = svc.field(b, "item", str)
    qty = svc.field(b, "qty", int, minimum=1)

    def run(db, emit):
        row = db.execute("SELECT * FROM keys WHERE key = ?", (key,)).fetchone()
        if row is not None:
            if row["state"] == "FENCED":
                return 409, {"result": "FENCED", "key": key, "error": "key fenced: the order was given up"}
            if row["item"] != item or row["qty"] != qty:
                raise svc.HTTPError(422, "Idempotency-Key reused with a different request")
            return row["status"], json.loads(row["answer"]), {"Idempotent-Replayed": "true"}
        it = db.execute("SELECT stock FROM items WHERE item = ?", (item,)).fetchone()
        if it is None or it["stock"] < qty:
            status, answer, state = 409, {"result": "OUT_OF_STOCK", "key": key, "item": item,
                                          "stock": it["stock"] if it else 0}, "REJECTED"
        else:
            db.execute("UPDATE items SET stock = stock - ?, reserved = reserved + ? WHERE item = ?",
                       (qty, qty, item))
            emit({"event": "stock_reserved", "key": key, "item": item, "qty": qty,
                  "order_id": b.get("order_id")})
            status, answer, state = 200, {"result": "RESERVED", "key": key, "item": item, "qty": qty}, "APPLIED"
        db.execute("INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?)",
                   (key, state, item, qty, status, json.dumps(answer)))
        return status, answer
    return app.tx(run)


def reservation(req, key):
    fence = req.query.get("fence") == "1"

    def run(db, emit):
        row = db.execute("SELECT state FROM keys WHERE key = ?", (key,)).fetchone()
        if row is None:
            if fence:
                db.execute("INSERT INTO keys VALUES (?, 'FENCED', NULL, NULL, 409, '{}')", (key,))
                return 200, {"key": key, "state": "FENCED"}
            return 200, {"key": key, "state": "NOT_APPLIED"}
        return 200, {"key": key, "state": row["state"]}
    return app.tx(run)


def get_item(req, item):
    rows = app.read("SELECT * FROM items WHERE item = ?", (item,))
    if not rows:
        raise svc.HTTPError(404, "no item " + item)
    return 200, {"item": item, "stock": rows[0]["stock"], "reserved": rows[0]["reserved"]}


app.route("POST", "/inventory/items", set_item)
app.route("POST", "/inventory/reserve", reserve)
app.route("GET", "/inventory/reservations/([^/]+)", reservation)
app.route("GET", "/inventory/items/([^/]+)", get_item)

if __name__ == "__main__":
    app.serve()
