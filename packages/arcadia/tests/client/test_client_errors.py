"""Ebling's refusals, as the client's own errors, against a real Ebling."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
from arcadia.client import (
    ApiKey,
    EblingAuthError,
    EblingClient,
    EblingError,
    EblingRequestError,
    EblingUnavailable,
)
from arcadia_events import finished_run, invalid_event, run_event
from arcadia_server import FAST_RETRIES, EblingServer, free_port


def test_a_bad_key_is_an_auth_error_that_says_what_to_check(ebling: EblingServer) -> None:
    with (
        EblingClient(ebling.url, api_key="ebl_not_a_key") as client,
        pytest.raises(EblingAuthError) as raised,
    ):
        client.get_run(uuid.uuid4())

    error = raised.value
    assert error.status == 401
    assert error.problem.type == "urn:ebling:problem:unauthenticated"
    assert "EBLING_API_KEY" in str(error)
    assert error.detail in str(error)
    assert "ebl_not_a_key" not in str(error)


def test_a_viewer_key_may_not_send_events(ebling: EblingServer) -> None:
    viewer = ebling.create_key("viewer")
    _, events = finished_run()

    with (
        EblingClient(ebling.url, api_key=viewer) as client,
        pytest.raises(EblingAuthError) as raised,
    ):
        client.send_lineage(events)

    assert raised.value.status == 403
    assert raised.value.problem.type == "urn:ebling:problem:forbidden"
    assert "roles" in str(raised.value)


def test_an_ingest_key_writes_but_may_not_read(ebling: EblingServer) -> None:
    ingest = ebling.create_key("ingest")
    run_id, events = finished_run()

    with EblingClient(ebling.url, api_key=ingest) as client:
        assert client.send_lineage(events).stored == 2
        with pytest.raises(EblingAuthError) as raised:
            client.get_run(run_id)

    assert raised.value.status == 403


def test_an_invalid_event_is_a_request_error_listing_each_problem(client: EblingClient) -> None:
    valid = run_event("START", uuid.uuid4())

    with pytest.raises(EblingRequestError) as raised:
        client.send_lineage([valid, invalid_event()])

    error = raised.value
    assert error.status == 422
    assert error.problem.type == "urn:ebling:problem:invalid-events"
    fields = {(e["index"], e["field"]) for e in error.errors}
    assert {(1, "eventType"), (1, "eventTime")} <= fields
    assert "event 1, field eventTime" in str(error)
    assert str(error).startswith("Ebling refused POST http://127.0.0.1:")


def test_a_broken_csv_is_a_request_error_naming_the_line(
    client: EblingClient, report_name: str
) -> None:
    with pytest.raises(EblingRequestError) as raised:
        client.save_report(report_name, b"a,b\n1,2\n3,4,5\n")

    assert raised.value.status == 422
    assert raised.value.errors[0]["line"] == 3


def test_nothing_listening_is_unavailable_raised_from_the_httpx_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with (
        EblingClient(url, retries=FAST_RETRIES) as client,
        pytest.raises(EblingUnavailable) as raised,
    ):
        client.get_run(uuid.uuid4())

    error = raised.value
    assert error.attempts == 3
    assert error.status is None
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert "after 3 attempts" in str(error)
    assert isinstance(error, EblingError)


def test_the_key_never_shows_in_reprs_or_logs(
    ebling: EblingServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = ebling.admin_key
    caplog.set_level(logging.DEBUG)

    with EblingClient(ebling.url, api_key=key) as client:
        client.send_lineage(finished_run()[1])
        shown = [repr(client), repr(ApiKey(key)), caplog.text]

    assert caplog.records, "httpx logs each request; the check needs some log lines"
    assert not [text for text in shown if key in text or key[:20] in text]


def test_api_key_and_auth_together_are_refused() -> None:
    with pytest.raises(ValueError, match="api_key or auth"):
        EblingClient("http://127.0.0.1:1", api_key="a", auth=ApiKey("b"))


def test_a_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match=r"http:// or https:// URL"):
        EblingClient("127.0.0.1:8080")
