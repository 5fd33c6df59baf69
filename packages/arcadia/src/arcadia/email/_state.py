"""What a filter has processed, remembered by Message-ID in a small SQLite file.

A message is processed once per *scope*: by default the mailbox's identity
(``imap://user@host:993``), so that two filters reading the same account share what they
did; filters that must each see every message give themselves scopes of their own.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from arcadia.email._errors import MailboxError

__all__ = ["ProcessedStore", "default_state_path"]

STATE_DIR_VARIABLE = "ARCADIA_STATE_DIR"
# SQLite allows 999 parameters per statement in older builds; stay well below.
_BATCH = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_messages (
    scope TEXT NOT NULL,
    message_id TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (scope, message_id)
) WITHOUT ROWID
"""


def default_state_path() -> Path:
    """``$ARCADIA_STATE_DIR/state.db``, or ``~/.arcadia/state.db`` when that is unset."""
    directory = os.environ.get(STATE_DIR_VARIABLE)
    base = Path(directory).expanduser() if directory else Path.home() / ".arcadia"
    return base / "state.db"


class ProcessedStore:
    """The Message-IDs processed so far, per scope, in an SQLite file.

    Nothing touches the disk until the store is first used, so creating one (or a filter)
    where a DAG file is parsed costs nothing. Several processes may share the file; SQLite
    serialises their writes. Workers on several machines need a path they all share, or a
    filter that also flags or moves what it processed.

    Args:
        path: The SQLite file; by default ``default_state_path()``.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_state_path()

    def __repr__(self) -> str:
        return f"ProcessedStore({str(self.path)!r})"

    def processed(self, scope: str, message_ids: Iterable[str]) -> set[str]:
        """Those of ``message_ids`` already processed in ``scope``."""
        wanted = list(dict.fromkeys(message_ids))
        found: set[str] = set()
        with self._connect() as connection:
            for start in range(0, len(wanted), _BATCH):
                batch = wanted[start : start + _BATCH]
                placeholders = ",".join("?" * len(batch))
                rows = connection.execute(
                    "SELECT message_id FROM processed_messages "  # noqa: S608 (only placeholders)
                    f"WHERE scope = ? AND message_id IN ({placeholders})",
                    [scope, *batch],
                )
                found.update(row[0] for row in rows)
        return found

    def record(self, scope: str, message_ids: Iterable[str]) -> None:
        """Remember ``message_ids`` as processed in ``scope`` (again is harmless)."""
        now = datetime.now(UTC).isoformat()
        rows = [(scope, message_id, now) for message_id in dict.fromkeys(message_ids)]
        if not rows:
            return
        with self._connect() as connection:
            connection.executemany(
                "INSERT OR IGNORE INTO processed_messages (scope, message_id, processed_at) "
                "VALUES (?, ?, ?)",
                rows,
            )

    def forget(self, scope: str, message_ids: Iterable[str] | None = None) -> int:
        """Forget ``message_ids`` (all of the scope's when ``None``), to process them again.

        Returns:
            How many were forgotten.
        """
        with self._connect() as connection:
            if message_ids is None:
                cursor = connection.execute(
                    "DELETE FROM processed_messages WHERE scope = ?", [scope]
                )
                return cursor.rowcount
            cursor = connection.executemany(
                "DELETE FROM processed_messages WHERE scope = ? AND message_id = ?",
                [(scope, message_id) for message_id in message_ids],
            )
            return cursor.rowcount

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per use: cheap for a file this small, and safe across fork().
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # closing() closes the file; the connection's own context is one transaction,
            # committed unless an error escapes.
            with closing(sqlite3.connect(self.path, timeout=30)) as connection, connection:
                connection.execute(_SCHEMA)
                yield connection
        except (sqlite3.Error, OSError) as error:
            raise MailboxError(
                str(self.path),
                f"cannot read or record processed messages ({error})",
                hint=f"point {STATE_DIR_VARIABLE} or state= at a writable place",
            ) from error
