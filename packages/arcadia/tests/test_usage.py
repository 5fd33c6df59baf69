"""Recording usage from a workflow: sent once, kept through an outage, counted once."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from arcadia import EblingClient
from arcadia.client.errors import EblingUnavailable
from arcadia.outbox import Outbox
from arcadia.reports import OUTBOX_VARIABLE, RUN_ID_VARIABLE
from arcadia.usage import SENDERS, record_usage, usage_record
from arcadia_server import FAST_RETRIES, EblingServer


def usage_of(server: EblingServer, **params: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{server.url}/api/v1/usage",
        params=params,
        headers={"Authorization": f"Bearer {server.admin_key}"},
    )
    response.raise_for_status()
    return list(response.json()["items"])


def test_usage_is_linked_to_the_run_and_counted_once(
    ebling: EblingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = str(uuid.uuid4())
    monkeypatch.setenv(RUN_ID_VARIABLE, run_id)
    account = f"acct-{uuid.uuid4().hex[:8]}"

    with EblingClient(ebling.url, api_key=ebling.create_key("ingest")) as machine:
        sent = record_usage(
            "documents_processed",
            Decimal("2.5"),
            account=account,
            attributes={"document_type": "invoice"},
            client=machine,
        )
        # What a retry after a lost answer sends: the same record, key and all.
        again = machine.send_usage([sent])

    assert (again.stored, again.duplicates) == (0, 1)
    [stored] = usage_of(ebling, account=account)
    assert stored["key"] == sent["key"]
    assert (stored["quantity"], stored["run_id"]) == ("2.5", run_id)
    assert stored["attributes"] == {"document_type": "invoice"}


def test_usage_waits_in_the_outbox_while_ebling_is_down(
    own_ebling: EblingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_ebling.start()
    key = own_ebling.admin_key
    own_ebling.stop()

    with EblingClient(own_ebling.url, api_key=key, retries=FAST_RETRIES) as down:
        monkeypatch.delenv(OUTBOX_VARIABLE, raising=False)
        with pytest.raises(EblingUnavailable):
            record_usage("pages_scanned", 3, client=down)

        monkeypatch.setenv(OUTBOX_VARIABLE, str(tmp_path / "outbox.sqlite"))
        queued = record_usage("pages_scanned", 3, client=down, account="acme")

    outbox = Outbox(tmp_path / "outbox.sqlite", senders=SENDERS)
    assert outbox.pending_count() == 1
    own_ebling.start()
    with EblingClient(own_ebling.url, api_key=key, retries=FAST_RETRIES) as up:
        # Delivered twice over (as after a crash between sending and forgetting): once counted.
        up.send_usage([queued])
        report = outbox.deliver(up)
    assert (report.delivered, report.pending, report.error) == (1, 0, None)
    assert [item["key"] for item in usage_of(own_ebling, account="acme")] == [queued["key"]]


@pytest.mark.parametrize(
    ("quantity", "complaint"),
    [(0.1, "not a float"), ("many", "not a decimal"), ("NaN", "not a finite")],
)
def test_inexact_quantities_are_refused_before_sending(quantity: Any, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        usage_record("documents_processed", quantity)


def test_each_record_gets_a_key_of_its_own() -> None:
    first = usage_record("documents_processed", 1)
    second = usage_record("documents_processed", 1)
    assert first["key"] != second["key"]
    assert first["quantity"] == "1"
    assert first["occurred_at"].endswith("+00:00")
