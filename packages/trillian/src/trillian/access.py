"""What a person may see: pages follow the permissions Ebling's ``/me`` lists for them."""

from __future__ import annotations

from dataclasses import dataclass

from trillian.sessions import Session

__all__ = ["NAVIGATION", "NavItem", "Permission", "visible_navigation"]


class Permission:
    """Permission names as Ebling grants them (``GET /api/v1/me``)."""

    MONITORING = "monitoring:read"
    REPORTS = "reports:read"
    ARTIFACTS = "artifacts:read"
    API_KEYS = "api_keys:manage"
    AUDIT = "audit:read"


@dataclass(frozen=True, slots=True)
class NavItem:
    """A page in the navigation, offered only to those allowed to use it."""

    label: str
    path: str
    permission: str


NAVIGATION = (
    NavItem("Overview", "/", Permission.MONITORING),
    NavItem("Workflows", "/workflows", Permission.MONITORING),
    NavItem("Reports", "/reports", Permission.REPORTS),
    NavItem("API keys", "/admin/api-keys", Permission.API_KEYS),
    NavItem("Audit log", "/admin/audit", Permission.AUDIT),
)


def visible_navigation(session: Session | None) -> list[NavItem]:
    """The pages ``session``'s person may open, in menu order."""
    if session is None or not session.signed_in:
        return []
    return [item for item in NAVIGATION if session.can(item.permission)]
