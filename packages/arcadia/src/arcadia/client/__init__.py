"""The Ebling client: report lineage, save reports, store artifacts, read runs and rows.

``EblingClient`` is for ordinary code and ``AsyncEblingClient`` for asyncio; both have the
same methods. ``EblingClient.from_env()`` reads ``EBLING_URL`` and either ``EBLING_API_KEY``
or a service account's ``EBLING_CLIENT_ID``, ``EBLING_CLIENT_SECRET`` and
``EBLING_OIDC_TOKEN_URL`` (or ``EBLING_OIDC_ISSUER``).
"""

from arcadia.client._async import AsyncEblingClient
from arcadia.client._sync import EblingClient
from arcadia.client.credentials import ApiKey, AsyncCredentials, ClientCredentials, Credentials
from arcadia.client.errors import (
    EblingAuthError,
    EblingConfigError,
    EblingError,
    EblingRequestError,
    EblingUnavailable,
    Problem,
)
from arcadia.client.models import (
    Artifact,
    Column,
    IngestSummary,
    Report,
    ReportBatch,
    Run,
    RunState,
    TaskRun,
    WorkflowRef,
)
from arcadia.client.retry import RetryPolicy

__all__ = [
    "ApiKey",
    "Artifact",
    "AsyncCredentials",
    "AsyncEblingClient",
    "ClientCredentials",
    "Column",
    "Credentials",
    "EblingAuthError",
    "EblingClient",
    "EblingConfigError",
    "EblingError",
    "EblingRequestError",
    "EblingUnavailable",
    "IngestSummary",
    "Problem",
    "Report",
    "ReportBatch",
    "RetryPolicy",
    "Run",
    "RunState",
    "TaskRun",
    "WorkflowRef",
]
