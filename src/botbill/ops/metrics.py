"""Prometheus metrics (text exposition format), kept in-process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "botbill_http_requests",
    "HTTP requests answered, by method, route and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "botbill_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_ACCEPTED = Counter(
    "botbill_events_accepted", "Events stored for the first time.", registry=REGISTRY
)
EVENTS_DUPLICATE = Counter(
    "botbill_events_duplicate", "Events received again and ignored.", registry=REGISTRY
)
SESSIONS_COMPLETED_BY_IDLE = Counter(
    "botbill_conversations_completed_by_idle",
    "Conversations whose open session the completion job closed.",
    registry=REGISTRY,
)


def render() -> bytes:
    return generate_latest(REGISTRY)
