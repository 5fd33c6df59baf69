"""A process sharing an outbox file with others, as Airflow workers on one machine do.

    python arcadia_outbox_worker.py emit URL KEY OUTBOX START_AT WORKER RUNS
    python arcadia_outbox_worker.py deliver URL KEY OUTBOX START_AT

``emit`` sends RUNS completed runs (two events each) through an ``OutboxTransport`` that
tries to deliver after every event, then flushes; ``deliver`` delivers what the file
holds. Both wait until the wall-clock time START_AT, so that the processes overlap, and
print their last delivery report as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from arcadia.client import EblingClient, RetryPolicy
from arcadia.outbox import DeliveryReport, Outbox, OutboxTransport

# Run as a script, its own folder is first on sys.path.
from arcadia_events import finished_run


def _emit(client: EblingClient, outbox: Outbox, worker: str, runs: int) -> DeliveryReport:
    transport = OutboxTransport(outbox, client, batch_size=50, pause_after_failure=0)
    for number in range(runs):
        _, events = finished_run(namespace=f"airflow://{worker}", job=f"job_{number}")
        for event in events:
            transport.emit(event)
    return transport.flush()


def main() -> None:
    mode, url, key, path, start_at, *rest = sys.argv[1:]
    outbox = Outbox(path)
    policy = RetryPolicy(retries=5, backoff=0.1)
    with EblingClient(url, api_key=key, retries=policy) as client:
        time.sleep(max(0.0, float(start_at) - time.time()))
        if mode == "emit":
            worker, runs = rest
            report = _emit(client, outbox, worker, int(runs))
        else:
            report = outbox.deliver(client, batch_size=50, max_seconds=None)
    print(
        json.dumps(
            {
                "delivered": report.delivered,
                "dead_lettered": report.dead_lettered,
                "busy": report.busy,
                "error": str(report.error) if report.error else None,
            }
        )
    )


if __name__ == "__main__":
    main()
