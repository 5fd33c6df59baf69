"""Retries (which calls are sent again, how often, after how long) and what is sent.

These use a scripted stub (``arcadia_stub``) rather than Ebling: Ebling cannot be made to
fail twice and then succeed, or to answer 429, at a moment a test chooses, and does not
show the bytes it received.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from arcadia.client import (
    AsyncEblingClient,
    EblingClient,
    EblingRequestError,
    EblingUnavailable,
    RetryPolicy,
)
from arcadia_events import finished_run
from arcadia_server import free_port
from arcadia_stub import INGESTED, UNAVAILABLE, Answer, ScriptedServer

POLICY = RetryPolicy(retries=3, backoff=0.2, max_delay=5.0)
ARTIFACT = Answer(
    201,
    {
        "id": 1,
        "name": "a.bin",
        "content_type": "application/octet-stream",
        "size_bytes": 3,
        "sha256": "0" * 64,
        "labels": {},
        "run_id": None,
        "created_at": "2026-12-03T10:00:00Z",
        "created_by": "api-key:1",
    },
)


def test_lineage_is_sent_again_after_two_503s_with_growing_waits() -> None:
    stub = ScriptedServer([UNAVAILABLE, UNAVAILABLE, INGESTED])
    with stub.running(), EblingClient(stub.url, retries=POLICY) as client:
        summary = client.send_lineage(finished_run()[1])

    assert summary.stored == 1
    assert len(stub.received) == 3
    assert stub.received[0].body == stub.received[2].body
    first_wait, second_wait = stub.gaps()
    # Each wait is between half and all of 0.2 s, then of 0.4 s (plus the time to answer,
    # which a busy machine stretches; hence the loose upper bound).
    assert 0.1 <= first_wait < 1.0
    assert 0.2 <= second_wait < 1.2


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    stub = ScriptedServer([Answer(429, {"status": 429}, {"Retry-After": "1"}), INGESTED])
    with stub.running(), EblingClient(stub.url, retries=POLICY) as client:
        client.send_lineage(finished_run()[1])

    (wait,) = stub.gaps()
    assert wait >= 1.0


def test_a_retry_after_beyond_the_longest_wait_gives_up_at_once() -> None:
    stub = ScriptedServer([Answer(503, {"status": 503}, {"Retry-After": "120"})])
    with (
        stub.running(),
        EblingClient(stub.url, retries=POLICY) as client,
        pytest.raises(EblingUnavailable) as raised,
    ):
        client.send_lineage(finished_run()[1])

    assert len(stub.received) == 1
    assert raised.value.retry_after == 120
    assert "retry after 120 s" in str(raised.value)


def test_retries_run_out_into_unavailable() -> None:
    stub = ScriptedServer([UNAVAILABLE])
    policy = RetryPolicy(retries=2, backoff=0.01)
    with (
        stub.running(),
        EblingClient(stub.url, retries=policy) as client,
        pytest.raises(EblingUnavailable) as raised,
    ):
        client.get_run(uuid.uuid4())

    assert len(stub.received) == 3
    assert (raised.value.status, raised.value.attempts) == (503, 3)


def test_a_refusal_is_not_retried() -> None:
    stub = ScriptedServer([Answer(422, {"status": 422, "detail": "no"})])
    with (
        stub.running(),
        EblingClient(stub.url, retries=POLICY) as client,
        pytest.raises(EblingRequestError),
    ):
        client.send_lineage(finished_run()[1])

    assert len(stub.received) == 1


def test_a_report_from_disk_is_sent_whole_again_on_retry(tmp_path: Path) -> None:
    csv = tmp_path / "big.csv"
    csv.write_bytes(b"n\n" + b"".join(b"%d\n" % n for n in range(200_000)))
    stub = ScriptedServer([UNAVAILABLE, Answer(500, {"status": 500}), Answer(418, {})])
    with (
        stub.running(),
        EblingClient(stub.url, retries=POLICY) as client,
        pytest.raises(EblingRequestError),
    ):
        client.save_report("numbers", csv)

    assert [len(request.body) for request in stub.received] == [csv.stat().st_size] * 3
    assert stub.received[2].body == csv.read_bytes()


def test_a_stream_that_cannot_seek_is_sent_once() -> None:
    class OneWay(io.RawIOBase):
        def __init__(self) -> None:
            self._data = io.BytesIO(b"a,b\n1,2\n")

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            return self._data.readinto(buffer)

    stub = ScriptedServer([UNAVAILABLE])
    with (
        stub.running(),
        EblingClient(stub.url, retries=POLICY) as client,
        pytest.raises(EblingUnavailable),
    ):
        client.save_report("numbers", OneWay())  # type: ignore[arg-type]

    assert len(stub.received) == 1


def test_an_artifact_that_reached_ebling_is_not_sent_again() -> None:
    stub = ScriptedServer([UNAVAILABLE, ARTIFACT])
    with (
        stub.running(),
        EblingClient(stub.url, retries=POLICY) as client,
        pytest.raises(EblingUnavailable) as raised,
    ):
        client.store_artifact("a.bin", b"abc", content_type="application/octet-stream")

    assert len(stub.received) == 1
    assert raised.value.attempts == 1


def test_an_artifact_is_sent_again_when_the_connection_was_refused() -> None:
    # A refused connection proves the request never arrived, so sending it again cannot
    # record the file twice. Nothing listens on the port until the stub starts there, a
    # moment after the call began.
    port = free_port()
    late: list[ScriptedServer] = []
    finished = threading.Event()

    def serve_later() -> None:
        time.sleep(0.3)
        late.append(ScriptedServer([ARTIFACT], port=port))
        with late[0].running():
            finished.wait(timeout=10)

    thread = threading.Thread(target=serve_later)
    thread.start()
    policy = RetryPolicy(retries=6, backoff=0.1, max_delay=1.0)
    try:
        with EblingClient(f"http://127.0.0.1:{port}", retries=policy) as client:
            artifact = client.store_artifact("a.bin", b"abc", content_type="text/plain")
    finally:
        finished.set()
        thread.join()

    assert artifact.name == "a.bin"
    assert len(late[0].received) == 1


@pytest.mark.anyio
async def test_the_async_client_retries_alike() -> None:
    stub = ScriptedServer([UNAVAILABLE, UNAVAILABLE, INGESTED])
    with stub.running():
        async with AsyncEblingClient(stub.url, retries=POLICY) as client:
            summary = await client.send_lineage(finished_run()[1])
            with pytest.raises(EblingUnavailable):
                await client.store_artifact("a.bin", b"abc", content_type="text/plain")

    assert summary.stored == 1
    assert len(stub.received) == 4
    assert all(gap >= 0.1 for gap in stub.gaps()[:2])


def test_a_large_lineage_batch_is_sent_gzip_compressed() -> None:
    small, large = finished_run()[1], [e for _ in range(20) for e in finished_run()[1]]
    stub = ScriptedServer([INGESTED])
    with stub.running(), EblingClient(stub.url) as client:
        client.send_lineage(small)
        client.send_lineage(large)

    plain, compressed = stub.received
    assert "content-encoding" not in plain.headers
    assert json.loads(plain.body) == small
    assert compressed.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(compressed.body)) == large
