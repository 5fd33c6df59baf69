"""What Airflow's providers manager learns about this package: the ``ebling`` connection type."""

from __future__ import annotations

from typing import Any

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """Describe the provider; Airflow calls it through the ``apache_airflow_provider`` entry point.

    The connection form is declared here (``conn-fields``) rather than with hook methods, so
    the Airflow UI can show it without importing the hook.
    """
    return {
        "package-name": "arcadia-airflow",
        "name": "Arcadia (Ebling)",
        "description": "Report DAG runs, reports and artifacts to Ebling.",
        "connection-types": [
            {
                "hook-class-name": "arcadia_airflow.hooks.ebling.EblingHook",
                "hook-name": "Ebling",
                "connection-type": "ebling",
                "conn-fields": {
                    "namespace": {
                        "label": "OpenLineage namespace",
                        "schema": {"type": ["string", "null"]},
                        "description": "This Airflow's name in Ebling, e.g. airflow://etl-prod. "
                        "Defaults to Airflow's [openlineage] namespace.",
                    },
                    "outbox_path": {
                        "label": "Outbox file",
                        "schema": {"type": ["string", "null"]},
                        "description": "SQLite file that keeps events while Ebling is "
                        "unreachable. Defaults to ~/.arcadia/outbox.db.",
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "schema": {"type": ["number", "null"], "default": 10},
                    },
                    "token_url": {
                        "label": "OAuth token URL",
                        "schema": {"type": ["string", "null"]},
                        "description": "With a client ID: the identity provider's token "
                        "endpoint, e.g. https://sso.example.org/realms/automation/protocol/"
                        "openid-connect/token.",
                    },
                    "issuer": {
                        "label": "OIDC issuer",
                        "schema": {"type": ["string", "null"]},
                        "description": "With a client ID and no token URL: the issuer, e.g. "
                        "https://sso.example.org/realms/automation, to discover it from.",
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Ebling URL",
                        "login": "Client ID",
                        "password": "API key or client secret",
                    },
                    "placeholders": {
                        "host": "https://ebling.example.org",
                        "login": "arcadia-airflow (a service account; empty for an API key)",
                        "password": "ebl_... (a key with the ingest role), or the client's secret",
                    },
                },
            }
        ],
    }
