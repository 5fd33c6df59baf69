"""Arcadia: the library workflows use to report to Ebling.

``arcadia.client`` talks to Ebling's REST API; ``arcadia.outbox`` keeps what is meant for
Ebling on disk until Ebling has it.
"""

from arcadia._version import __version__
from arcadia.client import AsyncEblingClient, EblingClient, EblingError
from arcadia.outbox import Outbox, OutboxTransport

__all__ = [
    "AsyncEblingClient",
    "EblingClient",
    "EblingError",
    "Outbox",
    "OutboxTransport",
    "__version__",
]
