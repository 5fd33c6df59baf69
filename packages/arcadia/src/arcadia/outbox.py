"""A durable outbox: what is meant for Ebling waits in a local SQLite file until Ebling has it.

A workflow must not fail, and must not lose what it reports, because Ebling is down. So
events are first written to disk (:meth:`Outbox.enqueue` returns once they are committed),
and delivered later (:meth:`Outbox.deliver`), in the order they were written, and removed
only once Ebling has acknowledged them.

Delivery is at least once: a deliverer that crashes between Ebling's answer and the removal
sends those items again next time. Exactly once, as the user sees it, comes from Ebling:
it stores an event sent twice once (each is keyed by a hash of its content), and a report
file sent twice to the same report once. Deliveries of other kinds should be just as safe
to repeat.

Several processes may share one file (two Airflow workers on one machine, say). Writes
queue on SQLite's lock, and a lease in the file lets one process deliver at a time, so
items are sent in order and not twice at once; a process that finds the lease held leaves
the delivering to its holder. A lease outlives its holder only if the holder is killed,
and then only for ``lease_seconds``.

An item Ebling refuses as invalid (a 4xx about its content) moves to a dead-letter table
with Ebling's explanation, so one bad event never blocks the queue; :meth:`Outbox.dead_letters`
lists them.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arcadia.client import (
    EblingAuthError,
    EblingClient,
    EblingError,
    EblingRequestError,
    EblingUnavailable,
)

__all__ = [
    "LINEAGE",
    "OUTBOX_VARIABLE",
    "DeadLetter",
    "DeliveryReport",
    "Outbox",
    "OutboxError",
    "OutboxTransport",
    "Sender",
    "outbox_from_env",
]

log = logging.getLogger(__name__)

LINEAGE = "lineage"
"""The kind of OpenLineage run events; consecutive ones are sent in one request."""

OUTBOX_VARIABLE = "ARCADIA_OUTBOX"
"""Names a task's outbox file; orchestrator integrations set it from their connection."""

Sender = Callable[[EblingClient, Any], object]
"""Delivers one item's payload with the client; raises the client's errors on failure."""

# Ebling's default limit of events per lineage request.
MAX_BATCH_SIZE = 1000

# Refusals that are about the item itself: sending it again gets the same answer, so it is
# set aside. Any other refusal (404 from a wrong URL, 405, ...) is about the setup, and
# would refuse every item alike; those stop delivery and keep the items.
_ITEM_REFUSALS = frozenset({400, 409, 413, 415, 422})

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    enqueued_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_items_by_kind ON outbox_items (kind, id);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    failed_at REAL NOT NULL,
    status INTEGER,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS delivery_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT,
    expires_at REAL NOT NULL
);
"""


class OutboxError(Exception):
    """The outbox file could not be read or written: a full disk, permissions, corruption."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"The outbox at {path} could not be used: {reason}. Check the disk's free space "
            "and the file's permissions."
        )


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one :meth:`Outbox.deliver` did.

    Attributes:
        delivered: Items Ebling acknowledged, now removed.
        dead_lettered: Items Ebling refused as invalid, now in the dead-letter table.
        pending: Items still waiting, of every kind, after this delivery.
        error: Why delivery stopped early: Ebling unreachable or failing, credentials
            refused, or a refusal that is not about an item. ``None`` if it did not.
        busy: True if another process held the delivery lease, so this one left the
            delivering to it.
    """

    delivered: int
    dead_lettered: int
    pending: int
    error: EblingError | None = None
    busy: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An item Ebling refused, kept with the reason.

    Attributes:
        id: The item's id, which was its place in the queue.
        kind: The item's kind.
        payload: The item as it was enqueued.
        status: Ebling's HTTP status.
        error: What Ebling said was wrong with it.
        enqueued_at: When it was enqueued.
        failed_at: When Ebling refused it.
    """

    id: int
    kind: str
    payload: Any
    status: int | None
    error: str
    enqueued_at: datetime
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class _Item:
    id: int
    kind: str
    payload: Any


@dataclass(slots=True)
class _Tally:
    delivered: int = 0
    dead_lettered: int = 0


