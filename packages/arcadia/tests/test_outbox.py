"""The outbox against a real Ebling: durable, in order, once, and never stuck on one item."""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from arcadia.client import (
    EblingAuthError,
    EblingClient,
    EblingRequestError,
    EblingUnavailable,
    RetryPolicy,
    RunState,
)
from arcadia.outbox import LINEAGE, Outbox, OutboxError, OutboxTransport
from arcadia_events import finished_run, invalid_event
from arcadia_server import EblingServer
from arcadia_stub import UNAVAILABLE, ScriptedServer


def assert_stored_in_order(
    server: EblingServer, run_id: uuid.UUID, events: list[dict[str, Any]]
) -> None:
    """Ebling holds exactly ``events`` for the run, and received them in that order.

    Ebling stamps each request's events with one arrival time (and stores a request's
    events in an order of its own), so the order shows as arrival times that never go
    down along ``events``.
    """
    stored = server.run_events(run_id)
    arrival = {
        json.dumps(event["payload"], sort_keys=True): event["received_at"] for event in stored
    }
    assert len(stored) == len(arrival) == len(events)
    times = [arrival[json.dumps(event, sort_keys=True)] for event in events]
    assert times == sorted(times)


def test_enqueued_items_are_on_disk_for_the_next_outbox(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "outbox.db"
    _, events = finished_run()

    ids = [Outbox(path).enqueue(LINEAGE, event) for event in events]

    assert ids == sorted(ids)
    assert Outbox(path).pending_count() == 2


def test_what_could_never_be_delivered_is_refused_at_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")

    with pytest.raises(ValueError, match="No sender for kind 'report'; known kinds: lineage"):
        outbox.enqueue("report", {})
    with pytest.raises(TypeError, match="A lineage event is a mapping, not list"):
        outbox.enqueue(LINEAGE, [])
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        outbox.enqueue(LINEAGE, {"value": math.nan})
    with pytest.raises(TypeError, match="not JSON serializable"):
        outbox.enqueue(LINEAGE, {"value": object()})
    assert outbox.pending_count() == 0


def test_delivery_keeps_the_order_and_removes_what_ebling_acknowledged(
    ebling: EblingServer, client: EblingClient, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    run_id, events = finished_run(tasks=("extract", "transform", "load"))
    outbox.enqueue_many(LINEAGE, events)

    report = outbox.deliver(client, batch_size=3)

    assert (report.delivered, report.dead_lettered, report.pending) == (8, 0, 0)
    assert report.error is None
    assert_stored_in_order(ebling, run_id, events)
    assert client.get_run(run_id).state == RunState.COMPLETED
    assert outbox.deliver(client).delivered == 0


def test_events_emitted_while_ebling_is_down_are_kept_and_delivered_once_it_is_back(
    own_ebling: EblingServer, tmp_path: Path
) -> None:
    own_ebling.start()
    outbox = Outbox(tmp_path / "outbox.db")
    policy = RetryPolicy(retries=1, backoff=0.05)
    client = EblingClient(own_ebling.url, api_key=own_ebling.admin_key, retries=policy)
    transport = OutboxTransport(outbox, client, pause_after_failure=0)
    run_id, events = finished_run(tasks=("extract", "load"))

    transport.emit(events[0])
    assert outbox.pending_count() == 0

    own_ebling.kill()
    for event in events[1:]:
        transport.emit(event)  # must not raise: the workflow goes on
    assert outbox.pending_count() == len(events) - 1

    own_ebling.start()
    report = transport.flush()

    assert (report.delivered, report.pending, report.error) == (len(events) - 1, 0, None)
    assert_stored_in_order(own_ebling, run_id, events)
    run = client.get_run(run_id)
    assert run.state == RunState.COMPLETED
    assert run.event_count == 2
    assert run.task_runs is not None
    assert [task.event_count for task in run.task_runs] == [2, 2]
    assert transport.flush().delivered == 0
    client.close()


def test_an_invalid_event_is_set_aside_and_the_others_delivered(
    client: EblingClient, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    run_id, (start, complete) = finished_run()
    bad = invalid_event()
    outbox.enqueue_many(LINEAGE, [start, bad, complete])

    report = outbox.deliver(client)

    assert (report.delivered, report.dead_lettered, report.pending) == (2, 1, 0)
    (dead,) = outbox.dead_letters()
    assert (dead.kind, dead.payload, dead.status) == (LINEAGE, bad, 422)
    assert "eventTime: Field required" in dead.error
    assert dead.failed_at >= dead.enqueued_at
    assert client.get_run(run_id).state == RunState.COMPLETED


def test_a_batch_ebling_finds_too_large_is_halved_until_it_fits(
    own_ebling: EblingServer, tmp_path: Path
) -> None:
    # Ebling refuses a batch over its limit as a whole, naming no event; halving finds
    # batches it takes, and the one invalid event alone.
    own_ebling.settings = {"EBLING_MAX_BATCH_EVENTS": "4"}
    own_ebling.start()
    outbox = Outbox(tmp_path / "outbox.db")
    runs = [finished_run(job=f"job_{n}") for n in range(5)]
    events = [event for _, run_events in runs for event in run_events]
    events.insert(7, invalid_event())
    outbox.enqueue_many(LINEAGE, events)

    with EblingClient(own_ebling.url, api_key=own_ebling.admin_key) as client:
        report = outbox.deliver(client, batch_size=11)
        states = {client.get_run(run_id).state for run_id, _ in runs}

    assert (report.delivered, report.dead_lettered, report.pending) == (10, 1, 0)
    assert states == {RunState.COMPLETED}


def test_refused_credentials_stop_delivery_and_keep_every_event(
    ebling: EblingServer, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.enqueue_many(LINEAGE, finished_run()[1])

    with EblingClient(ebling.url, api_key="ebl_revoked") as client:
        report = outbox.deliver(client)

    assert isinstance(report.error, EblingAuthError)
    assert (report.delivered, report.dead_lettered, report.pending) == (0, 0, 2)
    assert outbox.dead_letters() == []


def test_a_wrong_address_stops_delivery_rather_than_setting_events_aside(
    ebling: EblingServer, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.enqueue_many(LINEAGE, finished_run()[1])

    with EblingClient(f"{ebling.url}/not-ebling", api_key=ebling.admin_key) as client:
        report = outbox.deliver(client)

    assert isinstance(report.error, EblingRequestError)
    assert report.error.status == 404
    assert (report.dead_lettered, report.pending) == (0, 2)


def test_other_kinds_go_through_their_senders_in_order(
    client: EblingClient, report_name: str, tmp_path: Path
) -> None:
    def save_csv(client: EblingClient, payload: dict[str, str]) -> None:
        client.save_report(payload["report"], payload["csv"].encode())

    outbox = Outbox(tmp_path / "outbox.db", senders={"report": save_csv})
    run_id, (start, complete) = finished_run()
    outbox.enqueue(LINEAGE, start)
    outbox.enqueue("report", {"report": report_name, "csv": "city\nGraz\n"})
    outbox.enqueue("report", {"report": report_name, "csv": "a,b\n1,2\n3,4,5\n"})
    outbox.enqueue("report", {"report": report_name, "csv": "city\nLinz\n"})
    outbox.enqueue(LINEAGE, complete)

    report = outbox.deliver(client)

    assert (report.delivered, report.dead_lettered, report.pending) == (4, 1, 0)
    assert list(client.report_rows(report_name)) == [{"city": "Graz"}, {"city": "Linz"}]
    (dead,) = outbox.dead_letters()
    assert (dead.kind, dead.status) == ("report", 422)
    assert client.get_run(run_id).state == RunState.COMPLETED


def test_a_deliverer_without_a_kinds_sender_leaves_those_items_waiting(
    client: EblingClient, report_name: str, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    Outbox(path, senders={"report": lambda client, payload: None}).enqueue("report", {})
    Outbox(path).enqueue_many(LINEAGE, finished_run()[1])

    report = Outbox(path).deliver(client)

    assert (report.delivered, report.pending) == (2, 1)


def test_while_one_deliverer_holds_the_lease_another_leaves_the_work_to_it(
    client: EblingClient, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    inside_sender, release = threading.Event(), threading.Event()

    def slow(client: EblingClient, payload: object) -> None:
        inside_sender.set()
        release.wait(timeout=10)

    holder = Outbox(path, senders={"slow": slow})
    holder.enqueue("slow", {})
    thread = threading.Thread(target=holder.deliver, args=(client,))
    thread.start()
    assert inside_sender.wait(timeout=10)

    try:
        other = Outbox(path, senders={"slow": slow}).deliver(client)
    finally:
        release.set()
        thread.join()

    assert other.busy
    assert other.delivered == 0
    assert holder.pending_count() == 0


def test_a_lease_whose_holder_went_quiet_is_taken_over_when_it_expires(
    client: EblingClient, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    inside_sender, release = threading.Event(), threading.Event()

    def stuck(client: EblingClient, payload: object) -> None:
        inside_sender.set()
        release.wait(timeout=10)

    quiet = Outbox(path, senders={"stuck": stuck}, lease_seconds=0.3)
    quiet.enqueue("stuck", {})
    quiet.enqueue_many(LINEAGE, finished_run()[1])
    thread = threading.Thread(target=quiet.deliver, args=(client,))
    thread.start()
    assert inside_sender.wait(timeout=10)
    time.sleep(0.5)

    try:
        taker = Outbox(path).deliver(client)
    finally:
        release.set()
        thread.join()

    assert (taker.busy, taker.delivered) == (False, 2)
    assert quiet.pending_count() == 0


def test_after_a_failure_the_transport_only_writes_for_a_while(tmp_path: Path) -> None:
    stub = ScriptedServer([UNAVAILABLE])
    outbox = Outbox(tmp_path / "outbox.db")
    _, (start, complete) = finished_run()
    with stub.running(), EblingClient(stub.url, retries=0) as client:
        transport = OutboxTransport(outbox, client, pause_after_failure=60)
        transport.emit(start)
        transport.emit(complete)
        requests_while_paused = len(stub.received)
        report = transport.flush()

    assert requests_while_paused == 1
    assert len(stub.received) == 2
    assert isinstance(report.error, EblingUnavailable)
    assert report.pending == 2


def test_an_outbox_that_cannot_be_opened_says_where_and_what_to_check(tmp_path: Path) -> None:
    with pytest.raises(OutboxError) as raised:
        Outbox(tmp_path)  # a folder, not a file

    assert str(tmp_path) in str(raised.value)
    assert "free space" in str(raised.value)
