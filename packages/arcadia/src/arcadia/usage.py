"""Recording what a workflow used (documents processed, pages scanned) for billing.

``record_usage`` gives each piece of usage a key the moment it is recorded, so that however
often it is sent (a retry, an outbox delivering again after Ebling was down), Ebling counts
it once: usage is never lost and never counted twice.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from arcadia.client import EblingClient
from arcadia.client.errors import EblingUnavailable
from arcadia.outbox import Outbox, outbox_from_env
from arcadia.reports import RUN_ID_VARIABLE

__all__ = ["SENDERS", "USAGE", "record_usage", "usage_record"]

log = logging.getLogger(__name__)

# The outbox kind of a usage record waiting for Ebling.
USAGE = "usage"


def _send_usage(client: EblingClient, record: dict[str, Any]) -> None:
    client.send_usage([record])


# What an Outbox needs to deliver the usage record_usage leaves in it.
SENDERS = {USAGE: _send_usage}


def usage_record(
    metric: str,
    quantity: Decimal | int | str,
    *,
    account: str | None = None,
    run_id: uuid.UUID | str | None = None,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    occurred_at: datetime | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """One usage record as Ebling takes it, with a new key unless one is given.

    Raises:
        ValueError: ``quantity`` is no finite decimal (floats are refused: 0.1 is not
            exactly a tenth; pass ``"0.1"``), or ``occurred_at`` has no time zone.
    """
    if isinstance(quantity, float):
        raise ValueError(f"pass quantity {quantity!r} as a string or Decimal, not a float")
    try:
        exact = Decimal(quantity)
    except InvalidOperation as error:
        raise ValueError(f"quantity {quantity!r} is not a decimal number") from error
    if not exact.is_finite():
        raise ValueError(f"quantity {quantity!r} is not a finite number")
    moment = occurred_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("occurred_at needs a time zone, e.g. datetime.now(UTC)")
    record: dict[str, Any] = {
        "key": key or str(uuid.uuid4()),
        "metric": metric,
        "quantity": format(exact, "f"),
        "occurred_at": moment.isoformat(),
        "attributes": dict(attributes or {}),
    }
    if account is not None:
        record["account"] = account
    if run_id is not None:
        record["run_id"] = str(run_id)
    return record


def record_usage(
    metric: str,
    quantity: Decimal | int | str,
    *,
    account: str | None = None,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    client: EblingClient | None = None,
    run_id: uuid.UUID | str | None = None,
    outbox: Outbox | None = None,
) -> dict[str, Any]:
    """Record that the running workflow used ``quantity`` of ``metric``.

    Sent at once; if Ebling cannot be reached the record waits in the outbox and goes out
    with its next delivery, keeping its key, so it is counted once either way.

    Args:
        metric: What was used, in lower case: ``documents_processed``, ``pages_scanned``.
        quantity: How much, exactly: an int, a ``Decimal`` or a decimal string.
        account: The billing account or cost centre it is for, if the workflow knows.
        attributes: Details to keep with it, such as ``{"document_type": "invoice"}``.
        client: The client to use; by default one from ``EBLING_URL`` and ``EBLING_API_KEY``.
        run_id: The workflow run that used it; by default ``ARCADIA_RUN_ID``, which the
            orchestrator integrations set for each task.
        outbox: Where the record waits while Ebling is down; by default the one named by
            ``ARCADIA_OUTBOX``. Without one, an unreachable Ebling raises.

    Returns:
        The record as sent (or queued), with its key.

    Raises:
        ValueError: ``quantity`` is no exact, finite number.
        EblingError: Ebling refused the record, or could not be reached and there is no
            outbox.
    """
    record = usage_record(
        metric,
        quantity,
        account=account,
        attributes=attributes,
        run_id=run_id or os.environ.get(RUN_ID_VARIABLE) or None,
    )
    client = client or EblingClient.from_env()
    try:
        _send_usage(client, record)
    except EblingUnavailable:
        outbox = outbox or outbox_from_env(SENDERS)
        if outbox is None:
            raise
        outbox.enqueue(USAGE, record)
        log.warning("Ebling is unreachable; usage %s waits in %s", record["key"], outbox.path)
    return record
