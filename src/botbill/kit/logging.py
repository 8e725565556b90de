"""Logs on stderr: readable lines on a terminal, one JSON object per line elsewhere."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

LogFormat = Literal["auto", "json", "text"]


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed as ``extra=``: the fields beyond the standard ones."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...``: the extra fields stay on the line (a
    request's route, status and time), quoted where they hold spaces."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{self.formatTime(record)} {record.levelname:<7} {record.name} {record.getMessage()}"
        )
        for key, value in _extra_fields(record).items():
            if key == "color_message":  # uvicorn's message again, with terminal escapes
                continue
            text = str(value)
            if not text or any(char.isspace() or char == '"' for char in text):
                text = orjson.dumps(text).decode()
            line += f" {key}={text}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def resolved_format(fmt: LogFormat, *, terminal: bool) -> Literal["json", "text"]:
    """``auto`` is text for a person at a terminal and JSON for a log collector."""
    if fmt == "auto":
        return "text" if terminal else "json"
    return fmt


def configure_logging(*, fmt: LogFormat, level: str) -> None:
    stream = sys.stderr
    handler = logging.StreamHandler(stream)
    if resolved_format(fmt, terminal=stream.isatty()) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Requests are logged once, by botbill's own middleware, with their route and timing.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
