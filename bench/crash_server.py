"""The crash test's server: ``botbill serve`` in a process group of its own, so that one
``SIGKILL`` takes every process of it at once (the server processes and the background
worker), as a power cut or the kernel's out-of-memory killer would; then started again on
the same port and the same database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from bench.run import Database
from bench.soak_server import BOTBILL

READY_WITHIN = 90.0
"""Seconds a (re)start may take before the run gives up."""


class KillableServer:
    def __init__(self, db: Database, *, workers: int, log_path: Path) -> None:
        self.db, self.workers, self.log_path = db, workers, log_path
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it and wait until it answers ``/readyz``; returns the seconds it took."""
        started = time.monotonic()
        with self.log_path.open("ab") as server_log:
            self.process = subprocess.Popen(
                [BOTBILL, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.db.env() | {"BOTBILL_JOBS_ENABLED": "true", "BOTBILL_LOG_FORMAT": "json"},
                stdout=server_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill takes them all
            )
        while time.monotonic() - started < READY_WITHIN and self.process.poll() is None:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"botbill serve did not become ready:\n{tail}")

    def kill(self) -> None:
        """``SIGKILL`` to the whole group, then wait until none of it is left."""
        if self.process is None:
            return
        group = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        self.process = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not living_members(group):
                return
            time.sleep(0.02)
        raise RuntimeError(f"process group {group} outlived SIGKILL")


def living_members(group: int) -> list[int]:
    """The processes of a group not yet dead (a zombie waiting to be reaped is dead)."""
    living = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            state, _, pgrp = stat.rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == group and state not in ("Z", "X"):
                living.append(int(entry))
    return living