class Outbox:
    """Items for Ebling, kept in a SQLite file until Ebling has acknowledged them.

    Every method opens its own short-lived connection, so one ``Outbox`` may be used from
    several threads, and survives a fork (the way Airflow and Celery start workers).

    Args:
        path: The SQLite file; created, with its folder, if missing.
        senders: How to deliver kinds other than :data:`LINEAGE`: a function per kind
            taking the client and the payload. A deliverer only sends the kinds it has a
            sender for; other kinds wait for one that does.
        lease_seconds: How long the lease lets one process deliver before another may take
            over; it must be longer than the slowest request with all its retries.
        busy_timeout: Seconds to wait for another process's write to finish.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        senders: Mapping[str, Sender] | None = None,
        lease_seconds: float = 300.0,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        self._busy_timeout = busy_timeout
        self._senders = dict(senders or {})
        if LINEAGE in self._senders:
            raise ValueError(
                f"Lineage events have their own delivery; {LINEAGE!r} takes no sender."
            )
        self._create()

    def __repr__(self) -> str:
        return f"Outbox({str(self.path)!r})"

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds this outbox accepts and delivers."""
        return frozenset({LINEAGE, *self._senders})

    def enqueue(self, kind: str, payload: Any) -> int:
        """Add one item; it is on disk when this returns.

        Args:
            kind: :data:`LINEAGE` for an OpenLineage event, or a kind with a sender.
            payload: The item, JSON-serialisable; for lineage, the event as a mapping.

        Returns:
            The item's id; ids grow in the order items are enqueued.

        Raises:
            ValueError: ``kind`` has no sender, or ``payload`` holds NaN or infinity.
            TypeError: ``payload`` is not JSON-serialisable, or a lineage event is not a
                mapping.
            OutboxError: the file could not be written.
        """
        (item_id,) = self.enqueue_many(kind, [payload])
        return item_id

    def enqueue_many(self, kind: str, payloads: Iterable[Any]) -> list[int]:
        """Add several items of one kind in one transaction: all are on disk, or none.

        Returns:
            The items' ids, in order.

        Raises:
            ValueError: ``kind`` has no sender, or a payload holds NaN or infinity.
            TypeError: a payload is not JSON-serialisable, or a lineage event is not a
                mapping.
            OutboxError: the file could not be written.
        """
        if kind not in self.kinds:
            known = ", ".join(sorted(self.kinds))
            raise ValueError(f"No sender for kind {kind!r}; known kinds: {known}.")
        rows = [(kind, _encode(kind, payload), time.time()) for payload in payloads]

        with self._transaction() as connection:
            ids = [
                connection.execute(
                    "INSERT INTO outbox_items (kind, payload, enqueued_at) VALUES (?, ?, ?)", row
                ).lastrowid
                for row in rows
            ]
        return [item_id for item_id in ids if item_id is not None]

    def pending_count(self) -> int:
        """Items waiting for delivery, of every kind."""
        with self._connection() as connection:
            (count,) = connection.execute("SELECT count(*) FROM outbox_items").fetchone()
        return int(count)

    def dead_letters(self) -> list[DeadLetter]:
        """The items Ebling refused, oldest first, each with what Ebling said was wrong."""
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT id, kind, payload, status, error, enqueued_at, failed_at "
                "FROM dead_letters ORDER BY id"
            ).fetchall()
        return [
            DeadLetter(
                id=row[0],
                kind=row[1],
                payload=json.loads(row[2]),
                status=row[3],
                error=row[4],
                enqueued_at=datetime.fromtimestamp(row[5], UTC),
                failed_at=datetime.fromtimestamp(row[6], UTC),
            )
            for row in rows
        ]

    def deliver(
        self,
        client: EblingClient,
        *,
        batch_size: int = 500,
        max_seconds: float | None = 60.0,
    ) -> DeliveryReport:
        """Send waiting items to Ebling, oldest first, removing each once acknowledged.

        Consecutive lineage events go in one request of up to ``batch_size``. Delivery
        stops, keeping the rest in order, when Ebling is unavailable or refuses the
        credentials; it never raises for those, but says so in the report. An item Ebling
        refuses as invalid moves to the dead letters and the rest go on; in a refused batch,
        the events Ebling names are set aside, or the batch is halved until they are found.

        Args:
            client: The client to send with.
            batch_size: The most lineage events per request, 1 to 1,000.
            max_seconds: Start no new request after this long; ``None`` for no limit.

        Returns:
            What was delivered, set aside and left, and why delivery stopped early.

        Raises:
            ValueError: ``batch_size`` is out of range.
            OutboxError: the file could not be read or written.
        """
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(
                f"batch_size must be between 1 and {MAX_BATCH_SIZE}, not {batch_size}."
            )
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        tally = _Tally()
        error: EblingError | None = None
        busy = False

        try:
            while deadline is None or time.monotonic() < deadline:
                # Taken, then renewed, before every request: a holder that overran its lease
                # finds out here and stops, rather than racing the process that took over.
                if not self._hold_lease(holder):
                    busy = True
                    break
                items = self._next_items(batch_size)
                if not items:
                    break
                try:
                    self._send(client, items, tally)
                except (EblingUnavailable, EblingAuthError, EblingRequestError) as failure:
                    error = failure
                    log.warning("Outbox delivery stopped, items kept for later: %s", failure)
                    break
        finally:
            self._release_lease(holder)
        return DeliveryReport(
            delivered=tally.delivered,
            dead_lettered=tally.dead_lettered,
            pending=self.pending_count(),
            error=error,
            busy=busy,
        )

    def _send(self, client: EblingClient, items: list[_Item], tally: _Tally) -> None:
        if items[0].kind == LINEAGE:
            self._send_lineage(client, items, tally)
            return
        (item,) = items
        try:
            self._senders[item.kind](client, item.payload)
        except EblingRequestError as refusal:
            if refusal.status not in _ITEM_REFUSALS:
                raise
            self._set_aside({item.id: str(refusal)}, refusal.status)
            tally.dead_lettered += 1
            return
        self._remove([item.id])
        tally.delivered += 1

    def _send_lineage(self, client: EblingClient, items: list[_Item], tally: _Tally) -> None:
        # Ebling stores a batch all or nothing, so one invalid event refuses its batch.
        # Set aside the events the refusal names and resend the rest; when it names none
        # (a batch too large, say), halve the batch until the culprit is alone.
        while items:
            try:
                client.send_lineage([item.payload for item in items])
            except EblingRequestError as refusal:
                if refusal.status not in _ITEM_REFUSALS:
                    raise
                named = _errors_by_index(refusal, len(items))
                if len(items) == 1 and not named:
                    named = {0: str(refusal)}
                if named:
                    self._set_aside(
                        {items[i].id: text for i, text in named.items()}, refusal.status
                    )
                    tally.dead_lettered += len(named)
                    items = [item for i, item in enumerate(items) if i not in named]
                    continue
                half = len(items) // 2
                self._send_lineage(client, items[:half], tally)
                items = items[half:]
                continue
            self._remove([item.id for item in items])
            tally.delivered += len(items)
            return

    def _next_items(self, batch_size: int) -> list[_Item]:
        kinds = sorted(self.kinds)
        marks = ", ".join("?" * len(kinds))
        # Only placeholders are put into the text; the kinds are bound as parameters.
        query = (
            f"SELECT id, kind, payload FROM outbox_items WHERE kind IN ({marks}) "  # noqa: S608
            "ORDER BY id LIMIT ?"
        )
        with self._connection() as connection:
            rows = connection.execute(query, (*kinds, batch_size)).fetchall()
        if not rows:
            return []
        first_kind = rows[0][1]
        if first_kind != LINEAGE:
            rows = rows[:1]
        leading = []
        for item_id, kind, payload in rows:
            if kind != first_kind:
                break
            leading.append(_Item(item_id, kind, json.loads(payload)))
        return leading

    def _remove(self, ids: list[int]) -> None:
        with self._transaction() as connection:
            connection.executemany("DELETE FROM outbox_items WHERE id = ?", [(i,) for i in ids])

    def _set_aside(self, errors: Mapping[int, str], status: int) -> None:
        now = time.time()
        with self._transaction() as connection:
            for item_id, error in errors.items():
                connection.execute(
                    "INSERT OR REPLACE INTO dead_letters "
                    "(id, kind, payload, enqueued_at, failed_at, status, error) "
                    "SELECT id, kind, payload, enqueued_at, ?, ?, ? FROM outbox_items WHERE id = ?",
                    (now, status, error, item_id),
                )
                connection.execute("DELETE FROM outbox_items WHERE id = ?", (item_id,))
        log.warning("Ebling refused %d outbox item(s); moved to the dead letters", len(errors))

    def _hold_lease(self, holder: str) -> bool:
        now = time.time()
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT holder, expires_at FROM delivery_lease WHERE id = 1"
            ).fetchone()
            if row is not None and row[0] not in (None, holder) and row[1] > now:
                return False
            connection.execute(
                "INSERT OR REPLACE INTO delivery_lease (id, holder, expires_at) VALUES (1, ?, ?)",
                (holder, now + self.lease_seconds),
            )
        return True

    def _release_lease(self, holder: str) -> None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE delivery_lease SET holder = NULL WHERE id = 1 AND holder = ?", (holder,)
            )

    def _create(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutboxError(self.path, str(error)) from error
        with self._connection() as connection:
            # WAL lets readers go on while one process writes, and stays set in the file.
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("BEGIN IMMEDIATE")
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version > _SCHEMA_VERSION:
                connection.execute("ROLLBACK")
                raise OutboxError(
                    self.path, f"it was written by a newer arcadia (schema {version})"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            connection.execute("COMMIT")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None
            )
        except sqlite3.Error as error:
            raise OutboxError(self.path, str(error)) from error
        try:
            # FULL syncs the log at every commit, so an enqueued item survives a power cut.
            connection.execute("PRAGMA synchronous = FULL")
            yield connection
        except sqlite3.Error as error:
            raise OutboxError(self.path, str(error)) from error
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock at once, so two processes never both read the
        # lease as free and both take it.
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")


def _encode(kind: str, payload: Any) -> str:
    if kind == LINEAGE and not isinstance(payload, Mapping):
        raise TypeError(f"A lineage event is a mapping, not {type(payload).__name__}.")
    # allow_nan=False: Ebling reads strict JSON, and an event it cannot parse is lost.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _errors_by_index(refusal: EblingRequestError, count: int) -> dict[int, str]:
    found: dict[int, list[str]] = {}
    for error in refusal.errors:
        index = error.get("index")
        if isinstance(index, int) and 0 <= index < count:
            field = error.get("field")
            message = str(error.get("message", ""))
            found.setdefault(index, []).append(f"{field}: {message}" if field else message)
    return {index: "; ".join(messages) for index, messages in found.items()}


class OutboxTransport:
    """Emits lineage events through an outbox, delivering right away when Ebling is up.

    :meth:`emit` writes the event to disk, then tries to deliver everything waiting. When
    Ebling is unavailable it keeps the events and, for ``pause_after_failure`` seconds, only
    writes, so a workflow is not slowed down by a retry wait per event while Ebling is
    down. Give it a client with few retries (``retries=1``) to keep an emit short.

    Args:
        outbox: Where events wait.
        client: The client to deliver with.
        batch_size: The most events per request.
        deliver_seconds: How long one emit may spend delivering.
        pause_after_failure: Seconds after a failed delivery during which emits only write.
    """

    def __init__(
        self,
        outbox: Outbox,
        client: EblingClient,
        *,
        batch_size: int = 500,
        deliver_seconds: float = 10.0,
        pause_after_failure: float = 30.0,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.batch_size = batch_size
        self.deliver_seconds = deliver_seconds
        self.pause_after_failure = pause_after_failure
        self._paused_until = 0.0

    def emit(self, event: Mapping[str, Any]) -> None:
        """Write ``event`` to the outbox, then deliver what is waiting if Ebling is up.

        Never raises because Ebling is down, slow or refusing: the event is on disk.

        Raises:
            OutboxError: the event could not be written (a full disk, say).
            TypeError: ``event`` is not a JSON-serialisable mapping.
        """
        self.outbox.enqueue(LINEAGE, event)
        if time.monotonic() < self._paused_until:
            return
        self._deliver(self.deliver_seconds)

    def flush(self, *, max_seconds: float | None = None) -> DeliveryReport:
        """Deliver everything waiting now, pause or not; for the end of a process."""
        return self._deliver(max_seconds)

    def _deliver(self, max_seconds: float | None) -> DeliveryReport:
        report = self.outbox.deliver(
            self.client, batch_size=self.batch_size, max_seconds=max_seconds
        )
        if report.error is not None:
            self._paused_until = time.monotonic() + self.pause_after_failure
        else:
            self._paused_until = 0.0
        return report


def outbox_from_env(senders: Mapping[str, Sender]) -> Outbox | None:
    """The outbox ``ARCADIA_OUTBOX`` names, able to deliver ``senders``' kinds; None if unset.

    What a task falls back on when Ebling cannot be reached: an item left there goes out with
    the integration's next delivery.
    """
    path = os.environ.get(OUTBOX_VARIABLE)
    return Outbox(path, senders=senders) if path else None
