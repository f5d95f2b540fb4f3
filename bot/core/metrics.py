"""What a worker counts for Prometheus: one registry per App, served at /metrics.

The counters cost a dictionary look-up and an addition on the hot paths (a handled update,
a sent message); nothing here queries the database. What lives in the database (the
outbox's depth and its oldest unsent row) is read once per scrape by `bot.web.metrics`.

Label values are bounded and never personal: a platform's name (from the code), an
update's kind (a fixed list), an outcome, a job's id (from the code). Never a chat id,
a user id or a name: a label would carry them into every monitoring system.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.events import IncomingKind

KINDS = frozenset(get_args(IncomingKind))
# Seconds: a handler answers in milliseconds; a slow database shows in the upper buckets.
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds a scheduled job started after its planned time.
LAG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 86400.0)


def _bounded(value: str) -> str:
    """A platform or job name as a label: short, plain characters only (no quote, no newline)."""
    clean = "".join(c for c in value[:40] if c.isascii() and (c.isalnum() or c in "-_."))
    return clean or "other"


class Metrics:
    """The counters and histograms of one App, in a registry of its own (tests make many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "wijkbot_updates_handled", "Updates (messages, buttons, ...) handled, by platform "
            "and kind.", ["platform", "kind"], registry=r,
        )  # fmt: skip
        self.handler_seconds = Histogram(
            "wijkbot_handler_seconds", "Time to handle one update (its transaction and the "
            "direct replies), by platform.", ["platform"], buckets=HANDLER_BUCKETS, registry=r,
        )  # fmt: skip
        self.sends = Counter(
            "wijkbot_outbox_sends", "Outbox messages the platform took (ok) or refused "
            "(failed: retried later or given up), by platform.", ["platform", "outcome"],
            registry=r,
        )  # fmt: skip
        self.forwarding_failures = Counter(
            "wijkbot_forwarding_failures", "Reports the municipality's system did not take "
            "(each failed attempt), by reason.", ["reason"], registry=r,
        )  # fmt: skip
        self.scheduler_lag = Histogram(
            "wijkbot_scheduler_lag_seconds", "How late a scheduled job started against its "
            "planned time, by job.", ["job"], buckets=LAG_BUCKETS, registry=r,
        )  # fmt: skip
        self._handled: dict[tuple[str, str], Callable[[float], None]] = {}
        self._sent: dict[tuple[str, bool], Callable[[float], None]] = {}

    def handled(self, platform: str, kind: str, seconds: float) -> None:
        """One update handled in `seconds` (its label children looked up once)."""
        key = (platform, kind)
        observe = self._handled.get(key)
        if observe is None:
            p, k = _bounded(platform), kind if kind in KINDS else "other"
            count, hist = self.updates.labels(p, k), self.handler_seconds.labels(p)

            def observe(s: float) -> None:
                count.inc()
                hist.observe(s)

            self._handled[key] = observe
        observe(seconds)

    def sent(self, platform: str, ok: bool) -> None:
        inc = self._sent.get((platform, ok))
        if inc is None:
            inc = self.sends.labels(_bounded(platform), "ok" if ok else "failed").inc
            self._sent[(platform, ok)] = inc
        inc(1)

    def forwarding_failed(self, reason: str) -> None:
        self.forwarding_failures.labels(_bounded(reason)).inc()

    def job_late(self, job: str, seconds: float) -> None:
        self.scheduler_lag.labels(_bounded(job)).observe(max(0.0, seconds))

    def add(self, collector: Collector) -> None:
        self.registry.register(collector)


class RateLimitCollector:
    """How often each platform answered "too many requests" (429), read from the adapters
    at scrape time (they count it where they wait it out)."""

    def __init__(self, adapters: Callable[[], Iterable[object]]) -> None:
        self.adapters = adapters

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "wijkbot_rate_limited", "Answers 'too many requests' (HTTP 429, Matrix "
            "M_LIMIT_EXCEEDED) from a platform, waited out and retried.", labels=["platform"],
        )  # fmt: skip
        for adapter in self.adapters():
            count = getattr(adapter, "rate_limited", None)
            if isinstance(count, int):
                family.add_metric([_bounded(str(getattr(adapter, "platform", "")))], count)
        yield family


class OutboxCollector:
    """The outbox's depth and the age of its oldest unsent row, by platform.

    Set by `refresh` (one query, before each scrape, in the scrape's request) and read by
    `collect`: the figures are as fresh as the scrape, and nothing is queried while nobody
    scrapes. A gauge refreshed by a job would be up to a period stale and query for nobody.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float]] = []  # platform, unsent rows, oldest age (s)

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "wijkbot_outbox_depth", "Outbox messages not sent yet (nor given up), by platform.",
            labels=["platform"],
        )  # fmt: skip
        age = GaugeMetricFamily(
            "wijkbot_outbox_oldest_unsent_age_seconds", "How long the longest-waiting outbox "
            "message has been due (since written, or since its retry time; 0 when none is "
            "due), by platform.", labels=["platform"],
        )  # fmt: skip
        for platform, count, oldest in self.rows:
            depth.add_metric([_bounded(platform)], count)
            age.add_metric([_bounded(platform)], oldest)
        yield depth
        yield age
