"""The ``ebling`` connection: where Ebling is, the key to use, and the local outbox."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook
from arcadia import EblingClient, Outbox, OutboxTransport
from arcadia.client import ApiKey, ClientCredentials, Credentials
from arcadia.reports import SENDERS as REPORT_SENDERS
from arcadia.usage import SENDERS as USAGE_SENDERS

__all__ = ["DEFAULT_CONN_ID", "EblingHook"]

DEFAULT_CONN_ID = "ebling_default"
DEFAULT_OUTBOX = Path.home() / ".arcadia" / "outbox.db"


class EblingHook(BaseHook):
    """Clients for Ebling built from an Airflow connection of type ``ebling``.

    The connection's host is Ebling's URL. Its credentials are either an API key (the
    password, with no login) or a service account's OAuth 2 client credentials: the client
    id as login, the client secret as password, and the token endpoint as ``token_url`` in
    ``extra`` (or the provider's ``issuer``, whose discovery document names it). ``extra``
    may also name the OpenLineage ``namespace``, the ``outbox_path`` and a ``timeout``.

    :param ebling_conn_id: The connection to use.
    """

    conn_name_attr = "ebling_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "ebling"
    hook_name = "Ebling"

    def __init__(self, ebling_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ebling_conn_id = ebling_conn_id

    @cached_property
    def _connection(self) -> Any:
        return self.get_connection(self.ebling_conn_id)

    @property
    def base_url(self) -> str:
        """Ebling's URL; a bare host name is taken to mean https."""
        host = str(self._connection.host or "").rstrip("/")
        if not host:
            raise ValueError(
                f"Connection '{self.ebling_conn_id}' has no host: set it to Ebling's URL."
            )
        return host if "://" in host else f"https://{host}"

    @property
    def extra(self) -> dict[str, Any]:
        """The connection's extra fields."""
        return dict(self._connection.extra_dejson or {})

    @cached_property
    def credentials(self) -> Credentials | None:
        """The connection's credentials; one token cache for every client of this hook.

        :raises ValueError: a client id without a secret, or without a token URL or issuer.
        """
        secret = self._connection.password or None
        client_id = str(self._connection.login or "").strip()
        if not client_id:
            return ApiKey(secret) if secret else None
        if not secret:
            raise ValueError(
                f"Connection '{self.ebling_conn_id}' names client '{client_id}' but has no "
                "client secret: put it in the password."
            )
        token_url = self.extra.get("token_url") or None
        issuer = self.extra.get("issuer") or None
        if token_url is None and issuer is None:
            raise ValueError(
                f"Connection '{self.ebling_conn_id}' names client '{client_id}': set "
                "'token_url' (or 'issuer') in its extra, e.g. "
                "https://sso.example.org/realms/automation/protocol/openid-connect/token."
            )
        return ClientCredentials(
            client_id, secret, token_url=token_url, issuer=None if token_url else issuer
        )

    def client_environment(self) -> dict[str, str]:
        """The variables ``EblingClient.from_env()`` reads, for this connection.

        For task processes, so that Arcadia's helpers reach Ebling as the connection does.
        """
        environment = {"EBLING_URL": self.base_url}
        secret = self._connection.password or ""
        client_id = str(self._connection.login or "").strip()
        if client_id:
            environment |= {"EBLING_CLIENT_ID": client_id, "EBLING_CLIENT_SECRET": secret}
            if self.extra.get("token_url"):
                environment["EBLING_OIDC_TOKEN_URL"] = str(self.extra["token_url"])
            elif self.extra.get("issuer"):
                environment["EBLING_OIDC_ISSUER"] = str(self.extra["issuer"])
        elif secret:
            environment["EBLING_API_KEY"] = secret
        return environment

    def get_conn(self, *, retries: int | None = None) -> EblingClient:
        """A client for the connection's Ebling."""
        options: dict[str, Any] = {"auth": self.credentials}
        if self.extra.get("timeout"):
            options["timeout"] = float(self.extra["timeout"])
        if retries is not None:
            options["retries"] = retries
        return EblingClient(self.base_url, **options)

    @property
    def outbox_path(self) -> Path:
        """The outbox file: the connection's ``outbox_path``, else ``~/.arcadia/outbox.db``."""
        path = self.extra.get("outbox_path")
        return Path(path).expanduser() if path else DEFAULT_OUTBOX

    def outbox(self) -> Outbox:
        """Where events, and the reports and usage tasks record, wait while Ebling is away."""
        return Outbox(self.outbox_path, senders={**REPORT_SENDERS, **USAGE_SENDERS})

    def lineage_transport(self) -> OutboxTransport:
        """Where OpenLineage events go: the outbox, delivered at once when Ebling is up.

        One retry only: an event that cannot be delivered waits on disk rather than
        holding up the task that emitted it.
        """
        return OutboxTransport(self.outbox(), self.get_conn(retries=1))

    def test_connection(self) -> tuple[bool, str]:
        """Let the UI's Test button check that Ebling answers and takes the key."""
        try:
            client = self.get_conn(retries=0)
            healthy = client.health()
        except Exception as error:  # noqa: BLE001 - the UI shows any failure as text
            return False, str(error)
        return (True, "Ebling answered.") if healthy else (False, "Ebling is not ready.")
