"""Trillian: the dashboard of the automation platform, reading Ebling over HTTP."""

__version__ = "0.1.0"
