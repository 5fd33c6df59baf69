"""The public surface of ``arcadia``: what each public module exports, and nothing else."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from pathlib import Path

import arcadia
import pytest

PUBLIC = {
    "arcadia": [
        "AsyncEblingClient",
        "EblingClient",
        "EblingError",
        "Outbox",
        "OutboxTransport",
        "__version__",
    ],
    "arcadia.client": [
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
    ],
    "arcadia.client.credentials": [
        "ApiKey",
        "AsyncCredentials",
        "ClientCredentials",
        "Credentials",
    ],
    "arcadia.client.errors": [
        "EblingAuthError",
        "EblingConfigError",
        "EblingError",
        "EblingRequestError",
        "EblingUnavailable",
        "Problem",
    ],
    "arcadia.client.models": [
        "Artifact",
        "Column",
        "IngestSummary",
        "Report",
        "ReportBatch",
        "Run",
        "RunState",
        "TaskRun",
        "WorkflowRef",
    ],
    "arcadia.client.retry": ["RetryPolicy"],
    "arcadia.outbox": [
        "LINEAGE",
        "OUTBOX_VARIABLE",
        "DeadLetter",
        "DeliveryReport",
        "Outbox",
        "OutboxError",
        "OutboxTransport",
        "Sender",
        "outbox_from_env",
    ],
    "arcadia.usage": ["SENDERS", "USAGE", "record_usage", "usage_record"],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_each_public_module_exports_exactly_its_names(module_name: str) -> None:
    module = importlib.import_module(module_name)

    assert sorted(module.__all__) == sorted(PUBLIC[module_name])
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.__all__ names a missing {name}"


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_every_exported_class_and_function_is_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)

    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{module_name}.{name} has no docstring"


def test_arcadia_never_imports_ebling() -> None:
    # Arcadia talks to Ebling over HTTP only, so that it installs where Ebling does not.
    source = Path(arcadia.__file__).parent
    offenders = [
        path.name
        for path in source.rglob("*.py")
        if any(
            line.lstrip().startswith(("import ebling", "from ebling"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


def test_the_version_is_the_distributions() -> None:
    assert arcadia.__version__ == version("arcadia")
