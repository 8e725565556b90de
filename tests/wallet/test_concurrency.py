"""Parallel money requests: each app's money moves one request at a time, exactly."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import Server
from tests.factories import auth
from tests.wallet.accounts import add_funds, balance_of, funded_app, tenant

PARALLEL = 8


def test_parallel_repeats_of_one_key_add_funds_once(server: Server) -> None:
    who = tenant(server.engine)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        funded_app(http, server.engine, who, plan="standard")

    def once(_: int) -> tuple[int, str]:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            response = add_funds(client, key=who.key, headers={"Idempotency-Key": "one"})
            return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(once, range(PARALLEL)))
    assert {status for status, _ in results} == {201}
    assert len({order_id for _, order_id in results}) == 1
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert balance_of(http, key=who.key) == 25_000


def test_parallel_orders_all_land(server: Server) -> None:
    who = tenant(server.engine)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        funded_app(http, server.engine, who, plan="standard")

    def once(index: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return add_funds(client, key=who.key, amount=10_000 + index).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        assert set(pool.map(once, range(PARALLEL))) == {201}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert balance_of(http, key=who.key) == sum(10_000 + i for i in range(PARALLEL))


def test_parallel_upgrades_pay_once(server: Server) -> None:
    who = tenant(server.engine)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        funded_app(http, server.engine, who, plan="standard", amount=60_000)

    def once(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return client.post(
                "/v1/apps/support-bot/subscription/change",
                json={"plan": "advanced"},
                headers=auth(who.key),
            ).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = Counter(pool.map(once, range(PARALLEL)))
    assert statuses == {200: 1, 409: PARALLEL - 1}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert balance_of(http, key=who.key) == 60_000 - 49_900
