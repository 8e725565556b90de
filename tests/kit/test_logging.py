"""Log lines on stderr: text for a terminal, JSON for a collector, unless told which."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from botbill.kit.logging import LogFormat, configure_logging, resolved_format
from botbill.settings import Settings


class Stderr(io.StringIO):
    def __init__(self, *, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def log_request(monkeypatch: pytest.MonkeyPatch, fmt: LogFormat, *, terminal: bool) -> str:
    stderr = Stderr(terminal=terminal)
    monkeypatch.setattr("sys.stderr", stderr)
    configure_logging(fmt=fmt, level="INFO")
    logging.getLogger("botbill.http").info(
        "request", extra={"method": "GET", "route": "/v1/usage", "status": 200, "ms": 1.5}
    )
    return stderr.getvalue()


@pytest.mark.parametrize(
    ("fmt", "terminal", "expected"),
    [
        ("auto", True, "text"),
        ("auto", False, "json"),
        ("text", False, "text"),
        ("json", True, "json"),
    ],
)
def test_auto_is_text_on_a_terminal_and_a_choice_wins(
    fmt: LogFormat, terminal: bool, expected: str
) -> None:
    assert resolved_format(fmt, terminal=terminal) == expected


def test_the_default_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOTBILL_LOG_FORMAT", raising=False)
    assert Settings().log_format == "auto"


def test_a_terminal_reads_text_with_the_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    line = log_request(monkeypatch, "auto", terminal=True)
    assert line.endswith(" botbill.http request method=GET route=/v1/usage status=200 ms=1.5\n")
    assert " INFO " in line
    assert not line.startswith("{")


def test_elsewhere_each_line_is_one_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = json.loads(log_request(monkeypatch, "auto", terminal=False))
    assert entry["level"] == "info"
    assert entry["logger"] == "botbill.http"
    assert entry["message"] == "request"
    assert (entry["route"], entry["status"]) == ("/v1/usage", 200)


def test_text_quotes_a_field_with_spaces_and_shows_the_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stderr = Stderr(terminal=False)
    monkeypatch.setattr("sys.stderr", stderr)
    configure_logging(fmt="text", level="INFO")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("botbill.http").exception("failed", extra={"path": "/v1/a b"})
    first, *rest = stderr.getvalue().splitlines()
    assert first.endswith('failed path="/v1/a b"')
    assert rest[0].startswith("Traceback")
    assert rest[-1] == "RuntimeError: boom"
