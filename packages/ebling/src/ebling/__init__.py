"""Ebling: the backend that records every workflow run, from any orchestrator."""

from importlib.metadata import version

__version__ = version("ebling")

__all__ = ["__version__"]
