"""Who is calling, and what their roles let them do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ROLE_PERMISSIONS", "Permission", "Principal", "Role"]


class Role(StrEnum):
    """The roles of the platform, the same as Keycloak's realm roles and API-key scopes."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    BILLING = "billing"
    ADMIN = "admin"
    INGEST = "ingest"


class Permission(StrEnum):
    """What an endpoint requires. Roles are granted sets of these."""

    READ_MONITORING = "monitoring:read"
    READ_REPORTS = "reports:read"
    READ_ARTIFACTS = "artifacts:read"
    WRITE_LINEAGE = "lineage:write"
    WRITE_REPORTS = "reports:write"
    WRITE_ARTIFACTS = "artifacts:write"
    MANAGE_REPORTS = "reports:manage"
    DELETE_ARTIFACTS = "artifacts:delete"
    MANAGE_API_KEYS = "api_keys:manage"
    READ_AUDIT = "audit:read"
    WRITE_USAGE = "usage:write"
    READ_USAGE = "usage:read"


_READ = {Permission.READ_MONITORING, Permission.READ_REPORTS, Permission.READ_ARTIFACTS}
_WRITE = {
    Permission.WRITE_LINEAGE,
    Permission.WRITE_REPORTS,
    Permission.WRITE_ARTIFACTS,
    Permission.WRITE_USAGE,
}
_MANAGE = {Permission.MANAGE_REPORTS, Permission.DELETE_ARTIFACTS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(_READ),
    Role.OPERATOR: frozenset(
        _READ | _MANAGE | {Permission.WRITE_REPORTS, Permission.WRITE_ARTIFACTS}
    ),
    Role.BILLING: frozenset({Permission.READ_USAGE}),
    # Machines write what they observe and read nothing back, so a leaked ingest key
    # discloses nothing.
    Role.INGEST: frozenset(_WRITE),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a person, a service account, or an API key."""

    subject: str
    kind: str
    roles: frozenset[Role]
    display_name: str = ""
    client_id: str | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        """Everything the caller's roles allow."""
        return frozenset().union(*(ROLE_PERMISSIONS[role] for role in self.roles))

    def can(self, permission: Permission) -> bool:
        """Whether the caller's roles allow ``permission``."""
        return permission in self.permissions
