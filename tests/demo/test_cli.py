"""``botbill demo`` end to end: build on a fresh SQLite file, print a key, serve it."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx

from tests.conftest import free_port

BOTBILL = Path(sys.executable).with_name("botbill")


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def _api_key(lines: queue.Queue[str], process: subprocess.Popen[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            assert process.poll() is None, "botbill demo exited early"
            continue
        if line.strip().startswith("API key:"):
            return line.split()[2]
    raise AssertionError("botbill demo printed no API key")


def test_demo_builds_prints_a_key_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BOTBILL_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
        "BOTBILL_LOG_FORMAT": "text",
    }
    log = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(
        [str(BOTBILL), "demo", "--days", "2", "--scale", "0.2", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        key = _api_key(lines, process, timeout=120)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the demo server did not come up"
                assert process.poll() is None, "botbill demo exited early"
                time.sleep(0.1)
            response = http.get(
                "/v1/usage", params={"range": "7d"}, headers={"Authorization": f"Bearer {key}"}
            )
        assert response.status_code == 200, response.text
        totals = response.json()["totals"]
        assert totals["billing_sessions"] > 0
        assert totals["billing_sessions"] == totals["usage_sessions"] + totals["alert_sessions"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
