"""An OpenLineage transport that hands Airflow's events to Ebling through Arcadia's outbox.

Airflow's OpenLineage provider builds the events (DAG runs, task runs, their facets); this
transport only decides where they go. Configure it with
``[openlineage] transport = {"type": "arcadia_airflow.lineage.EblingTransport"}`` — the
Arcadia plugin does that by itself when nothing else is configured.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import attr
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from arcadia_airflow.hooks.ebling import DEFAULT_CONN_ID, EblingHook

__all__ = ["EblingTransport", "EblingTransportConfig"]

log = logging.getLogger(__name__)


@attr.define
class EblingTransportConfig(Config):
    """Which Airflow connection of type ``ebling`` to report to."""

    conn_id: str = DEFAULT_CONN_ID

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> EblingTransportConfig:
        """Read ``conn_id`` from the transport's configuration."""
        return cls(conn_id=str(params.get("conn_id") or DEFAULT_CONN_ID))


class EblingTransport(Transport):
    """Writes each event to the outbox, then delivers whatever is waiting.

    A task never fails because Ebling is down: the event stays on disk and goes out with
    the next one that finds Ebling up, in order.
    """

    kind = "arcadia_ebling"
    config_class = EblingTransportConfig

    def __init__(self, config: EblingTransportConfig) -> None:
        self.config = config
        self._transport = EblingHook(config.conn_id).lineage_transport()

    def emit(self, event: Any) -> None:
        """Hand one event over; never raises because Ebling is unreachable."""
        self._transport.emit(json.loads(Serde.to_json(event)))

    def close(self, timeout: float = -1) -> bool:
        """Try once more to deliver what waits, for at most ``timeout`` seconds."""
        report = self._transport.flush(max_seconds=None if timeout < 0 else timeout)
        return report.error is None
