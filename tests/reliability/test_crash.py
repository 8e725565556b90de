"""A few rounds of the crash test (``make crash-test`` runs 20): ``botbill serve`` killed
with ``SIGKILL`` under load, started again, and everything acknowledged checked exact."""

from __future__ import annotations

from pathlib import Path

from bench.crash import Outcome, run

SEED = 17


def test_a_server_killed_under_load_loses_and_invents_nothing(backend: str, tmp_path: Path) -> None:
    outcome: Outcome = run(
        backend, rounds=2, seed=SEED, work=tmp_path, uptime=(0.5, 1.5), ingesters=1
    )

    assert outcome.mismatches == []
    figures = outcome.figures
    assert figures["kills"] == 2
    # The load really ran across the kills: events, orders and wires all answered.
    assert figures["events"] > 0
    assert figures["orders"] > 0
    assert figures["wires_confirmed"] > 0
