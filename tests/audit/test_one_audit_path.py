"""One action, one audit entry, whichever way it came in: the command line and HTTP record
the same action, target, before and after; only the actor says which way it came."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from botbill.audit.models import AuditEntry
from botbill.kit.db import unit_of_work
from tests.conftest import Server
from tests.factories import auth, run_botbill
from tests.wallet.accounts import Tenant, funded_app, operator_key, tenant


def entries(server: Server, who: Tenant) -> list[dict[str, Any]]:
    """The workspace's audit entries, with its own id written as ``WS``."""
    with unit_of_work(server.engine, write=False) as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.workspace_id == who.workspace_id)
            .order_by(AuditEntry.id)
        ).all()
        return [
            {
                "actor_kind": row.actor_kind,
                "action": row.action,
                "target": row.target.replace(who.workspace_id, "WS"),
                "before": row.before,
                "after": row.after,
            }
            for row in rows
        ]


def twin(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="standard", amount=10_000)
    return who


def test_a_workspace_moved_by_the_cli_and_over_http_is_recorded_alike(
    database_url: str, server: Server, http: httpx.Client
) -> None:
    by_http, by_cli = twin(server, http), twin(server, http)
    baseline = len(entries(server, by_http))
    assert baseline == len(entries(server, by_cli))

    response = http.put(
        f"/v1/workspaces/{by_http.workspace_id}/account-type",
        json={"account_type": "enterprise"},
        headers=auth(operator_key(server.engine)),
    )
    assert response.status_code == 200, response.text
    moved = run_botbill(
        "operator",
        "workspace",
        "account-type",
        by_cli.workspace_id,
        "enterprise",
        database_url=database_url,
    )
    assert moved.returncode == 0, moved.stderr

    [over_http] = entries(server, by_http)[baseline:]
    [from_cli] = entries(server, by_cli)[baseline:]
    assert (over_http.pop("actor_kind"), from_cli.pop("actor_kind")) == ("operator", "cli")
    assert over_http == from_cli
    assert over_http["action"] == "workspace.account_type_changed"
    assert over_http["before"] == {"account_type": "self-serve"}
