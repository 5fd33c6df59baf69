"""Messages and attachments travel between tasks as JSON, and through Airflow's XCom serde."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime

import pytest
from arcadia.email import Attachment, EmailFilter, Message, ProcessedStore
from mail_fixtures import CSV_UTF16, ImapDrop, MaildirDrop, report_message


def sample_message() -> Message:
    attachment = Attachment(
        filename="Übersicht.csv",
        content_type="text/csv",
        data=CSV_UTF16 + bytes(range(256)),
        message_id="<1@example.com>",
        charset="utf-16",
    )
    return Message(
        message_id="<1@example.com>",
        subject="Bericht für März",
        sender="monitoring@example.com",
        recipients=("etl@example.com", "ops@example.com"),
        date=datetime(2026, 12, 3, 6, 30, tzinfo=UTC),
        body_text="Grüße",
        attachments=(attachment,),
        folder="INBOX",
        uid="42",
    )


def test_a_message_round_trips_through_json() -> None:
    message = sample_message()

    text = json.dumps(message.serialize())
    again = Message.deserialize(json.loads(text), Message.__version__)

    assert again == message
    assert again.attachments[0].data == message.attachments[0].data
    assert Message.from_dict(json.loads(json.dumps(message.to_dict()))) == message


def test_the_dictionary_is_plain_json_with_base64_content() -> None:
    data = sample_message().to_dict()

    assert data["date"] == "2026-12-03T06:30:00+00:00"
    assert data["recipients"] == ["etl@example.com", "ops@example.com"]
    assert data["attachments"][0]["size"] == len(CSV_UTF16) + 256
    assert isinstance(data["attachments"][0]["data"], str)


def test_an_attachment_round_trips_on_its_own() -> None:
    attachment = sample_message().attachments[0]

    again = Attachment.deserialize(json.loads(json.dumps(attachment.serialize())), 1)

    assert again == attachment
    assert again.text() == attachment.text()


def test_a_message_without_a_date_round_trips() -> None:
    message = Message(
        message_id="<x@y>",
        subject="",
        sender="",
        recipients=(),
        date=None,
        body_text="",
        attachments=(),
        folder="INBOX",
        uid="1",
    )

    assert Message.from_dict(json.loads(json.dumps(message.to_dict()))) == message


def test_a_newer_version_is_refused_with_what_to_do() -> None:
    with pytest.raises(TypeError, match="upgrade arcadia"):
        Message.deserialize(sample_message().serialize(), 2)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.pop("subject"), "lacks the field 'subject'"),
        (lambda d: d["attachments"][0].pop("data"), "lacks the field 'data'"),
        (lambda d: d["attachments"][0].update(data="not base64!"), "no valid base64"),
    ],
)
def test_a_broken_dictionary_is_refused(change: object, complaint: str) -> None:
    data = sample_message().to_dict()
    change(data)  # type: ignore[operator]

    with pytest.raises(ValueError, match=complaint):
        Message.from_dict(data)


def test_airflow_finds_the_classes_under_their_public_name() -> None:
    # Airflow's serde records a class by its qualified name and imports it back from there.
    assert f"{Message.__module__}.{Message.__qualname__}" == "arcadia.email.Message"
    assert f"{Attachment.__module__}.{Attachment.__qualname__}" == "arcadia.email.Attachment"
    assert pickle.loads(pickle.dumps(sample_message())) == sample_message()  # noqa: S301 (our own bytes)


def test_a_delivered_message_round_trips(
    drop: ImapDrop | MaildirDrop, state: ProcessedStore
) -> None:
    drop.deliver(report_message())
    [message] = EmailFilter(drop.mailbox(), folder=drop.folder, state=state).get_emails()

    assert Message.deserialize(json.loads(json.dumps(message.serialize())), 1) == message
