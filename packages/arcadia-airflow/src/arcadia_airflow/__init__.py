"""Arcadia for Apache Airflow 3: every DAG run reported to Ebling, e-mail sensors, reports."""

from importlib.metadata import version

__version__ = version("arcadia-airflow")

__all__ = ["__version__"]
