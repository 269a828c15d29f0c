"""A bounded load against the load balancer that checks and counts every response."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx


@dataclass
class Load:
    """Clients in threads sending /health and, every few requests, an orchestration.

    Bounded: it stops at stop(), after max_seconds, or after max_requests, whichever is first.
    Every answer is checked (status and body); anything else counts as a failure. With rate
    (requests/s over all clients) each client keeps its share of that pace; without it, each
    sends its next request as soon as the last is answered.
    """

    base_url: str
    version_ok: set[str]
    clients: int = 4
    max_seconds: float = 600
    max_requests: int = 200_000
    post_every: int = 10
    rate: float | None = None
    sent: int = 0
    failures: list[str] = field(default_factory=list)
    started_ids: list[str] = field(default_factory=list)
    versions_seen: set[str] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> Load:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        return self

    def _take_ticket(self) -> int | None:
        with self._lock:
            if self.sent >= self.max_requests:
                return None
            self.sent += 1
            return self.sent

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        interval = self.clients / self.rate if self.rate else 0.0
        next_at = time.monotonic()
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while not self._stop.is_set() and time.monotonic() < deadline:
                if interval:
                    # A late request does not make the next ones come faster to catch up.
                    next_at = max(next_at + interval, time.monotonic())
                    if self._stop.wait(max(0.0, next_at - time.monotonic())):
                        return
                ticket = self._take_ticket()
                if ticket is None:
                    return
                started = time.perf_counter()
                try:
                    if ticket % self.post_every == 0:
                        self._post(http)
                    else:
                        self._health(http)
                except httpx.HTTPError as exc:
                    self._fail(f"{type(exc).__name__}: {exc}")
                with self._lock:
                    self.latencies.append(time.perf_counter() - started)

    def _health(self, http: httpx.Client) -> None:
        answer = http.get("/health")
        body = answer.json() if answer.status_code == 200 else {}
        if body.get("status") != "healthy" or body.get("version") not in self.version_ok:
            self._fail(f"/health: HTTP {answer.status_code} {answer.text[:120]}")
            return
        with self._lock:
            self.versions_seen.add(body["version"])

    def _post(self, http: httpx.Client) -> None:
        answer = http.post(
            "/api/v1/orchestrations",
            json={"name": "load", "steps": [{"name": "echo", "action": "echo"}]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if answer.status_code != 202 or "id" not in answer.json():
            self._fail(f"POST: HTTP {answer.status_code} {answer.text[:120]}")
            return
        with self._lock:
            self.started_ids.append(answer.json()["id"])

    def _fail(self, what: str) -> None:
        with self._lock:
            self.failures.append(what)
