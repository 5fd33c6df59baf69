"""A DAG whose e-mail sensor waits in the triggerer; the test delivers the mail late."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import dag, task
from arcadia.email import EmailFilter, MaildirMailbox
from arcadia_airflow.sensors.email import EmailSensor

email_filter = EmailFilter(
    MaildirMailbox(os.environ.get("MONITORING_MAILDIR", "/nonexistent"), create=True),
    subject="Daily monitoring report",
    has_attachments=True,
)


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def deferred_email_wait() -> None:
    """Wait for the report mail without a worker slot, then take it."""
    wait = EmailSensor(
        task_id="wait_for_mail", email_filter=email_filter, deferrable=True, poke_interval=0.5
    )

    @task
    def take() -> list[str]:
        return [message.subject for message in email_filter.get_emails()]

    wait >> take()


deferred_email_wait()
