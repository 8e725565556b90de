"""The Billing Usage Summary's result, built from rollup sums (pure).

Periods are UTC hours, days or months; a period whose requested counters are all 0 is
left out; ``averageSessions`` is the floor of the sum of every counter listed over the
number of distinct periods listed (API.md, Compatibility).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from botbill.compat.formats import iso_millis
from botbill.kit.instants import Micros, from_micros, to_micros

COUNTERS: Final = (
    "requests",
    "sessions",
    "alert_notifications",
    "proactive_notifications",
    "conversations",
)
ALL_BOTS: Final = "ALL"

Row = tuple[str, Micros, Mapping[str, int]]
"""One bot's (or ``ALL``'s) counters in one period or part of one, by its start."""


def month_of(instant: Micros) -> Micros:
    """The start of the UTC month holding ``instant``."""
    moment = from_micros(instant)
    return to_micros(datetime(moment.year, moment.month, 1, tzinfo=UTC))


def summary_response(rows: Iterable[Row], *, units: Iterable[str], grouped: bool) -> dict[str, Any]:
    """``{"data": [...], "averageSessions": n}``; rows of one bot and period add up (days
    folded into their month). Only the counters in ``units`` are counted."""
    wanted = set(units)
    per_bot: dict[str, dict[Micros, dict[str, int]]] = defaultdict(dict)
    for bot, start, counts in rows:
        period = per_bot[bot].setdefault(start, dict.fromkeys(COUNTERS, 0))
        for counter, value in counts.items():
            if counter in wanted:
                period[counter] += value
    data: list[dict[str, Any]] = []
    listed: set[Micros] = set()
    total = 0
    for bot in sorted(per_bot):
        series = []
        for start, counts in sorted(per_bot[bot].items()):
            if not any(counts.values()):
                continue
            listed.add(start)
            total += sum(counts.values())
            series.append({"date": iso_millis(start), "val": counts})
        if series:
            data.append({"bot": bot, "val": series})
    if not grouped and not data:
        data.append({"bot": ALL_BOTS, "val": []})
    return {"data": data, "averageSessions": total // len(listed) if listed else 0}
