"""The soak's server: ``botbill serve`` in its own processes, their memory and their log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.run import Database

BOTBILL = str(Path(sys.executable).parent / "botbill")


class Server:
    """``botbill serve`` with its jobs, on a free port, logging to a file."""

    def __init__(self, db: Database, *, workers: int, log_path: Path) -> None:
        self.db, self.workers, self.log_path = db, workers, log_path
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        with self.log_path.open("wb") as server_log:
            self.process = subprocess.Popen(
                [BOTBILL, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.db.env() | {"BOTBILL_JOBS_ENABLED": "true"},
                stdout=server_log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"botbill serve did not become ready:\n{tail}")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class PeakMemory:
    """The high-water marks (``VmHWM``) of a process and its descendants, sampled every
    half second while the soak runs (a worker's mark is lost if it exits unseen)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.marks_kb: dict[int, int] = {}
        self.largest_total_rss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            total = 0
            for pid in self._tree():
                status = _status(pid)
                if "VmHWM" in status:
                    self.marks_kb[pid] = max(self.marks_kb.get(pid, 0), status["VmHWM"])
                    total += status.get("VmRSS", 0)
            self.largest_total_rss_kb = max(self.largest_total_rss_kb, total)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree

    def figures(self) -> dict[str, Any]:
        return {
            "processes": len(self.marks_kb),
            "peak_rss_mb_per_process": sorted(
                (round(kb / 1024, 1) for kb in self.marks_kb.values()), reverse=True
            ),
            "peak_rss_mb_sum": round(sum(self.marks_kb.values()) / 1024, 1),
            "largest_total_rss_mb": round(self.largest_total_rss_kb / 1024, 1),
        }


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {
        name: int(value.split()[0])
        for name, _, value in (line.partition(":") for line in lines)
        if name in ("VmHWM", "VmRSS")
    }


def log_errors(path: Path) -> list[str]:
    """The server log's errors and tracebacks (its lines are JSON when not on a terminal)."""
    found = []
    with path.open(errors="replace") as lines:
        for line in lines:
            if '"level":"error"' in line or '"level":"critical"' in line or "Traceback" in line:
                found.append(line.strip()[:500])
    return found
