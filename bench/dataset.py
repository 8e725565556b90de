"""Benchmark data: the demo's traffic shapes spread over many apps, written as JSON lines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from botbill.demo.traffic import DemoApp, demo_apps, generate
from botbill.kit.instants import Micros

EVENTS_PER_APP_DAY_AT_SCALE_1 = 360  # measured on the benchmark apps' mix


def bench_apps(count: int) -> list[DemoApp]:
    """``count`` apps cycling through the demo's eight kinds of bot.

    Only every fifth app keeps human agents: seat events follow agent shifts, not
    traffic, so at a benchmark's thin traffic per app they would otherwise be a third of
    all events, where a platform sees a few percent.
    """
    kinds = demo_apps()
    apps = []
    for i in range(count):
        app = replace(kinds[i % len(kinds)], id=f"app-{i:04d}", name=f"App {i}")
        if i % 5:
            app = replace(app, agents=(), handoff_share=0.0)
        apps.append(app)
    return apps


def events(
    *, apps: list[DemoApp], now: Micros, days: int, target: int, seed: int = 7
) -> Iterator[dict[str, Any]]:
    """About ``target`` events (at least), spread over ``days`` days before ``now``."""
    scale = target / (len(apps) * days * EVENTS_PER_APP_DAY_AT_SCALE_1)
    return generate(apps=apps, now=now, days=days, seed=seed, scale=scale * 1.05)


def write(path: Path, stream: Iterator[dict[str, Any]]) -> int:
    """Write the events as JSON lines (``botbill import``'s format); returns how many."""
    count = 0
    with path.open("wb") as file:
        for event in stream:
            file.write(orjson.dumps(event) + b"\n")
            count += 1
    return count
