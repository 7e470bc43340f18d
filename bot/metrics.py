"""GET /metrics in Prometheus' text format (prometheus-client).

Counts kept in the process (Bot API calls and their errors, update handling times) are counters and
histograms of this module; what the database knows (reports, cases by state, the outbox, how late
the deadline pass is) is read from it at each scrape, so every replica reports the shared truth.
"""

from __future__ import annotations

import time
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from storage.models import Case, Deadline, Outbox

REGISTRY = CollectorRegistry()
BOT_API_SECONDS = Histogram("frontline_bot_api_request_seconds", "Bot API calls by method", ["method"],
                            registry=REGISTRY, buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
BOT_API_ERRORS = Counter("frontline_bot_api_errors_total", "Bot API calls that failed, by kind "
                         "(429, 5xx, 4xx, timeout, network)", ["kind"], registry=REGISTRY)
UPDATE_SECONDS = Histogram("frontline_update_seconds", "Time to handle one update from the webhook",
                           registry=REGISTRY, buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
DUPLICATE_UPDATES = Counter("frontline_duplicate_updates_total", "Redelivered updates dropped", registry=REGISTRY)


def bot_api_call(url: str, started: float, status: int | None, error: str | None = None) -> None:
    """Called by the transport after every Bot API call (only the method name is kept, never the URL:
    it holds the token)."""
    BOT_API_SECONDS.labels(url.rsplit("/", 1)[-1] or "?").observe(time.monotonic() - started)
    kind = error or (None if status is None or status < 400 else
                     "429" if status == 429 else "5xx" if status >= 500 else "4xx")
    if kind:
        BOT_API_ERRORS.labels(kind).inc()


class DatabaseCollector:
    """Figures read from the database before each scrape (collect() itself must not wait)."""

    def __init__(self):
        self.values: dict = {}

    async def refresh(self, db, now: datetime) -> None:
        async with db.sessions() as s:
            states = dict((await s.execute(select(Case.state, func.count()).group_by(Case.state))).all())
            outbox = dict((await s.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all())
            oldest = await s.scalar(select(func.min(Outbox.created_at)).where(Outbox.status == "pending"))
            due = await s.scalar(select(func.min(Deadline.next_at)).where(
                Deadline.status == "open", Deadline.kind != "rating", Deadline.next_at <= now))
        self.values = {"states": states, "outbox": outbox,
                       "oldest": (now - oldest).total_seconds() if oldest else 0.0,
                       "lag": (now - due).total_seconds() if due else 0.0}

    def collect(self):
        v = self.values
        if not v:
            return
        yield CounterMetricFamily("frontline_reports", "Cases reported (all time)",
                                  value=sum(v["states"].values()))
        cases = GaugeMetricFamily("frontline_cases", "Cases by state", labels=["state"])
        for state, n in sorted(v["states"].items()):
            cases.add_metric([state], n)
        yield cases
        yield GaugeMetricFamily("frontline_outbox_pending", "Outbox rows waiting to be sent",
                                value=v["outbox"].get("pending", 0))
        yield GaugeMetricFamily("frontline_outbox_failed", "Outbox rows that failed for good",
                                value=v["outbox"].get("failed", 0))
        yield GaugeMetricFamily("frontline_outbox_oldest_pending_seconds", "Age of the oldest unsent outbox row",
                                value=v["oldest"])
        yield GaugeMetricFamily("frontline_deadline_lag_seconds",
                                "How late the most overdue deadline step is (0: none waits)", value=v["lag"])


COLLECTOR = DatabaseCollector()
REGISTRY.register(COLLECTOR)


def add_routes(app, server) -> None:
    async def metrics(request: web.Request) -> web.Response:
        core = app.bot_data["core"]
        gate = app.bot_data.get("gate")
        if gate is not None:  # the gate's own count, folded into the counter since the last scrape
            DUPLICATE_UPDATES.inc(gate.duplicates - getattr(gate, "_reported", 0))
            gate._reported = gate.duplicates
        await COLLECTOR.refresh(app.bot_data["db"], core.now())
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
    server.extra.append(("GET", "/metrics", metrics))
