"""A DAG whose e-mail sensor waits in the triggerer, then records the mail it took as usage."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import dag, task
from arcadia.email import EmailFilter, MaildirMailbox
from arcadia.usage import record_usage
from arcadia_airflow.sensors.email import EmailSensor

email_filter = EmailFilter(
    MaildirMailbox(os.environ.get("MONITORING_MAILDIR", "/nonexistent"), create=True),
    subject="Daily monitoring report",
    has_attachments=True,
)


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def deferred_email_wait() -> None:
    """Wait for the report mail without a worker slot, then take it and record the usage."""
    wait = EmailSensor(
        task_id="wait_for_mail", email_filter=email_filter, deferrable=True, poke_interval=0.5
    )

    @task
    def take() -> list[str]:
        messages = email_filter.get_emails()
        record_usage("emails_processed", len(messages), account="monitoring")
        return [message.subject for message in messages]

    wait >> take()


deferred_email_wait()
