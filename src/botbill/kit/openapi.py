"""The served OpenAPI schema, with every error an operation can answer documented.

FastAPI documents a route's success and, where it has parameters, a 422 in its own
validation shape (``HTTPValidationError`` as ``application/json``) that no client ever
receives: errors are ``application/problem+json``. This post-processor reads the route
table, not a list of paths, so a new route is documented the moment it is added:

- its security scheme, and 401 and 403, on every route that checks a caller (its
  dependencies include one of the ``authenticated`` checks);
- 404 on every route naming a thing by id: a path parameter, or a query parameter
  ``…_id`` (another workspace's id answers the same as an unknown one);
- 422 wherever there is input (parameters, or a body, even one the route reads itself
  and describes in ``openapi_extra``), and 400 where there is a body (one that is not
  UTF-8 text cannot even be parsed);
- 409 where a request carries an ``Idempotency-Key`` (the key reused for another request);
- what a route declares itself (``responses={409: {"description": ...}}``: 402, 409,
  413, 429…), rendered as problem responses too.

Operations under a :class:`ForeignErrors` prefix keep another API's error shape; they
are documented in that shape instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from botbill.kit.problems import PROBLEM_CONTENT_TYPE

PROBLEM = "Problem"
PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    PROBLEM: {
        "title": "Problem",
        "description": "An error (RFC 9457).",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "examples": ["urn:botbill:problem:validation-error"]},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "Each invalid field, where the input was wrong.",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
        },
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "required": ["loc", "msg"],
        "properties": {
            "loc": {
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "examples": [["body", "events", 3, "time"]],
            },
            "msg": {"type": "string"},
        },
    },
}

DESCRIPTIONS = {
    400: "Malformed request",
    401: "No or bad credentials",
    402: "Payment refused; nothing changed",
    403: "Not allowed: the key's scope, an operator action, the plan or account type",
    404: "Unknown id, or another workspace's (never said which)",
    409: "Conflicts with the current state; nothing changed",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input; `errors` names each invalid field",
    429: "Refused for now, nothing kept; send it again after `Retry-After` seconds",
    503: "Not ready",
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again.",
        "schema": {"type": "integer"},
    }
}

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


@dataclass(frozen=True, slots=True)
class BearerScheme:
    """A bearer-token security scheme, named in each operation whose caller check it is."""

    name: str
    description: str

    def as_openapi(self) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": self.description}


@dataclass(frozen=True, slots=True)
class ForeignErrors:
    """Operations under ``prefix`` answer errors as ``schema`` (``media_type``), with
    ``statuses`` (and 404 where an id is in the path), never problem+json."""

    prefix: str
    name: str
    schema: dict[str, Any]
    statuses: frozenset[int]
    media_type: str = "application/json"


def platform_errors(prefix: str) -> ForeignErrors:
    """The ``{"errors": [{"msg", "code"}]}`` shape of an API kept as another platform
    wrote it: 400 for bad input, 401, 403, 429."""
    return ForeignErrors(
        prefix=prefix,
        name="PlatformErrors",
        schema={
            "title": "PlatformErrors",
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["msg", "code"],
                        "properties": {"msg": {"type": "string"}, "code": {"type": "integer"}},
                    },
                }
            },
        },
        statuses=frozenset({400, 401, 403, 429}),
    )


def install(
    app: FastAPI,
    *,
    authenticated: Mapping[Callable[..., Any], BearerScheme],
    foreign: Sequence[ForeignErrors] = (),
) -> None:
    """Serve ``app``'s schema with its problem responses and security requirements.

    ``authenticated``: each caller check (a dependency) and the scheme it accepts.
    FastAPI builds the schema again when routes are added; each new build is documented
    once."""
    checks = dict(authenticated)
    build = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = build()
        if not documented or documented[0] is not schema:
            document_errors(schema, app.routes, checks, foreign)
            documented[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(
    schema: dict[str, Any],
    routes: Sequence[BaseRoute],
    authenticated: Mapping[Callable[..., Any], BearerScheme],
    foreign: Sequence[ForeignErrors],
) -> dict[str, Any]:
    """``schema`` (changed in place) with the errors and security of every operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    schemes = schema["components"].setdefault("securitySchemes", {})
    for scheme in authenticated.values():
        schemes[scheme.name] = scheme.as_openapi()
    for context in iter_route_contexts(routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context  # an APIRoute as included (prefix and dependencies applied)
        if not route.include_in_schema:
            continue
        path = _openapi_path(route.path_format)
        shape = next((f for f in foreign if path.startswith(f.prefix)), None)
        for method in route.methods:
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            security = _security(route.dependant, authenticated)
            if security:
                operation["security"] = security
            if shape is None:
                has_body = "requestBody" in (route.openapi_extra or {})
                _problem_responses(route.dependant, responses, bool(security), has_body=has_body)
            else:
                _foreign_responses(route.dependant, responses, shape)
                components[shape.name] = shape.schema
            operation["responses"] = dict(sorted(responses.items()))
    components.update(PROBLEM_SCHEMAS)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    return schema


def _problem_responses(
    dependant: Dependant, responses: dict[str, Any], authenticated: bool, *, has_body: bool
) -> None:
    statuses = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    if authenticated:
        statuses |= {401, 403}
    if _names_an_id(dependant):
        statuses.add(404)
    if has_body or any(d.body_params for d in _dependants(dependant)):
        statuses.add(400)  # a body that is not even text (FastAPI: "error parsing the body")
    if has_body or _has_input(dependant):
        statuses.add(422)
    if _takes_idempotency_key(dependant):
        statuses.add(409)  # the key again, with a different request
    for status in sorted(statuses):
        declared = responses.get(str(status), {})
        response: dict[str, Any] = {
            "description": _own_description(declared) or DESCRIPTIONS.get(status, "Error"),
            "content": {
                PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}
            },
        }
        if status == 429:
            response["headers"] = RETRY_AFTER
        responses[str(status)] = response


