"""Operations endpoints, error rendering of unknown routes, and ``botbill serve`` end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from botbill.app import create_app
from botbill.kit.db import build_engine
from botbill.settings import Settings
from tests.conftest import Server, free_port
from tests.factories import (
    BOTBILL,
    T0,
    add_app,
    auth,
    event,
    make_workspace,
    problem,
    run_botbill,
    serving,
)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        metric_name, _, rest = sample.partition("{")
        if metric_name != name:
            continue
        found = ",".join(sorted(part for part in rest.rstrip("}").split(",") if part))
        if found == wanted:
            return float(value)
    return 0.0


def test_healthz_needs_no_key(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_database(server: Server, http: httpx.Client) -> None:
    response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": server.engine.dialect.name}


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    port = free_port()  # nothing listens there
    settings = Settings(
        environment="test",
        database_url=f"postgresql://nobody@127.0.0.1:{port}/nowhere",
        migrate_on_start=False,
        jobs_enabled=False,
    )
    with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        body = problem(client.get("/readyz"), 503)
        assert "database" in body["detail"]
        assert "nobody" not in body["detail"]  # no connection details leak


def test_metrics_count_requests_by_route_and_events(server: Server, http: httpx.Client) -> None:
    workspace_id, key = make_workspace(server.engine)
    add_app(server.engine, workspace_id=workspace_id, app_id="support-bot")
    before = http.get("/metrics").text
    batch = [
        event("conversation.started", at=T0, id="e-1", conversation_id="c-1"),
        event("conversation.started", at=T0, id="e-2", conversation_id="c-2"),
    ]
    assert http.post("/v1/events", json=batch, headers=auth(key)).json() == {
        "accepted": 2,
        "duplicates": 0,
    }
    http.post("/v1/events", json=batch[:1], headers=auth(key))
    http.get("/v1/apps/secret-looking-id-123", headers=auth(key))

    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    assert "# TYPE botbill_http_requests_total counter" in after
    assert "# TYPE botbill_http_request_duration_seconds histogram" in after
    assert (
        metric(after, "botbill_events_accepted_total")
        - metric(before, "botbill_events_accepted_total")
        == 2
    )
    assert (
        metric(after, "botbill_events_duplicate_total")
        - metric(before, "botbill_events_duplicate_total")
        == 1
    )
    labels = {"method": "POST", "route": "/v1/events", "status": "200"}
    assert (
        metric(after, "botbill_http_requests_total", **labels)
        - metric(before, "botbill_http_requests_total", **labels)
        == 2
    )
    # Routes are labelled by template, never by the raw path.
    assert 'route="/v1/apps/{app_id}"' in after
    assert "secret-looking-id-123" not in after


def test_unknown_route_and_method_are_problem_json(http: httpx.Client) -> None:
    problem(http.get("/v1/nothing-here"), 404)
    problem(http.delete("/v1/apps"), 405)


def test_openapi_documents_the_contract(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/events", "/v1/apps", "/v1/apps/{app_id}", "/v1/apps/{app_id}/owner"):
        assert path in paths
    assert "/v1/members/{email}" in paths
    assert {"get", "post"} <= set(paths["/v1/apps"])
    assert {"patch", "delete"} <= set(paths["/v1/members/{email}"])
    content = paths["/v1/events"]["post"]["requestBody"]["content"]
    assert "application/cloudevents-batch+json" in content
    docs = http.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


# -- end to end: the real command ----------------------------------------------------------


def pending_rows(database_url: str) -> int:
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT count(*) FROM metering_pending")).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``botbill serve`` as a subprocess over a fresh SQLite file: (base URL, database URL)."""
    database_url = f"sqlite:///{tmp_path / 'botbill.db'}"
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("BOTBILL_")}
    env |= {"BOTBILL_DATABASE_URL": database_url, "BOTBILL_LOG_FORMAT": "text"}
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [str(BOTBILL), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "botbill serve did not start"
                time.sleep(0.1)
            yield url, database_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_botbill_serve_end_to_end(served: tuple[str, str]) -> None:
    url, database_url = served
    created = run_botbill("workspace", "create", "Acme", "--json", database_url=database_url)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["api_key"]
    now = datetime.now(UTC)
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready", "database": "sqlite"}
        app = client.post("/v1/apps", json={"id": "support-bot", "name": "S"}, headers=auth(key))
        assert app.status_code == 201, app.text
        batch = [
            event("conversation.started", at=now - timedelta(minutes=2), conversation_id="c-1"),
            event(
                "conversation.message",
                at=now - timedelta(minutes=1),
                conversation_id="c-1",
                sender="user",
            ),
        ]
        ingested = client.post(
            "/v1/events",
            content=json.dumps(batch),
            headers={**auth(key), "content-type": "application/cloudevents-batch+json"},
        )
        assert ingested.json() == {"accepted": 2, "duplicates": 0}
        future = event("alert.delivered", at=now + timedelta(hours=1))
        problem(client.post("/v1/events", json=future, headers=auth(key)), 422)

        # The worker process that serve started meters it in the background, unasked.
        deadline = time.monotonic() + 20
        while pending_rows(database_url):
            assert time.monotonic() < deadline, "the worker did not meter the events"
            time.sleep(0.2)

        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert metric(metrics.text, "botbill_events_accepted_total") == 2
        assert re.search(r"^botbill_http_requests_total\{", metrics.text, re.MULTILINE)

        schema = client.get("/openapi.json")
        assert schema.status_code == 200
        assert "/v1/events" in schema.json()["paths"]
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()


def test_the_api_docs_load_every_asset_from_botbill_itself(http: httpx.Client) -> None:
    page = http.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/docs/static/swagger-ui-bundle.js" in assets
    assert all(asset.startswith("/") for asset in assets), assets  # no CDN, no other host
    for asset in assets:
        assert http.get(asset).status_code == 200, asset
    assert http.get("/redoc").status_code == 404  # ReDoc would load from a CDN
