"""The ingest benchmark's client: a separate process posting prepared 1,000-event batches.

The clock stops when the metering is done, not when the last post returns: after the
posts, one ``GET /v1/usage`` (which first meters everything the workspace has pending)
must return before the time is taken.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import httpx

CONCURRENCY = 2


def main() -> None:
    url, key, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    bodies = [path.read_bytes() for path in sorted(folder.glob("*.json"))]
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/cloudevents-batch+json",
    }
    accepted = [0] * CONCURRENCY
    refused = [0] * CONCURRENCY

    def send(worker: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            for body in bodies[worker::CONCURRENCY]:
                while True:  # as a client does: after a 429, the same batch again
                    response = http.post("/v1/events", content=body)
                    if response.status_code != 429:
                        break
                    refused[worker] += 1
                    time.sleep(float(response.headers.get("retry-after", "1")))
                response.raise_for_status()
                accepted[worker] += response.json()["accepted"]

    started = time.perf_counter()
    workers = [threading.Thread(target=send, args=(i,)) for i in range(CONCURRENCY)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    posted = time.perf_counter() - started
    with httpx.Client(base_url=url, headers=headers, timeout=600) as http:
        http.get("/v1/usage", params={"range": "30d"}).raise_for_status()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "events": sum(accepted),
                "refused": sum(refused),
                "seconds": seconds,
                "posting_seconds": posted,
                "batches": len(bodies),
            }
        )
    )


if __name__ == "__main__":
    main()
