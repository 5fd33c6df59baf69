"""Usage: what automations consumed (documents processed, pages scanned), counted once.

Each record carries a key its sender chose when the usage happened. A record sent again
with the same key and the same content (a retry, a replayed outbox) is stored once; the
same key with other content is a conflict, refused, because billing must never silently
pick one of two different claims. Quantities are exact decimals, kept as integer millionths
so that sums are exact on every database.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ebling.db.dialect import insert_for
from ebling.db.models import UsageRecord

__all__ = [
    "MAX_QUANTITY",
    "QUANTITY_SCALE",
    "InvalidUsage",
    "UsageConflict",
    "UsageIn",
    "UsageResult",
    "UsageTotal",
    "parse_usage",
    "quantity_of",
    "store_usage",
    "usage_totals",
]

# Six decimal places: enough for fractions of a page or of a CPU hour, few enough to sum
# as 64-bit integers (a billion units a record, nine million million records).
QUANTITY_SCALE = 1_000_000
MAX_QUANTITY = Decimal(10**12)

Key = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
Metric = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.\-]{0,99}$")]
Account = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class UsageIn(BaseModel):
    """One usage record as senders write it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Key = Field(
        description="Chosen by the sender when the usage happened (a UUID is a good choice); "
        "the same key is counted once."
    )
    metric: Metric = Field(description="What was used, e.g. documents_processed, pages_scanned.")
    quantity: Decimal = Field(
        ge=0, lt=MAX_QUANTITY, decimal_places=6, description="How much, up to six decimals."
    )
    occurred_at: AwareDatetime = Field(description="When it was used (RFC 3339, with offset).")
    run_id: uuid.UUID | None = Field(default=None, description="The run that used it.")
    account: Account | None = Field(
        default=None, description="The billing account or cost centre it is for, if known."
    )
    attributes: dict[str, str | int | float | bool] = Field(
        default_factory=dict, max_length=50, description="Further details, e.g. document type."
    )


_BATCH = TypeAdapter(list[UsageIn])


class InvalidUsage(Exception):
    """Records that do not validate; ``errors`` lists each by index and field."""

    def __init__(self, summary: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(summary)
        self.summary = summary
        self.errors = errors


class UsageConflict(Exception):
    """Keys already recorded with other content."""

    def __init__(self, keys: Sequence[str]) -> None:
        shown = ", ".join(repr(key) for key in keys[:10])
        super().__init__(
            f"Usage with the key(s) {shown} was recorded before with other content; a key "
            "stands for one usage, so send a new key for new usage."
        )
        self.keys = list(keys)


@dataclass(frozen=True, slots=True)
class UsageResult:
    """What a request stored: ``received`` = ``stored`` + ``duplicates``."""

    received: int
    stored: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """The sum of one metric for one account over a time range."""

    metric: str
    account: str | None
    quantity: Decimal
    records: int


def parse_usage(body: bytes, *, max_records: int) -> list[UsageIn]:
    """Records from a JSON body: one object or an array of at most ``max_records``.

    Raises:
        InvalidUsage: the body is no JSON, holds too many records, or a record is invalid.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidUsage(f"The body is not valid JSON: {error}.", []) from error
    items = document if isinstance(document, list) else [document]
    if not items:
        raise InvalidUsage("The array is empty; send at least one usage record.", [])
    if len(items) > max_records:
        raise InvalidUsage(f"{len(items)} records in one request; send at most {max_records}.", [])
    try:
        records = _BATCH.validate_python(items)
    except ValidationError as invalid:
        errors = [
            {
                "index": error["loc"][0] if error["loc"] else None,
                "field": ".".join(str(part) for part in error["loc"][1:]) or None,
                "message": error["msg"],
            }
            for error in invalid.errors(include_url=False)
        ]
        raise InvalidUsage(f"{len(errors)} error(s) in the usage records.", errors) from invalid
    _check_keys_within_batch(records)
    return records


def _check_keys_within_batch(records: list[UsageIn]) -> None:
    seen: dict[str, UsageIn] = {}
    errors = []
    for index, record in enumerate(records):
        earlier = seen.setdefault(record.key, record)
        if earlier != record:
            errors.append(
                {
                    "index": index,
                    "field": "key",
                    "message": f"the key {record.key!r} came earlier in this batch with other "
                    "content",
                }
            )
    if errors:
        raise InvalidUsage(f"{len(errors)} error(s) in the usage records.", errors)


def _digest(record: UsageIn) -> bytes:
    canonical = record.model_dump(mode="json")
    # The same instant written with another offset is the same usage.
    canonical["occurred_at"] = record.occurred_at.astimezone(UTC).isoformat()
    canonical["quantity"] = str(record.quantity.normalize())  # 1.50 and 1.5 are one quantity
    encoded = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(encoded, digest_size=16).digest()


def store_usage(
    session: Session, records: list[UsageIn], *, recorded_by: str | None = None
) -> UsageResult:
    """Store the records whose keys are new; the caller commits.

    Raises:
        UsageConflict: a key was recorded before with other content; nothing was stored.
    """
    unique = {record.key: record for record in records}
    digests = {key: _digest(record) for key, record in unique.items()}
    known = dict(
        session.execute(
            select(UsageRecord.key, UsageRecord.content_digest).where(
                UsageRecord.key.in_(sorted(digests))
            )
        ).all()
    )
    conflicts = sorted(key for key, digest in known.items() if digests[key] != digest)
    if conflicts:
        raise UsageConflict(conflicts)

    now = datetime.now(UTC)
    rows = [
        {
            "key": key,
            "content_digest": digests[key],
            "metric": record.metric,
            "quantity_millionths": int(record.quantity * QUANTITY_SCALE),
            "occurred_at": record.occurred_at,
            "run_id": record.run_id,
            "account": record.account,
            "attributes": record.attributes,
            "received_at": now,
            "recorded_by": recorded_by,
        }
        for key, record in sorted(unique.items())
        if key not in known
    ]
    stored = 0
    if rows:
        statement = (
            insert_for(session, UsageRecord.__table__)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(UsageRecord.__table__.c.key)
        )
        # A concurrent request may have stored one of these keys since the look-up above;
        # the unique key keeps it once, and what comes back says which rows were ours.
        stored = len(session.execute(statement, rows).all())
    return UsageResult(received=len(records), stored=stored, duplicates=len(records) - stored)


def usage_totals(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    metric: str | None = None,
    account: str | None = None,
) -> list[UsageTotal]:
    """Sums per metric and account of the usage that occurred in ``[since, until)``."""
    conditions = []
    if since is not None:
        conditions.append(UsageRecord.occurred_at >= since)
    if until is not None:
        conditions.append(UsageRecord.occurred_at < until)
    if metric is not None:
        conditions.append(UsageRecord.metric == metric)
    if account is not None:
        conditions.append(UsageRecord.account == account)
    rows = session.execute(
        select(
            UsageRecord.metric,
            UsageRecord.account,
            func.sum(UsageRecord.quantity_millionths),
            func.count(),
        )
        .where(*conditions)
        .group_by(UsageRecord.metric, UsageRecord.account)
        .order_by(UsageRecord.metric, UsageRecord.account)
    ).all()
    return [
        UsageTotal(metric, account, quantity_of(int(total)), int(count))
        for metric, account, total, count in rows
    ]


def quantity_of(millionths: int) -> Decimal:
    """The decimal quantity a stored integer stands for."""
    value = Decimal(millionths) / QUANTITY_SCALE
    # normalize() alone would write 10 as 1E+1.
    return value.to_integral() if value == value.to_integral() else value.normalize()
