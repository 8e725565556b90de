"""``botbill rollups rebuild``: every workspace's metering recomputed from its raw events,
the same usage afterwards."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.conftest import Server
from tests.factories import T0, auth, event, make_app, make_workspace, run_botbill, send_events


def test_rebuild_replays_every_workspace_and_changes_no_count(
    database_url: str, server: Server, http: httpx.Client
) -> None:
    keys = [make_workspace(server.engine, name=name)[1] for name in ("Acme", "Globex")]
    for key in keys:
        make_app(http, key=key)
        talk = [
            event(
                "conversation.message",
                at=T0 - timedelta(minutes=40),
                conversation_id="c",
                sender="user",
            ),
            event("conversation.ended", at=T0 - timedelta(minutes=9), conversation_id="c"),
            event("alert.delivered", at=T0 - timedelta(minutes=5)),
        ]
        assert send_events(http, key=key, body=talk).status_code == 200

    def totals() -> list[dict[str, int]]:
        return [http.get("/v1/usage?range=24h", headers=auth(key)).json()["totals"] for key in keys]

    before = totals()
    assert (before[0]["usage_sessions"], before[0]["alert_sessions"]) == (1, 1)
    rebuilt = run_botbill("rollups", "rebuild", database_url=database_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stderr.count("3 events replayed") == 2
    assert totals() == before
