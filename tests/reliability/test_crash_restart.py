"""Found by the crash test: restarted on a busy machine, ``botbill serve --workers 2``
never served. uvicorn replaced each server process that had not answered its health ping
within 5 s, so one that took longer than that to boot was replaced, over and over."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.factories import BOTBILL

SLOW_BOOT = """
import sys, time
if "--multiprocessing-fork" in sys.argv:  # a server process uvicorn spawned
    time.sleep(7)
"""


def test_server_processes_slower_to_boot_than_uvicorns_ping_still_serve(tmp_path: Path) -> None:
    # Every server process takes 7 s to boot, as on a machine busy with a crash's backlog.
    (tmp_path / "sitecustomize.py").write_text(SLOW_BOOT)
    log = tmp_path / "server.log"
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("BOTBILL_")}
    env |= {
        "BOTBILL_DATABASE_URL": f"sqlite:///{tmp_path / 'botbill.db'}",
        "BOTBILL_LOG_FORMAT": "json",
    }
    inherited = os.environ.get("PYTHONPATH")  # the slow boot first, whatever else was there
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tmp_path), inherited] if inherited else [str(tmp_path)]
    )
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(BOTBILL), "serve", "--port", str(port), "--workers", "2", "--without-worker"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        answer = None
        deadline = time.monotonic() + 120  # a bound on the wait, not a timing asserted
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()

    assert answer is not None, log.read_text()[-2000:]
    assert answer.status_code == 200
    assert "died" not in log.read_text()
