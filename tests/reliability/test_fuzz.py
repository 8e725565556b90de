"""A bounded fuzz run in the suite: schemathesis against the server's own /openapi.json,
every operation, with keys and without, on each database (``make fuzz`` runs long).

No 5xx, and every status, content type, header and body as the schema documents.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from bench.fuzz import fuzz_server, seed

from tests.conftest import Server
from tests.factories import make_workspace
from tests.wallet.accounts import operator_key

EXAMPLES = 4
"""Cases per operation in the fuzzing phase; the coverage phase adds its own boundary
cases (empty, too long, wrong type, NUL...) for every parameter and field."""
SEED = 20261203
"""Fixed, so the suite is repeatable; ``make fuzz`` draws a new one each run."""


def test_every_operation_answers_as_documented(
    server: Server, http: httpx.Client, tmp_path: Path
) -> None:
    _, admin = make_workspace(server.engine)
    seeded = seed(http, workspace_key=admin, operator_key=operator_key(server.engine))
    operations = {
        (method, path)
        for path, item in http.get("/openapi.json").json()["paths"].items()
        for method in item
    }
    runs = fuzz_server(
        server.url,
        seeded,
        examples=EXAMPLES,
        phases="coverage,fuzzing",
        seed_value=SEED,
        work=tmp_path,
        label=server.engine.dialect.name,
    )
    for run in runs:
        print(run.summary())
        if not run.ok:
            print(run.output)  # shown by pytest with the failure: each case and its curl
        assert run.operations == len(operations), run.summary()
        assert run.cases >= run.operations
        assert run.ok, run.summary()
