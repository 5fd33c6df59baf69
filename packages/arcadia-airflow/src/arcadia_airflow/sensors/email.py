"""Waiting for e-mail in a DAG: a sensor over an Arcadia :class:`~arcadia.email.EmailFilter`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.configuration import conf
from airflow.exceptions import AirflowException
from airflow.sdk import BaseSensorOperator
from arcadia.email import EmailFilter, filter_to_config

from arcadia_airflow.triggers.email import EmailTrigger

__all__ = ["EmailSensor"]


class EmailSensor(BaseSensorOperator):
    """Succeeds once the filter's mailbox holds a matching message not yet processed.

    It looks at headers and message structure only, and marks nothing: the task that
    takes the messages (``email_filter.get_emails()``) is the one that records them as
    processed, so a message is handled once even if the sensor runs many times.

    Three ways to wait: ``mode="poke"`` (the default) keeps its worker slot between checks,
    ``mode="reschedule"`` frees it and is run again later, and ``deferrable=True`` hands the
    waiting to the triggerer (:class:`~arcadia_airflow.triggers.email.EmailTrigger`), which
    watches many mailboxes in one process. ``[operators] default_deferrable`` sets the
    default for the last.

    :param email_filter: Which messages count, and where to look for them.
    :param deferrable: Wait in the triggerer rather than in a worker.
    """

    template_fields = ()
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        email_filter: EmailFilter,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.email_filter = email_filter
        self.deferrable = deferrable
        if deferrable:
            # Fail when the DAG is parsed, not hours later, if the trigger could not rebuild it.
            filter_to_config(email_filter)

    def poke(self, context: Any) -> bool:
        """Whether a new matching message is waiting."""
        found = self.email_filter.has_new()
        if not found:
            self.log.info("No new matching e-mail yet in %s", self.email_filter.scope)
        return found

    def execute(self, context: Any) -> Any:
        """Check once; then wait as the mode says, in the triggerer when deferrable."""
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        self.defer(
            trigger=EmailTrigger(
                email_filter=filter_to_config(self.email_filter),
                poke_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )
        return None  # defer() raises; this line is never reached

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        """Resume after the trigger fired: done if it found mail, failed if it could not look."""
        if event.get("status") != "found":
            raise AirflowException(f"Waiting for e-mail failed: {event.get('message')}")
        self.log.info("New matching e-mail in %s", event.get("scope"))
