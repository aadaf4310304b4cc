"""A count-based circuit breaker with Resilience4j's semantics.

CLOSED records outcomes in a window of the last `window_size` calls; once
it holds min(minimum_calls, window_size) outcomes, it opens when the
failure rate (or the slow-call rate) reaches its threshold. OPEN refuses
every call until `wait_open_ms` has passed; the first call after that moves
it to HALF_OPEN, which lets `half_open_calls` trial calls through into a
fresh window and, once min(minimum_calls, half_open_calls) of them are in,
opens again if they trip it and closes otherwise. An outcome of a call that
started before the latest transition is recorded but moves nothing.

Failures are timeouts, connection errors and 5xx answers; a 4xx answer is a
business result, hence a success. Every recorded call, refusal and
transition is returned as an event (docs/checkers.md, "Circuit-breaker
events") for the caller to write in its next transaction.
"""
import collections
import threading

import svc

DEFAULTS = {
    "window_type": "COUNT_BASED", "window_size": 10, "minimum_calls": 5,
    "failure_rate_threshold": 50, "slow_call_rate_threshold": 100,
    "slow_call_duration_ms": 1000, "wait_open_ms": 2000, "half_open_calls": 3,
    "automatic_transition": False,
}


class Permit:
    def __init__(self, epoch, start):
        self.epoch = epoch
        self.start = start


class Breaker:
    def __init__(self, name, service, config, bugs=()):
        self.name = name
        self.service = service
        self.config = dict(DEFAULTS, **config)
        self.bugs = set(bugs)
        self.lock = threading.Lock()
        self.state = "CLOSED"
        self.epoch = 0
        self.opened_at = 0
        self.permits = 0
        self.window = collections.deque(maxlen=self.config["window_size"])
        self.totals = collections.Counter()

    def _event(self, **kv):
        return dict(kv, breaker=self.name, service=self.service)

    def _move(self, to, now, events):
        events.append(self._event(event="breaker_transition", t=now, **{"from": self.state, "to": to}))
        self.state = to
        self.epoch += 1
        c = self.config
        if to == "OPEN":
            self.opened_at = now
        elif to == "HALF_OPEN":
            self.permits = c["half_open_calls"]
            self.window = collections.deque(maxlen=c["half_open_calls"])
        else:
            self.window = collections.deque(maxlen=c["window_size"])

    def acquire(self, events):
        """A Permit for one call, or None when the breaker refuses it (the
        refusal is added to events)."""
        now = svc.now_ns()
        with self.lock:
            if self.state == "OPEN" and now - self.opened_at >= self.config["wait_open_ms"] * 1000000:
                self._move("HALF_OPEN", now, events)
            if self.state == "HALF_OPEN":
                if self.permits > 0:
                    self.permits -= 1
                    return Permit(self.epoch, now)
            elif self.state == "CLOSED":
                return Permit(self.epoch, now)
            self.totals["rejected"] += 1
            events.append(self._event(event="breaker_call", t=now, duration_ms=0, outcome="rejected"))
            return None

    def record(self, permit, failed, start, end, events):
        """Record the outcome of a permitted call (start, end: monotonic ns)."""
        c = self.config
        slow = (end - start) > c["slow_call_duration_ms"] * 1000000
        outcome = "failure" if failed else ("slow" if slow else "success")
        with self.lock:
            self.totals[outcome] += 1
            events.append(self._event(event="breaker_call", start=start, end=end,
                                      duration_ms=round((end - start) / 1e6, 3), outcome=outcome))
            if permit.epoch != self.epoch:
                return
            self.window.append((failed, slow))
            n = len(self.window)
            size = c["half_open_calls"] if self.state == "HALF_OPEN" else c["window_size"]
            if n < min(c["minimum_calls"], size):
                return
            fails = sum(1 for f, _ in self.window if f)
            slows = sum(1 for _, s in self.window if s)
            trips = fails * 100 >= c["failure_rate_threshold"] * n or \
                slows * 100 >= c["slow_call_rate_threshold"] * n
            if self.state == "CLOSED" and trips:
                self._move("OPEN", end, events)
            elif self.state == "HALF_OPEN":
                self._move("OPEN" if trips else "CLOSED", end, events)

    def describe(self):
        with self.lock:
            return {"name": self.name, "service": self.service, "state": self.state,
                    "config": dict(self.config), "totals": dict(self.totals),
                    "window": {"n": len(self.window), "failures": sum(1 for f, _ in self.window if f)}}
