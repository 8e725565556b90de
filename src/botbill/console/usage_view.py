"""What the Usage page shows of a usage report: the filters it offers, the graph's points
and the table's rows. Plain values in, plain values out; the page reads the report from
the same service as ``GET /v1/usage``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from botbill.console.chart import ChartPoint
from botbill.usage.buckets import Granularity, RangeKind
from botbill.usage.schemas import UsagePoint

RANGE_NAMES = {
    RangeKind.LAST_24_HOURS: "Last 24 hours",
    RangeKind.LAST_7_DAYS: "Last 7 days",
    RangeKind.LAST_30_DAYS: "Last 30 days",
    RangeKind.CUSTOM: "Custom dates",
}
GRAIN_NAMES = {
    Granularity.HOUR: "Hour",
    Granularity.DAY: "Day",
    Granularity.WEEK: "Week",
    Granularity.MONTH: "Month",
}


def granularities(range: RangeKind) -> tuple[Granularity, ...]:
    """The buckets the filter offers for a range (SPEC §2.8): the last 24 hours are hourly;
    hours need a range of at most 7 days, so the last 30 days offer none; a custom range
    offers all four and the window rule refuses hours beyond 7 days, saying so."""
    if range is RangeKind.LAST_24_HOURS:
        return (Granularity.HOUR,)
    if range is RangeKind.LAST_30_DAYS:
        return (Granularity.DAY, Granularity.WEEK, Granularity.MONTH)
    return tuple(Granularity)


@dataclass(frozen=True, slots=True)
class UsageFilters:
    """The page's query, as the form shows it back."""

    app_id: str | None
    range: RangeKind
    granularity: Granularity | None
    from_date: date | None
    to_date: date | None

    def query(self) -> dict[str, str]:
        """The same filters as query parameters (for the CSV link)."""
        params = {"range": self.range.value}
        if self.app_id:
            params["app_id"] = self.app_id
        if self.granularity is not None:
            params["granularity"] = self.granularity.value
        if self.range is RangeKind.CUSTOM:
            if self.from_date is not None:
                params["from"] = self.from_date.isoformat()
            if self.to_date is not None:
                params["to"] = self.to_date.isoformat()
        return params


def bucket_label(start: str, granularity: Granularity) -> str:
    """The tooltip's Date: the bucket's local date, and its hour for hourly buckets.

    ``start`` is the bucket's RFC 3339 start with its local offset, as ``/v1/usage``
    gives it, so the label is read off it and never recomputed in another timezone.
    """
    if granularity is Granularity.HOUR:
        return f"{start[:10]} {start[11:16]}"
    return start[:10]


def chart_points(series: Sequence[UsagePoint], granularity: Granularity) -> list[ChartPoint]:
    """The graph's points; an hour that happens twice (clocks falling back) says which
    run it is by its UTC offset."""
    labels = [bucket_label(point.start, granularity) for point in series]
    repeated = {label for label, count in Counter(labels).items() if count > 1}
    return [
        ChartPoint(
            date=f"{label} (UTC{point.start[19:]})" if label in repeated else label,
            sessions=point.billing_sessions,
            voice_sessions=point.voice_sessions,
            agents=point.agents,
        )
        for label, point in zip(labels, series, strict=True)
    ]
