"""Deliveries over HTTP: listed with attempts and response codes, and replayed."""

from __future__ import annotations

import httpx

from botbill.webhooks.sender import deliver_due, new_client
from tests.conftest import Server
from tests.factories import auth, problem
from tests.wallet.accounts import add_funds, new_app, tenant
from tests.webhooks.announced import subscribe
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import real_now


def deliver(server: Server) -> int:
    with new_client() as client:
        return deliver_due(server.engine, client, now=real_now(), production=False)


def test_deliveries_are_listed_and_a_replay_sends_the_event_again(
    server: Server, http: httpx.Client
) -> None:
    acme = tenant(server.engine)
    new_app(http, server.engine, acme, plan="standard")
    with receiving(500) as receiver:
        created = subscribe(http, acme.key, "order.paid", url=receiver.url)
        order = add_funds(http, key=acme.key).json()
        assert deliver(server) == 1
        path = f"/v1/webhook-endpoints/{created['id']}/deliveries"
        [first] = http.get(path, headers=auth(acme.key)).json()["items"]
        assert first["event_type"] == "order.paid"
        assert (first["status"], first["attempts"], first["last_response_code"]) == (
            "pending",
            1,
            500,
        )
        assert first["next_attempt_at"] is not None

        response = http.post(f"/v1/webhook-deliveries/{first['id']}/retry", headers=auth(acme.key))
        assert response.status_code == 202, response.text
        replay = response.json()
        assert (replay["status"], replay["attempts"], replay["event_id"]) == (
            "pending",
            0,
            first["event_id"],
        )
        assert deliver(server) == 1
    assert [r.headers["webhook-id"] for r in receiver.received] == [first["event_id"]] * 2
    assert receiver.received[1].verified(created["secret"])["data"]["order_id"] == order["id"]
    listed = http.get(path, headers=auth(acme.key)).json()["items"]
    by_id = {d["id"]: d for d in listed}
    assert by_id[replay["id"]]["status"] == "succeeded"
    assert by_id[replay["id"]]["last_response_code"] == 200
    assert by_id[first["id"]]["attempts"] == 1
    log = http.get("/v1/audit-log", headers=auth(acme.key)).json()["items"]
    assert log[0]["action"] == "webhook_delivery.retried"
    assert log[0]["after"]["delivery_id"] == replay["id"]


def test_a_replay_is_refused_for_another_workspace_or_a_disabled_endpoint(
    server: Server, http: httpx.Client
) -> None:
    acme = tenant(server.engine)
    other = tenant(server.engine, name="Other")
    new_app(http, server.engine, acme, plan="standard")
    created = subscribe(http, acme.key, "order.paid")
    add_funds(http, key=acme.key)
    path = f"/v1/webhook-endpoints/{created['id']}/deliveries"
    [delivery] = http.get(path, headers=auth(acme.key)).json()["items"]
    retry = f"/v1/webhook-deliveries/{delivery['id']}/retry"
    problem(http.post(retry, headers=auth(other.key)), 404)
    problem(http.post("/v1/webhook-deliveries/dlv_nothing/retry", headers=auth(acme.key)), 404)
    http.patch(
        f"/v1/webhook-endpoints/{created['id']}", json={"enabled": False}, headers=auth(acme.key)
    )
    body = problem(http.post(retry, headers=auth(acme.key)), 409)
    assert "disabled" in body["detail"]
    assert len(http.get(path, headers=auth(acme.key)).json()["items"]) == 1
