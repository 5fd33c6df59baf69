"""The asynchronous client does what the synchronous one does, against a real Ebling."""

from __future__ import annotations

import hashlib
import inspect
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from arcadia.client import (
    AsyncEblingClient,
    EblingAuthError,
    EblingClient,
    EblingRequestError,
    RunState,
)
from arcadia_events import START_TIME, finished_run, invalid_event
from arcadia_server import FAST_RETRIES, EblingServer, free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(ebling: EblingServer) -> AsyncIterator[AsyncEblingClient]:
    async with AsyncEblingClient(
        ebling.url, api_key=ebling.admin_key, retries=FAST_RETRIES
    ) as client:
        yield client


async def test_sent_events_make_a_run(client: AsyncEblingClient, namespace: str) -> None:
    run_id, events = finished_run(namespace=namespace, tasks=("extract",))

    summary = await client.send_lineage(events)

    assert summary.stored == 4
    run = await client.get_run(run_id)
    assert run.state == RunState.COMPLETED
    assert run.task_runs is not None
    assert [task.task_name for task in run.task_runs] == ["nightly_export.extract"]


async def test_a_report_from_disk_reads_back(
    client: AsyncEblingClient, report_name: str, tmp_path: Path
) -> None:
    csv = tmp_path / "cpu.csv"
    # Larger than one read chunk, so the file goes in several pieces from a thread.
    csv.write_text("n,square\n" + "".join(f"{n},{n * n}\n" for n in range(60_000)))

    batch = await client.save_report(report_name, csv)
    again = await client.save_report(report_name, csv.open("rb"))

    assert (batch.row_count, batch.source_file_name) == (60_000, "cpu.csv")
    assert again.duplicate
    rows = client.report_rows(report_name, filters=[("n", "lt", 3)], sort="-n", limit=None)
    assert [row async for row in rows] == [
        {"n": 2, "square": 4},
        {"n": 1, "square": 1},
        {"n": 0, "square": 0},
    ]
    first = [row async for row in client.report_rows(report_name, sort="n", limit=1_234)]
    assert [row["n"] for row in first] == list(range(1_234))


async def test_an_artifact_is_stored(client: AsyncEblingClient, tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(bytes(range(256)) * 5_000)

    artifact = await client.store_artifact(
        "model.bin", model, content_type="application/octet-stream", labels={"stage": "test"}
    )

    assert artifact.size_bytes == model.stat().st_size
    assert artifact.sha256 == hashlib.sha256(model.read_bytes()).hexdigest()
    assert artifact.labels == {"stage": "test"}


async def test_list_runs_pages_through_every_run(client: AsyncEblingClient, namespace: str) -> None:
    run_ids = []
    for hour in range(5):
        run_id, events = finished_run(namespace=namespace, start=START_TIME + timedelta(hours=hour))
        run_ids.append(run_id)
        await client.send_lineage(events)

    runs = [run async for run in client.list_runs(namespace=namespace, page_size=2)]

    assert [run.id for run in runs] == run_ids[::-1]


async def test_errors_are_the_same_as_the_sync_clients(ebling: EblingServer) -> None:
    async with AsyncEblingClient(ebling.url, api_key="ebl_wrong") as wrong:
        with pytest.raises(EblingAuthError) as unauthenticated:
            await wrong.get_run(uuid.uuid4())
    async with AsyncEblingClient(ebling.url, api_key=ebling.admin_key) as admin:
        with pytest.raises(EblingRequestError) as invalid:
            await admin.send_lineage([invalid_event()])

    assert unauthenticated.value.status == 401
    assert invalid.value.status == 422
    assert {e["field"] for e in invalid.value.errors} >= {"eventTime", "eventType"}


async def test_health(ebling: EblingServer) -> None:
    async with AsyncEblingClient(ebling.url) as up:
        assert await up.health()
    async with AsyncEblingClient(f"http://127.0.0.1:{free_port()}") as down:
        assert not await down.health()


async def test_credentials_that_can_be_awaited_are_awaited(ebling: EblingServer) -> None:
    class TokenProvider:
        """Like an OAuth2 provider: a token fetched (here: read) without blocking the loop."""

        def __init__(self) -> None:
            self.awaited = 0

        def authorization(self) -> str:
            raise AssertionError("the async client must await authorization_async()")

        async def authorization_async(self) -> str:
            self.awaited += 1
            return f"Bearer {ebling.admin_key}"

    provider = TokenProvider()
    run_id, events = finished_run()
    async with AsyncEblingClient(ebling.url, auth=provider) as client:
        await client.send_lineage(events)
        assert (await client.get_run(run_id)).id == run_id

    assert provider.awaited == 2


def test_both_clients_have_the_same_methods_and_arguments() -> None:
    def public_methods(cls: type) -> dict[str, list[tuple[str, object, object]]]:
        return {
            name: [
                (p.name, p.kind, p.default) for p in inspect.signature(member).parameters.values()
            ]
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_") and name not in ("close", "aclose")
        }

    assert public_methods(AsyncEblingClient) == public_methods(EblingClient)
    assert inspect.signature(AsyncEblingClient.__init__) == inspect.signature(EblingClient.__init__)
