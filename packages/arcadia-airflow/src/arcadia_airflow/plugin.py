"""The Arcadia plugin: report every DAG run to Ebling, and tell tasks which run they are in.

Installed with the package (entry point ``airflow.plugins``), it does two things:

- unless OpenLineage is already configured, it sends Airflow's OpenLineage events (built by
  the official ``apache-airflow-providers-openlineage``) to Ebling through
  :class:`~arcadia_airflow.lineage.EblingTransport`, configured from the ``ebling_default``
  connection;
- in each task's process, before the task runs, it sets ``ARCADIA_RUN_ID`` to the
  OpenLineage id of the DAG run, and ``EBLING_URL``, the connection's credentials and
  ``ARCADIA_OUTBOX`` from the connection, so that Arcadia's ``save_reports`` links what it
  saves to the run, and leaves it in the outbox while Ebling is down, without being told.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin
from arcadia.reports import OUTBOX_VARIABLE, RUN_ID_VARIABLE

from arcadia_airflow.hooks.ebling import DEFAULT_CONN_ID, EblingHook

__all__ = ["ArcadiaPlugin"]

log = logging.getLogger(__name__)

TRANSPORT = {"type": "arcadia_airflow.lineage.EblingTransport", "conn_id": DEFAULT_CONN_ID}


def _openlineage_is_configured(conf: Any) -> bool:
    return any(
        conf.get("openlineage", option, fallback="")
        for option in ("transport", "config_path", "config_conn_id")
    ) or bool(os.environ.get("OPENLINEAGE_URL") or os.environ.get("OPENLINEAGE_CONFIG"))


def use_ebling_for_openlineage() -> bool:
    """Make Ebling the OpenLineage destination, unless the deployment chose another.

    Returns:
        Whether this call configured it.
    """
    from airflow.configuration import conf

    if _openlineage_is_configured(conf):
        return False
    value = json.dumps(TRANSPORT)
    conf.set("openlineage", "transport", value)
    # Processes this one starts (task runners) read it from the environment at start-up.
    os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"] = value
    return True


def _openlineage_listeners(configured_here: bool) -> list[Any]:
    """The OpenLineage provider's listener, if its plugin loaded before the transport was set.

    The provider's plugin switches itself off at import when no transport is configured.
    Plugins load in entry-point order, so it may have been imported, and switched off, just
    before this one set the transport; then this plugin registers the provider's listener.
    """
    module = sys.modules.get("airflow.providers.openlineage.plugins.openlineage")
    if not configured_here or module is None or module.OpenLineageProviderPlugin.listeners:
        return []
    from airflow.providers.openlineage import conf as openlineage_conf
    from airflow.providers.openlineage.plugins.listener import get_openlineage_listener

    # It cached the empty value (except under test runners, where it does not cache).
    clear = getattr(openlineage_conf.transport, "cache_clear", None)
    if clear is not None:
        clear()
    return [get_openlineage_listener()]


class _TaskRunContext:
    """Listener hooks that run in the task's own process."""

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        """Before the task runs, name its DAG run and Ebling for Arcadia's helpers."""
        try:
            from airflow.providers.openlineage.plugins.macros import lineage_root_run_id

            os.environ[RUN_ID_VARIABLE] = str(lineage_root_run_id(task_instance))
            if "EBLING_URL" not in os.environ:
                hook = EblingHook(DEFAULT_CONN_ID)
                # An API key, or a service account's client credentials: whichever the
                # connection holds, Arcadia's helpers reach Ebling as the lineage does.
                for name, value in hook.client_environment().items():
                    os.environ.setdefault(name, value)
                os.environ.setdefault(OUTBOX_VARIABLE, str(hook.outbox_path))
        except Exception:
            log.warning("Arcadia could not prepare the task's run context", exc_info=True)


# Plugins are imported before the OpenLineage provider first builds its client, so setting
# the transport here takes effect for the whole process.
_CONFIGURED_HERE = use_ebling_for_openlineage()


class ArcadiaPlugin(AirflowPlugin):
    """Registered by the package's entry point; see the module's documentation."""

    name = "arcadia"
    listeners = [_TaskRunContext(), *_openlineage_listeners(_CONFIGURED_HERE)]  # noqa: RUF012
