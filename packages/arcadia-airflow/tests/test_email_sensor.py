"""The e-mail sensor in each of its ways of waiting, and the trigger it defers to."""

from __future__ import annotations

import asyncio
import importlib
import json
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred
from airflow.triggers.base import TriggerEvent
from airflow_stack import Ebling, airflow_env, free_port, monitoring_mail, run_airflow
from arcadia.email import EmailFilter, ImapMailbox, MaildirMailbox, filter_to_config
from arcadia_airflow.sensors.email import EmailSensor
from arcadia_airflow.triggers.email import EmailTrigger

DAGS = Path(__file__).parent / "dags"


def report_filter(tmp_path: Path) -> EmailFilter:
    return EmailFilter(
        MaildirMailbox(tmp_path / "mail", create=True),
        subject="Daily monitoring report",
        has_attachments=True,
        state=tmp_path / "state.db",
    )


async def first_event(trigger: EmailTrigger, timeout: float = 20) -> TriggerEvent:
    async def first() -> TriggerEvent:
        async for event in trigger.run():
            return event
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(first(), timeout)


def test_the_trigger_rebuilds_from_what_it_serialises(tmp_path: Path) -> None:
    trigger = EmailTrigger(email_filter=filter_to_config(report_filter(tmp_path)), poke_interval=5)

    path, kwargs = trigger.serialize()
    module, _, name = path.rpartition(".")
    again = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))

    assert again.serialize() == (path, kwargs)


def test_the_trigger_fires_when_the_mail_arrives(tmp_path: Path) -> None:
    trigger = EmailTrigger(
        email_filter=filter_to_config(report_filter(tmp_path)), poke_interval=0.1
    )
    delivery = threading.Timer(0.5, monitoring_mail, args=(tmp_path / "mail", 1))
    started = time.monotonic()
    delivery.start()

    event = asyncio.run(first_event(trigger))

    assert event.payload["status"] == "found"
    assert time.monotonic() - started >= 0.5  # it waited for the delivery


def test_the_trigger_reports_what_stops_it_looking(tmp_path: Path) -> None:
    # A folder that is not there will not appear by waiting (a mailbox that cannot be
    # reached might: the trigger keeps trying that).
    mailbox = MaildirMailbox(tmp_path / "mail", create=True)
    email_filter = EmailFilter(mailbox, folder="Reports", state=tmp_path / "s.db")
    trigger = EmailTrigger(email_filter=filter_to_config(email_filter), poke_interval=0.1)

    event = asyncio.run(first_event(trigger))

    assert event.payload["status"] == "error"
    assert "no folder 'Reports'" in event.payload["message"]


def test_a_deferrable_sensor_defers_only_while_nothing_waits(tmp_path: Path) -> None:
    sensor = EmailSensor(
        task_id="wait", email_filter=report_filter(tmp_path), deferrable=True, timeout=600
    )
    context: dict[str, Any] = {}

    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context)
    assert isinstance(deferred.value.trigger, EmailTrigger)
    assert deferred.value.method_name == "execute_complete"

    monitoring_mail(tmp_path / "mail", 1)
    assert sensor.execute(context) is None  # mail is there: no need to defer

    sensor.execute_complete(context, {"status": "found", "scope": "maildir:x"})
    with pytest.raises(Exception, match="Waiting for e-mail failed: login refused"):
        sensor.execute_complete(context, {"status": "error", "message": "login refused"})


def test_a_filter_the_triggerer_cannot_rebuild_is_refused_at_parse_time(tmp_path: Path) -> None:
    # The triggerer cannot be handed an SSL context object.
    mailbox = ImapMailbox(
        "mail.example.org", username="etl", password="pw", ssl_context=ssl.create_default_context()
    )
    email_filter = EmailFilter(mailbox, state=tmp_path / "s.db")
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        EmailSensor(task_id="wait", email_filter=email_filter, deferrable=True)


def test_a_deferred_sensor_and_recorded_usage_in_a_dag_run(tmp_path: Path) -> None:
    ebling = Ebling(home=tmp_path / "ebling", port=free_port())
    ebling.start()
    try:
        maildir = tmp_path / "mail"
        env = airflow_env(tmp_path / "airflow", ebling, maildir)
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
        run_airflow(env, "db", "migrate")
        # The mail comes while the run already waits in the trigger.
        delivery = threading.Timer(8, monitoring_mail, args=(maildir, 1))
        delivery.start()

        result = run_airflow(env, "dags", "test", "deferred_email_wait")

        delivery.join()
        output = result.stdout + result.stderr
        assert "DEFERRED" in output.upper()
        assert "Daily monitoring report" in output
        # The usage its task recorded is linked to the DAG run, as Ebling knows it.
        [usage] = ebling.get("/api/v1/usage", account="monitoring")["items"]  # type: ignore[index]
        [run] = ebling.get("/api/v1/runs")["items"]  # type: ignore[index]
        assert (usage["metric"], usage["quantity"]) == ("emails_processed", "1")
        assert usage["run_id"] == run["id"]
    finally:
        ebling.stop()
