"""The served OpenAPI schema says what the API answers: every error as problem+json,
generated from the route table, so a route added later is documented without a test."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from botbill.app import create_app
from botbill.auth.dependencies import Admin, OperatorDep
from botbill.kit.problems import PROBLEM_CONTENT_TYPE
from botbill.settings import Settings
from tests.conftest import Server
from tests.factories import auth, make_app, make_workspace

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = {"get", "post", "put", "patch", "delete"}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def served_schema(routers: tuple[APIRouter, ...] = ()) -> dict[str, Any]:
    app = create_app(Settings(environment="test", database_url="sqlite://", jobs_enabled=False))
    for router in routers:
        app.include_router(router)
    schema: dict[str, Any] = app.openapi()
    return schema


def test_usage_report_is_documented_as_served(server: Server, http: httpx.Client) -> None:
    """Regression: the schema required ``from_`` while the body carries ``from``."""
    _, key = make_workspace(server.engine)
    make_app(http, key=key)
    schema = http.get("/openapi.json").json()
    report = schema["components"]["schemas"]["UsageReport"]
    body = http.get("/v1/usage", params={"range": "7d"}, headers=auth(key)).json()
    assert set(report["required"]) == set(body) == set(report["properties"])
    assert "from" in body
    assert "from_" not in report["properties"]
    assert list(body)[4:6] == ["from", "to"]  # API.md's order


def test_every_error_is_a_problem_and_fastapis_shape_is_gone() -> None:
    schema = served_schema()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "ValidationError" not in schema["components"]["schemas"]
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for method, path, operation in operations(schema):
        if path.startswith("/api/public/"):
            continue
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}, (
                    method,
                    path,
                    status,
                )
                assert response["description"].strip()


def test_statuses_follow_from_each_route() -> None:
    schema = served_schema()
    documented = {(m, p): set(op["responses"]) for m, p, op in operations(schema)}
    assert {"401", "403", "404", "422"} <= documented["GET", "/v1/apps/{app_id}"]
    assert {"401", "403", "422"} <= documented["POST", "/v1/events"]
    assert {"401", "403", "404", "422"} <= documented["GET", "/v1/usage"]  # ?app_id=
    assert {"401", "403", "402", "404", "422"} <= documented["POST", "/v1/apps/{app_id}/funds"]
    assert "404" not in documented["GET", "/v1/members"]
    assert documented["GET", "/healthz"] == {"200"}
    assert {"400", "413", "415", "429"} <= documented["POST", "/v1/events"]
    for conflicted in (
        ("POST", "/v1/apps"),
        ("POST", "/v1/members"),
        ("POST", "/v1/apps/{app_id}/subscription/change"),
        ("POST", "/v1/orders/{order_id}/confirm-payment"),
        ("POST", "/v1/apps/{app_id}/funds"),  # an Idempotency-Key reused: make fuzz
    ):
        assert "409" in documented[conflicted], conflicted
    events = schema["paths"]["/v1/events"]["post"]["responses"]
    assert "Retry-After" in events["429"]["headers"]
    for method, path, operation in operations(schema):
        if "requestBody" in operation and not path.startswith("/api/public/"):
            assert {"400", "422"} <= set(operation["responses"]), (method, path)
    for (_, path), statuses in documented.items():
        if path.startswith("/v1/") and not path.startswith("/v1/public"):
            assert {"401", "403"} <= statuses, path
        if "{" in path:
            assert "404" in statuses, path


def test_a_new_route_is_documented_without_a_test_of_its_own() -> None:
    router = APIRouter()

    @router.delete("/v1/gadgets/{gadget_id}", status_code=204, responses={409: {}})
    def remove_gadget(gadget_id: str, caller: Admin) -> None:
        """A route that does not exist yet."""

    @router.get("/v1/operator/gadgets")
    def list_gadgets(caller: OperatorDep) -> list[str]:
        return []

    schema = served_schema((router,))
    removal = schema["paths"]["/v1/gadgets/{gadget_id}"]["delete"]
    assert set(removal["responses"]) == {"204", "401", "403", "404", "409", "422"}
    assert removal["responses"]["409"]["content"][PROBLEM_CONTENT_TYPE]["schema"] == PROBLEM_REF
    assert removal["security"] == [{"ApiKey": []}]
    listing = schema["paths"]["/v1/operator/gadgets"]["get"]
    assert set(listing["responses"]) == {"200", "401", "403"}
    assert listing["security"] == [{"OperatorKey": []}]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"]["scheme"] == schemes["OperatorKey"]["scheme"] == "bearer"


@pytest.mark.parametrize("status", ["400", "401", "403", "429"])
def test_platform_routes_keep_their_own_error_shape(status: str) -> None:
    router = APIRouter()

    @router.post("/api/public/bot/{bot_id}/report")
    def report(bot_id: str) -> dict[str, str]:
        return {}

    schema = served_schema((router,))
    responses = schema["paths"]["/api/public/bot/{bot_id}/report"]["post"]["responses"]
    assert "422" not in responses
    assert "404" in responses
    platform = {"$ref": "#/components/schemas/PlatformErrors"}
    assert responses[status]["content"] == {"application/json": {"schema": platform}}
