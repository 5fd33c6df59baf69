"""Waiting for e-mail in a DAG: a sensor over an Arcadia :class:`~arcadia.email.EmailFilter`."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator
from arcadia.email import EmailFilter

__all__ = ["EmailSensor"]


class EmailSensor(BaseSensorOperator):
    """Succeeds once the filter's mailbox holds a matching message not yet processed.

    It looks at headers and message structure only, and marks nothing: the task that
    takes the messages (``email_filter.get_emails()``) is the one that records them as
    processed, so a message is handled once even if the sensor runs many times.

    Use ``mode="reschedule"`` to free the worker slot between checks.

    :param email_filter: Which messages count, and where to look for them.
    """

    template_fields = ()
    ui_color = "#e8f0fe"

    def __init__(self, *, email_filter: EmailFilter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.email_filter = email_filter

    def poke(self, context: Any) -> bool:
        """Whether a new matching message is waiting."""
        found = self.email_filter.has_new()
        if not found:
            self.log.info("No new matching e-mail yet in %s", self.email_filter.scope)
        return found
