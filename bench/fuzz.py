"""botbill's fuzz run: schemathesis against the OpenAPI a real server serves.

    python -m bench.fuzz                       # make fuzz: both databases, a long run
    python -m bench.fuzz --db sqlite --examples 20 --seed 7

For each database, ``botbill serve`` (with its jobs) runs over a new database holding one
workspace with an app, paid and pending orders, an invoice, a member and a spare key.
Schemathesis then tests every operation of ``/openapi.json`` twice: with credentials (the
workspace's admin key for ``ApiKey`` operations, an operator key for ``OperatorKey`` ones,
as each operation's security says) and without any. Known ids are offered for path
parameters half of the time, so operations reach real objects as well as unknown ones.
Checks: no 5xx, every status, content type, header and body as documented. Exits
non-zero on any failure; docs/reliability.md has what the runs found.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench.run import Database, botbill
from bench.soak_server import Server

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


@dataclass(frozen=True)
class Seeded:
    """What the fuzzer is given: keys, and known ids by path-parameter name."""

    workspace_key: str
    operator_key: str
    ids: dict[str, list[str]] = field(default_factory=dict)
    platform_token: str | None = None
    """A JWT of an API client for the platform's public API (``auth`` header), if any."""


@dataclass(frozen=True)
class FuzzRun:
    label: str
    operations: int
    cases: int
    failures: list[str]
    seconds: float
    exit_code: int
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.failures

    def summary(self) -> str:
        found = "; ".join(self.failures) or "nothing"
        return (
            f"{self.label}: {self.operations} operations, {self.cases} cases "
            f"in {self.seconds:.0f} s; found {found}"
        )


def seed(http: httpx.Client, *, workspace_key: str, operator_key: str) -> Seeded:
    """Objects for the fuzzer to reach, made through the API as a client would."""
    admin = {"Authorization": f"Bearer {workspace_key}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = http.post(path, json=body, headers=admin)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"seeding: POST {path} answered {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    post("/v1/members", {"email": "ann@acme.example", "name": "Ann", "role": "admin"})
    post("/v1/apps", {"id": "support-bot", "name": "Support", "plan": "standard"})
    card = post(
        "/v1/apps/support-bot/funds",
        {"amount": 25_000, "payment_method": "card", "token": "tok_ok"},
    )
    wire = post("/v1/apps/support-bot/funds", {"amount": 10_000, "payment_method": "wire"})
    spare = post("/v1/api-keys", {"name": "spare", "scopes": ["read"]})
    client = post("/v1/api-clients", {"name": "fuzz", "scopes": ["billing_sessions:read"]})
    token = jwt.encode(
        {"appId": client["client_id"], "sub": "fuzz"}, client["client_secret"], algorithm="HS256"
    )
    return Seeded(
        workspace_key=workspace_key,
        operator_key=operator_key,
        platform_token=token,
        ids={
            "app_id": ["support-bot"],
            "bot_id": ["support-bot"],
            "email": ["ann@acme.example"],
            "order_id": [card["id"], wire["id"]],
            "invoice_id": [card["invoice_id"]],
            "key_id": [spare["id"]],
        },
    )


def config(seeded: Seeded, *, authenticated: bool) -> str:
    """A schemathesis.toml: credentials per security scheme, known ids per parameter."""
    lines: list[str] = []
    if authenticated:
        lines += [
            "[auth.openapi.ApiKey]",
            f'bearer = "{seeded.workspace_key}"',
            "[auth.openapi.OperatorKey]",
            f'bearer = "{seeded.operator_key}"',
        ]
        if seeded.platform_token:  # ignored by every route outside the platform's API
            lines += ["[headers]", f'auth = "{seeded.platform_token}"']
    for name, values in seeded.ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    if seeded.ids:
        lines.append("[parameters]")
        lines += [
            f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in seeded.ids
        ]
    return "\n".join(lines) + "\n"


def run_schemathesis(
    url: str,
    seeded: Seeded,
    *,
    label: str,
    authenticated: bool,
    examples: int,
    phases: str,
    seed_value: int,
    work: Path,
) -> FuzzRun:
    work.mkdir(parents=True, exist_ok=True)
    config_path = work / "schemathesis.toml"
    config_path.write_text(config(seeded, authenticated=authenticated))
    report = work / "report.json"
    started = time.monotonic()
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(config_path),
            "--no-color",
            "run",
            f"{url}/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            phases,
            "--max-examples",
            str(examples),
            "--seed",
            str(seed_value),
            "--workers",
            "1",  # two hit a CPython 3.11 race compiling ASTs in threads: a SystemError
            "--request-timeout",
            "60",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    if not report.exists():
        return FuzzRun(
            label, 0, 0, ["no report: schemathesis failed"], seconds, done.returncode, output
        )
    figures = json.loads(report.read_text())
    failures = [
        f"{failure['code']} {failure['title']} x{failure['count']}: "
        + ", ".join(failure["operations"])
        for failure in figures["failures"]
    ] + [f"error: {error}" for error in figures["errors"]]
    return FuzzRun(
        label=label,
        operations=figures["operations"]["tested"],
        cases=figures["test_cases"]["generated"],
        failures=failures,
        seconds=seconds,
        exit_code=done.returncode,
        output=output,
    )


def fuzz_server(
    url: str, seeded: Seeded, *, examples: int, phases: str, seed_value: int, work: Path, label: str
) -> list[FuzzRun]:
    """Both passes over one server: with credentials, then without (the fuzzing phase
    alone, with fewer cases: every authenticated operation answers 401 before it reads
    anything, whatever the input)."""
    return [
        run_schemathesis(
            url,
            seeded,
            label=f"{label}, with keys",
            authenticated=True,
            examples=examples,
            phases=phases,
            seed_value=seed_value,
            work=work / "keys",
        ),
        run_schemathesis(
            url,
            seeded,
            label=f"{label}, without keys",
            authenticated=False,
            examples=max(1, examples // 4),
            phases="fuzzing",
            seed_value=seed_value,
            work=work / "anonymous",
        ),
    ]


def fuzz_database(
    kind: str, *, examples: int, phases: str, seed_value: int, work: Path
) -> list[FuzzRun]:
    db = Database(kind, work, f"fuzz_{kind}")
    try:
        created = json.loads(botbill(db, "workspace", "create", "Fuzz", "--json"))
        operator = json.loads(botbill(db, "operator", "key", "create", "--json"))
        with (
            Server(db, workers=1, log_path=work / f"{kind}-server.log") as server,
            httpx.Client(base_url=server.url, timeout=30) as http,
        ):
            seeded = seed(http, workspace_key=created["api_key"], operator_key=operator["api_key"])
            return fuzz_server(
                server.url,
                seeded,
                examples=examples,
                phases=phases,
                seed_value=seed_value,
                work=work / kind,
                label=kind,
            )
    finally:
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--examples", type=int, default=100, help="Cases per operation and phase.")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed_value = args.seed if args.seed is not None else int(time.time())
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    runs: list[FuzzRun] = []
    with tempfile.TemporaryDirectory(prefix="botbill-fuzz-") as tmp:
        for kind in kinds:
            runs += fuzz_database(
                kind,
                examples=args.examples,
                phases=args.phases,
                seed_value=seed_value,
                work=Path(tmp),
            )
            for run in runs[-2:]:
                print(run.summary(), flush=True)
                if not run.ok:
                    print(run.output[-20_000:], flush=True)
    print(f"seed {seed_value}")
    sys.exit(0 if all(run.ok for run in runs) else 1)


if __name__ == "__main__":
    main()
