"""The machinery shared by every contract server: threading, faults, rate limit, records.

A subclass implements `route(request) -> Reply` with the API's paths and shapes
and `authenticate(request) -> Reply | None`. The base class, for every request,
in this order: counts it; applies the rolling-window rate limit (429 +
Retry-After); checks auth; applies injected faults (429 storms, 5xx, a window
of 5xx); routes; records writes; then the post-write faults (kill the client
process, or stall before answering so the client times out).

`held_data()` is everything the simulated API holds (records, lists, jobs, idempotency
caches), as JSON text: the erasure tests scan it for a deleted person.

Writes are what the exactly-once tests count: `deliveries[(kind, key)]` is the
number of accepted write operations of that kind for that key (e.g.
("member_upsert", "ann@example.com")).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    writes: list[tuple[str, str]] = field(default_factory=list)
    """(kind, key) for every write this request applied."""


@dataclass
class _Rule:
    remaining: int
    status: int
    retry_after: str | None = None
    path_contains: str | None = None
    method: str | None = None

    def matches(self, request: Request) -> bool:
        return (self.path_contains is None or self.path_contains in request.path) and (
            self.method is None or self.method == request.method
        )


class Faults:
    """Failures to inject, consumed by matching requests. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._fail_until = 0.0
        self._fail_status = 500
        self._slow: list[tuple[int, float]] = []
        self._kill: tuple[int, int] | None = None
        self.kill_count = 0

    def fail(
        self,
        times: int,
        status: int = 500,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """The next `times` matching requests get `status` without being applied."""
        with self._lock:
            self._rules.append(_Rule(times, status, retry_after, path_contains, method))

    def rate_limit_storm(self, times: int, retry_after: str | None = "1") -> None:
        """The next `times` requests get 429 (with Retry-After unless None)."""
        self.fail(times, 429, retry_after=retry_after)

    def fail_for(self, seconds: float, status: int = 500) -> None:
        """Every request in the next `seconds` gets `status` (an outage)."""
        with self._lock:
            self._fail_until = time.monotonic() + seconds
            self._fail_status = status

    def slow_writes(self, times: int, seconds: float) -> None:
        """The next `times` write requests are applied, then answered after `seconds`."""
        with self._lock:
            self._slow.append((times, seconds))

    def kill_after_writes(self, pid: int, writes: int) -> None:
        """SIGKILL `pid` right after the `writes`-th applied write request (before replying)."""
        with self._lock:
            self._kill = (pid, writes)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._slow.clear()
            self._fail_until = 0.0
            self._kill = None

    def before_route(self, request: Request) -> Reply | None:
        with self._lock:
            if time.monotonic() < self._fail_until:
                return Reply(self._fail_status, {"message": "injected outage"})
            for rule in self._rules:
                if rule.remaining > 0 and rule.matches(request):
                    rule.remaining -= 1
                    headers = {"Retry-After": rule.retry_after} if rule.retry_after else {}
                    return Reply(rule.status, {"message": "injected fault"}, headers)
        return None

    def after_write(self) -> float:
        """Called once per applied write request; returns seconds to stall (0 = none)."""
        with self._lock:
            if self._kill is not None:
                pid, remaining = self._kill
                remaining -= 1
                if remaining <= 0:
                    self._kill = None
                    self.kill_count += 1
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                else:
                    self._kill = (pid, remaining)
            for i, (times, seconds) in enumerate(self._slow):
                if times > 0:
                    self._slow[i] = (times - 1, seconds)
                    return seconds
        return 0.0


class _RollingWindow:
    """At most `limit` requests in any `window` seconds, as HubSpot's limiter counts them."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def admit(self) -> float | None:
        """None if admitted, else seconds until a slot frees up."""
        now = time.monotonic()
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return self._times[0] + self.window - now
        self._times.append(now)
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


class ContractServer:
    """Base class: a threaded HTTP server on a free localhost port, used as a context manager.

    rate_limit:  (max_requests, per_seconds) enforced over a rolling window, or None.
    """

    name = "contract"

    def __init__(self, *, rate_limit: tuple[int, float] | None = None) -> None:
        self.faults = Faults()
        self.lock = threading.RLock()
        self.deliveries: Counter[tuple[str, str]] = Counter()
        self.requests: list[tuple[str, str, int]] = []
        self.rate_limited = 0
        self._window = _RollingWindow(*rate_limit) if rate_limit else None
        self.port = 0  # 0: a free port; the demo destinations set fixed ones
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- subclass API --------------------------------------------------------------
    def authenticate(self, request: Request) -> Reply | None:
        return None

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def rate_limited_reply(self, retry_after: float) -> Reply:
        return Reply(429, {"message": "rate limited"}, {"Retry-After": str(math.ceil(retry_after))})

    # -- inspection ----------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    def held_data(self) -> str:
        """Everything the API holds, as JSON text (sets as sorted lists): every
        attribute but the server machinery and the test-side write and request logs."""
        with self.lock:
            held = {k: v for k, v in vars(self).items() if k not in _MACHINERY}
            return json.dumps(held, sort_keys=True, default=_jsonable)

    def delivery_counts(self, kind: str) -> dict[str, int]:
        """key -> number of accepted writes of `kind`."""
        with self.lock:
            return {key: n for (k, key), n in self.deliveries.items() if k == kind}

    # -- lifecycle -----------------------------------------------------------------
    def __enter__(self) -> Self:
        handler = _make_handler(self)
        self._httpd = _QuietServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"{self.name}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- request pipeline ----------------------------------------------------------
    def handle(self, request: Request) -> tuple[Reply, float]:
        with self.lock:
            if self._window is not None:
                wait = self._window.admit()
                if wait is not None:
                    self.rate_limited += 1
                    reply = self.rate_limited_reply(wait)
                    self.requests.append((request.method, request.path, reply.status))
                    return reply, 0.0
            refused = self.authenticate(request) or self.faults.before_route(request)
            reply = refused if refused is not None else self.route(request)
            for write in reply.writes:
                self.deliveries[write] += 1
            self.requests.append((request.method, request.path, reply.status))
        stall = self.faults.after_write() if reply.writes else 0.0
        return reply, stall


_MACHINERY = frozenset(
    {
        "faults",
        "lock",
        "deliveries",
        "requests",
        "rate_limited",
        "_window",
        "port",
        "_httpd",
        "_thread",
    }
)
"""ContractServer attributes that are test machinery, not data the API holds."""


class _QuietServer(ThreadingHTTPServer):
    """Clients that die mid-request (the kill tests) are expected: don't print them."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _make_handler(server: ContractServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            request = Request(
                self.command,
                parts.path,
                query,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            try:
                reply, stall = server.handle(request)
            except Exception as exc:  # a bug in a contract server must be visible
                reply, stall = Reply(500, {"message": f"contract server error: {exc!r}"}), 0.0
            if stall:
                time.sleep(stall)
            if isinstance(reply.body, bytes):  # non-JSON bodies (CSV results) go out as given
                payload = reply.body
            else:
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
