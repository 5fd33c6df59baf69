r"""E-mail for workflows: wait for mail, take its attachments, handle each message once.

```python
from arcadia.email import EmailFilter, ImapMailbox

reports = EmailFilter(
    ImapMailbox("imap.example.com", username="etl", password=...),
    sender="monitoring@example.com",
    subject=r"Daily report \d{4}-\d{2}-\d{2}",
    attachment_name="*.csv",
    mark_processed="flag",
)
if reports.has_new():
    for message in reports.get_emails():
        for attachment in message.attachments:
            save(attachment.filename, attachment.data)
```

``Message`` and ``Attachment`` pass between tasks: as JSON through ``to_dict()`` and
``from_dict()``, and through Airflow's XCom by their ``serialize()`` and ``deserialize()``
(allow them with ``[core] allowed_deserialization_classes = airflow.* arcadia.*``).
"""

from arcadia.email._config import filter_from_config, filter_to_config
from arcadia.email._errors import MailboxAuthError, MailboxError, MailboxUnavailable
from arcadia.email._filter import PROCESSED_KEYWORD, EmailFilter, MarkMode
from arcadia.email._imap import ImapMailbox, Security
from arcadia.email._mailbox import AttachmentInfo, Mailbox, MessageSummary, SearchQuery
from arcadia.email._maildir import MaildirMailbox
from arcadia.email._message import Attachment, Message
from arcadia.email._state import ProcessedStore, default_state_path

__all__ = [
    "PROCESSED_KEYWORD",
    "Attachment",
    "AttachmentInfo",
    "EmailFilter",
    "ImapMailbox",
    "Mailbox",
    "MailboxAuthError",
    "MailboxError",
    "MailboxUnavailable",
    "MaildirMailbox",
    "MarkMode",
    "Message",
    "MessageSummary",
    "ProcessedStore",
    "SearchQuery",
    "Security",
    "default_state_path",
    "filter_from_config",
    "filter_to_config",
]

# Public classes say they are arcadia.email's: tracebacks and reprs show the name people
# import, and what Airflow's XCom records (the class's qualified name) survives moving code
# between the private modules.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type):
        _value.__module__ = __name__
del _name, _value
