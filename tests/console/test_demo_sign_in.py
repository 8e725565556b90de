"""The demo's console: the sign-ins ``botbill demo`` prints work, and keep working."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from botbill.cli.demo import _print_console
from botbill.demo.build import build_demo
from botbill.demo.people import DEMO_PASSWORD, demo_sign_ins
from tests.conftest import Server
from tests.console.kit import ConsoleClient, sqlite_only

Clients = Callable[[], ConsoleClient]


@sqlite_only
def test_the_printed_sign_ins_open_the_demo_console(
    server: Server, console_client: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    built = build_demo(server.engine, server.clock, days=2, scale=0.2)
    sign_ins = demo_sign_ins(server.engine, server.clock, built.workspace_id)
    assert [s.role for s in sign_ins] == ["owner", "admin", "shared", "operator"]
    _print_console("127.0.0.1", 8000, sign_ins)
    printed = capsys.readouterr().out
    assert "Console: http://127.0.0.1:8000/console" in printed
    by_role = {s.role: s.email for s in sign_ins}
    assert f"Admin:                {by_role['admin']}" in printed
    assert f"Shared account user:  {by_role['shared']}" in printed
    assert f"Password:             {DEMO_PASSWORD}" in printed
    assert "demo-only password" in printed

    admin, shared = console_client(), console_client()
    assert admin.sign_in(by_role["admin"], DEMO_PASSWORD).status_code == 303
    assert shared.sign_in(by_role["shared"], DEMO_PASSWORD).status_code == 303
    base = f"/console/w/{built.workspace_id}"
    assert admin.get(f"{base}/billing-sessions").status_code == 200
    assert admin.get(f"{base}/orders").status_code == 200
    assert shared.get(f"{base}/plan").status_code == 403

    # A reused demo keeps its passwords, and so its people's sessions.
    demo_sign_ins(server.engine, server.clock, built.workspace_id)
    assert admin.get(f"{base}/billing-sessions").status_code == 200
