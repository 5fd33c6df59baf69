"""Fixtures for sign-on tests: the test Keycloak, from the environment.

The test command starts Keycloak and sets EBLING_TEST_KEYCLOAK_URL and its master admin's
credentials. Without them the Keycloak tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from keycloak_admin import KeycloakAdmin


def keycloak_or_skip() -> dict[str, str]:
    """The test Keycloak's URL and master-realm admin, from the environment."""
    url = os.environ.get("EBLING_TEST_KEYCLOAK_URL")
    if url:
        return {
            "url": url,
            "admin_username": os.environ.get("EBLING_TEST_KEYCLOAK_ADMIN_USERNAME", "admin"),
            "admin_password": os.environ.get("EBLING_TEST_KEYCLOAK_ADMIN_PASSWORD", ""),
        }
    if os.environ.get("CI") == "true":
        pytest.fail("EBLING_TEST_KEYCLOAK_URL is not set; CI must test against a real Keycloak")
    pytest.skip("EBLING_TEST_KEYCLOAK_URL is not set (the README's test command sets it)")


@pytest.fixture(scope="session")
def keycloak() -> Iterator[KeycloakAdmin]:
    """An admin session on the test Keycloak, acting on the platform's realm."""
    found = keycloak_or_skip()
    admin = KeycloakAdmin(found["url"], found["admin_username"], found["admin_password"])
    yield admin
    admin.close()
