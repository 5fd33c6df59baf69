"""Waiting for e-mail in Airflow's triggerer, so a deferred sensor holds no worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from arcadia.email import MailboxUnavailable, filter_from_config

__all__ = ["EmailTrigger"]


class EmailTrigger(BaseTrigger):
    """Fires once the filter's mailbox holds a matching message not yet processed.

    The triggerer cannot import DAG files, so the filter travels as the config of
    :func:`arcadia.email.filter_to_config`, mailbox credentials included; Airflow encrypts a
    trigger's arguments with its Fernet key before it stores them.

    A mailbox that cannot be reached is asked again at the next interval, as a sensor in
    reschedule mode would be; any other error (a refused login, a missing folder) ends the
    wait with an ``error`` event whose message the sensor raises.

    :param email_filter: The filter, as ``filter_to_config`` wrote it.
    :param poke_interval: Seconds between two looks at the mailbox.
    """

    def __init__(self, *, email_filter: dict[str, Any], poke_interval: float = 60) -> None:
        super().__init__()
        self.email_filter = email_filter
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and arguments the triggerer rebuilds this trigger from."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"email_filter": self.email_filter, "poke_interval": self.poke_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Look at the mailbox every ``poke_interval`` seconds until a message waits."""
        email_filter = filter_from_config(self.email_filter)
        while True:
            try:
                # The mailbox clients block; a thread keeps the triggerer's event loop free
                # for the other triggers it runs.
                found = await asyncio.to_thread(email_filter.has_new)
            except MailboxUnavailable as error:
                self.log.warning("Mailbox unreachable, trying again later: %s", error)
            except Exception as error:  # noqa: BLE001 - any other failure ends the wait, reported
                yield TriggerEvent({"status": "error", "message": str(error)})
                return
            else:
                if found:
                    yield TriggerEvent({"status": "found", "scope": email_filter.scope})
                    return
                self.log.info("No new matching e-mail yet in %s", email_filter.scope)
            await asyncio.sleep(self.poke_interval)
