"""``botbill import``: JSON lines backfill with a per-line report, run as the real command.

The command runs on the system clock, so the events here are placed relative to now.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from botbill.kit.db import build_engine
from botbill.kit.instants import to_micros
from botbill.migrations import upgrade
from tests.factories import add_app, event, make_workspace, run_botbill, stored_events


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'botbill.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def workspace_id(engine: Engine) -> str:
    workspace_id, _ = make_workspace(engine)
    add_app(engine, workspace_id=workspace_id, app_id="support-bot")
    return workspace_id


NOW = datetime.now(UTC).replace(microsecond=0)


def line(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def write_lines(path: Path, values: list[Any]) -> Path:
    path.write_text("".join(line(value) + "\n" for value in values))
    return path


def summary_of(result: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_import_reports_accepted_duplicates_and_rejected_lines(
    tmp_path: Path, database_url: str, engine: Engine, workspace_id: str
) -> None:
    old = event(
        "conversation.message",
        at=NOW - timedelta(days=90),
        id="old",
        conversation_id="c-1",
        sender="user",
    )
    lines = [
        old,  # 1: far older than the HTTP backfill window: fine for import
        event("conversation.started", at=NOW - timedelta(hours=2), id="s-1", conversation_id="c-2"),
        "",  # 3: blank lines are skipped but still counted
        '{"specversion": "1.0", "id": ',  # 4: not JSON
        event("conversation.paused", at=NOW, id="p-1", conversation_id="c-2"),  # 5: unknown type
        old | {"data": {"conversation_id": "c-1", "sender": "bot"}},  # 6: a duplicate
        event("conversation.started", at=NOW, app="no-such-bot", id="u-1", conversation_id="c"),
        event("alert.delivered", at=NOW + timedelta(hours=1), id="f-1"),  # 8: in the future
        event("alert.delivered", at=NOW - timedelta(days=400), id="a-1"),  # 9
        event("conversation.message", at=NOW, id="m-9", conversation_id="c-2", sender="robot"),
    ]
    path = write_lines(tmp_path / "events.jsonl", lines)
    result = run_botbill(
        "import", str(path), "--workspace", workspace_id, "--quiet", database_url=database_url
    )
    assert result.returncode == 1, result.stderr
    summary = summary_of(result)
    assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (3, 1, 5)
    rejected = {entry["line"]: entry["reason"] for entry in summary["rejected_lines"]}
    assert sorted(rejected) == [4, 5, 7, 8, 10]
    assert "conversation.paused" in rejected[5]
    assert "subject" in rejected[7]
    assert "no-such-bot" in rejected[7]
    assert rejected[8].startswith("time")
    assert "sender" in rejected[10]
    assert all(reason.strip() for reason in rejected.values())

    rows = {row.event_id: row for row in stored_events(engine)}
    assert set(rows) == {"old", "s-1", "a-1"}
    assert rows["old"].sender == "user"  # the first one won
    assert rows["old"].time == to_micros(NOW - timedelta(days=90))
    assert rows["old"].workspace_id == workspace_id


def test_clean_import_exits_0_and_a_repeat_is_all_duplicates(
    tmp_path: Path, database_url: str, engine: Engine, workspace_id: str
) -> None:
    start = NOW - timedelta(days=50)
    lines = [
        event("conversation.started", at=start, conversation_id="c-1"),
        event("conversation.message", at=start, conversation_id="c-1", sender="user"),
        event("conversation.ended", at=start + timedelta(minutes=3), conversation_id="c-1"),
        event("agent.seat_assigned", at=start, agent_id="a-1"),
    ]
    path = write_lines(tmp_path / "events.jsonl", lines)
    args = ("import", str(path), "--workspace", workspace_id, "--quiet")
    first = run_botbill(*args, database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert summary_of(first) == {
        "accepted": 4,
        "duplicates": 0,
        "rejected": 0,
        "rejected_lines": [],
    }
    again = run_botbill(*args, database_url=database_url)
    assert again.returncode == 0, again.stderr
    assert summary_of(again) == {
        "accepted": 0,
        "duplicates": 4,
        "rejected": 0,
        "rejected_lines": [],
    }
    assert len(stored_events(engine)) == 4


def test_import_reads_stdin(database_url: str, engine: Engine, workspace_id: str) -> None:
    lines = [
        event("alert.delivered", at=NOW - timedelta(days=60), id="a-1"),
        event("alert.delivered", at=NOW - timedelta(days=1), id="a-2"),
    ]
    result = run_botbill(
        "import",
        "-",
        "--workspace",
        workspace_id,
        "--quiet",
        database_url=database_url,
        stdin="".join(line(value) + "\n" for value in lines),
    )
    assert result.returncode == 0, result.stderr
    assert summary_of(result)["accepted"] == 2
    assert sorted(row.event_id for row in stored_events(engine)) == ["a-1", "a-2"]


def test_import_of_a_missing_file_is_a_clear_error(
    tmp_path: Path, database_url: str, engine: Engine, workspace_id: str
) -> None:
    missing = tmp_path / "nowhere.jsonl"
    result = run_botbill(
        "import", str(missing), "--workspace", workspace_id, "--quiet", database_url=database_url
    )
    assert result.returncode not in (0, 1)
    assert "nowhere.jsonl" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert stored_events(engine) == []


def test_import_into_an_unknown_workspace_is_a_clear_error(
    tmp_path: Path, database_url: str, engine: Engine, workspace_id: str
) -> None:
    path = write_lines(tmp_path / "events.jsonl", [event("alert.delivered", at=NOW)])
    result = run_botbill(
        "import", str(path), "--workspace", "ws_nope", "--quiet", database_url=database_url
    )
    assert result.returncode not in (0, 1)
    assert "ws_nope" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert stored_events(engine) == []


def test_import_of_many_lines_spans_batches(
    tmp_path: Path, database_url: str, engine: Engine, workspace_id: str
) -> None:
    lines: list[Any] = [
        event("alert.delivered", at=NOW - timedelta(days=40, seconds=n), id=f"a-{n}")
        for n in range(4_500)
    ]
    lines[3_000] = lines[3_000] | {"id": ""}  # a bad line in the second batch
    path = write_lines(tmp_path / "events.jsonl", lines)
    result = run_botbill(
        "import", str(path), "--workspace", workspace_id, "--quiet", database_url=database_url
    )
    assert result.returncode == 1, result.stderr
    summary = summary_of(result)
    assert (summary["accepted"], summary["rejected"]) == (4_499, 1)
    assert [entry["line"] for entry in summary["rejected_lines"]] == [3_001]
    assert summary["rejected_lines"][0]["reason"].startswith("id")
    assert len(stored_events(engine)) == 4_499
