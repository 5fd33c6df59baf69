"""The ``ebling`` connection: where Ebling is, the key to use, and the local outbox."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook
from arcadia import EblingClient, Outbox, OutboxTransport
from arcadia.reports import SENDERS as REPORT_SENDERS
from arcadia.usage import SENDERS as USAGE_SENDERS

__all__ = ["DEFAULT_CONN_ID", "EblingHook"]

DEFAULT_CONN_ID = "ebling_default"
DEFAULT_OUTBOX = Path.home() / ".arcadia" / "outbox.db"


class EblingHook(BaseHook):
    """Clients for Ebling built from an Airflow connection of type ``ebling``.

    The connection's host is Ebling's URL and its password an API key; ``extra`` may name
    the OpenLineage ``namespace``, the ``outbox_path`` and a ``timeout``.

    :param ebling_conn_id: The connection to use.
    """

    conn_name_attr = "ebling_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "ebling"
    hook_name = "Ebling"

    def __init__(self, ebling_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ebling_conn_id = ebling_conn_id

    @cached_property
    def _connection(self) -> Any:
        return self.get_connection(self.ebling_conn_id)

    @property
    def base_url(self) -> str:
        """Ebling's URL; a bare host name is taken to mean https."""
        host = str(self._connection.host or "").rstrip("/")
        if not host:
            raise ValueError(
                f"Connection '{self.ebling_conn_id}' has no host: set it to Ebling's URL."
            )
        return host if "://" in host else f"https://{host}"

    @property
    def extra(self) -> dict[str, Any]:
        """The connection's extra fields."""
        return dict(self._connection.extra_dejson or {})

    def get_conn(self, *, retries: int | None = None) -> EblingClient:
        """A client for the connection's Ebling."""
        options: dict[str, Any] = {"api_key": self._connection.password or None}
        if self.extra.get("timeout"):
            options["timeout"] = float(self.extra["timeout"])
        if retries is not None:
            options["retries"] = retries
        return EblingClient(self.base_url, **options)

    @property
    def outbox_path(self) -> Path:
        """The outbox file: the connection's ``outbox_path``, else ``~/.arcadia/outbox.db``."""
        path = self.extra.get("outbox_path")
        return Path(path).expanduser() if path else DEFAULT_OUTBOX

    def outbox(self) -> Outbox:
        """Where events, and the reports and usage tasks record, wait while Ebling is away."""
        return Outbox(self.outbox_path, senders={**REPORT_SENDERS, **USAGE_SENDERS})

    def lineage_transport(self) -> OutboxTransport:
        """Where OpenLineage events go: the outbox, delivered at once when Ebling is up.

        One retry only: an event that cannot be delivered waits on disk rather than
        holding up the task that emitted it.
        """
        return OutboxTransport(self.outbox(), self.get_conn(retries=1))

    def test_connection(self) -> tuple[bool, str]:
        """Let the UI's Test button check that Ebling answers and takes the key."""
        try:
            client = self.get_conn(retries=0)
            healthy = client.health()
        except Exception as error:  # noqa: BLE001 - the UI shows any failure as text
            return False, str(error)
        return (True, "Ebling answered.") if healthy else (False, "Ebling is not ready.")
