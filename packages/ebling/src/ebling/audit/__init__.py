"""The audit log: who did what, and every refused attempt.

``record_request`` stores one row; ``list_audit_events`` reads them, newest first.
"""

from ebling.audit.log import (
    AuditEntry,
    AuditFilter,
    Outcome,
    is_audited,
    list_audit_events,
    outcome_of,
    record_request,
)

__all__ = [
    "AuditEntry",
    "AuditFilter",
    "Outcome",
    "is_audited",
    "list_audit_events",
    "outcome_of",
    "record_request",
]