def _foreign_responses(
    dependant: Dependant, responses: dict[str, Any], shape: ForeignErrors
) -> None:
    statuses = set(shape.statuses)
    if dependant.path_params:
        statuses.add(404)
    responses.pop("422", None)  # FastAPI's own; this API answers bad input in its shape
    for status in sorted(statuses):
        declared = responses.get(str(status), {})
        responses[str(status)] = {
            "description": _own_description(declared) or DESCRIPTIONS.get(status, "Error"),
            "content": {
                shape.media_type: {"schema": {"$ref": f"#/components/schemas/{shape.name}"}}
            },
        }


def _own_description(declared: dict[str, Any]) -> str | None:
    description = declared.get("description")
    if description in (None, "", "Validation Error"):
        return None
    return str(description)


def _dependants(dependant: Dependant) -> Iterable[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _security(
    dependant: Dependant, checks: Mapping[Callable[..., Any], BearerScheme]
) -> list[dict[str, list[str]]]:
    """The schemes the route's caller checks accept (OpenAPI: any one of them will do)."""
    calls = [d.call for d in _dependants(dependant) if d.call is not None]
    names = sorted({checks[call].name for call in calls if call in checks})
    return [{name: []} for name in names]


def _names_an_id(dependant: Dependant) -> bool:
    for d in _dependants(dependant):
        if d.path_params:
            return True
        if any(p.alias.endswith("_id") for p in d.query_params):
            return True
    return False


def _takes_idempotency_key(dependant: Dependant) -> bool:
    return any(
        p.alias.lower() == "idempotency-key"
        for d in _dependants(dependant)
        for p in d.header_params
    )


def _has_input(dependant: Dependant) -> bool:
    return any(
        d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params
        for d in _dependants(dependant)
    )


def _openapi_path(path_format: str) -> str:
    """``/v1/apps/{app_id}`` as the schema spells it (converters like ``:path`` dropped)."""
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", r"{\1}", path_format)
