"""A monitoring system mails its daily reports as CSV attachments; save them into Ebling.

The DAG as its author wrote it (Airflow 3's task SDK). Its runs and task runs reach Ebling
through the Arcadia plugin without a line of reporting code, and ``save_reports`` links each
saved file to the run and the message it came with.

Where the mail is read from is the one thing to set: ``MONITORING_MAILDIR`` for a Maildir
folder, or an ``imap`` connection named ``monitoring_imap`` (host, port, login, password;
extra ``{"security": "starttls"}`` if not TLS) for a real mailbox, with ``MONITORING_FOLDER``
naming its folder if not the inbox.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import List

from airflow.sdk import dag, task
from arcadia.email import EmailFilter, ImapMailbox, Mailbox, MaildirMailbox, Message
from arcadia.reports import save_reports
from arcadia_airflow.sensors.email import EmailSensor


def monitoring_mailbox() -> Mailbox:
    """The mailbox the monitoring system writes to."""
    maildir = os.environ.get("MONITORING_MAILDIR")
    if maildir:
        return MaildirMailbox(maildir)
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection("monitoring_imap")
    return ImapMailbox(
        connection.host,
        connection.port,
        username=connection.login,
        password=connection.password,
        security=connection.extra_dejson.get("security", "tls"),
    )


email_filter = EmailFilter(
    monitoring_mailbox(),
    sender="@monitoring.example.org",
    subject=r"Daily monitoring report",
    has_attachments=True,
    attachment_name="*.csv",
    folder=os.environ.get("MONITORING_FOLDER", "INBOX"),
)


# fmt: off
# The DAG exactly as its author wrote it.
@dag(schedule=timedelta(days=1), start_date=datetime(2021, 1, 20), catchup=False)
def monitoring_system_report_automation():
    check_for_monitoring_event = EmailSensor(
        task_id="wait_for_monitoring_reports_email", email_filter=email_filter)

    @task(task_id="get_monitoring_reports_email")
    def get_emails() -> List[Message]:
        return email_filter.get_emails()

    @task(task_id="save_csv_in_database")
    def save_csv_in_database(emails: List[Message]) -> None:
        for email in emails:
            for attachment in email.attachments:
                save_reports(attachment)

    emails = get_emails()
    check_for_monitoring_event >> emails >> save_csv_in_database(emails)

save_monitoring_reports = monitoring_system_report_automation()
# fmt: on
