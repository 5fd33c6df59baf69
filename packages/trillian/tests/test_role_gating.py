"""What a person is offered follows the permissions Ebling's /me lists for them."""

from __future__ import annotations

import pytest
from signing_in import sign_in, sign_in_with_key
from starlette.testclient import TestClient
from trillian_testing import Stack

ADMIN_PAGES = ["/admin/api-keys", "/admin/audit"]
MONITORING_PAGES = ["/", "/workflows"]


def test_a_viewer_is_offered_monitoring_and_reports_only(client: TestClient, stack: Stack) -> None:
    sign_in_with_key(client, stack.new_key("viewer"))
    page = client.get("/").text
    assert 'href="/workflows"' in page
    assert 'href="/reports"' in page
    assert 'href="/admin/api-keys"' not in page
    assert 'href="/admin/audit"' not in page


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_viewer_opening_an_admin_page_gets_403(
    client: TestClient, stack: Stack, path: str
) -> None:
    sign_in_with_key(client, stack.new_key("viewer"))
    answer = client.get(path)
    assert answer.status_code == 403
    assert "Not allowed" in answer.text
    assert "viewer" in answer.text


def test_a_viewer_cannot_create_keys_by_posting_directly(client: TestClient, stack: Stack) -> None:
    token = sign_in_with_key(client, stack.new_key("viewer"))
    answer = client.post(
        "/admin/api-keys", data={"name": "sneaky", "roles": "admin", "csrf_token": token}
    )
    assert answer.status_code == 403
    assert not [k for k in stack.api("GET", "/api-keys").json() if k["name"] == "sneaky"]


@pytest.mark.parametrize("path", [*MONITORING_PAGES, "/reports"])
def test_a_billing_person_sees_no_monitoring(client: TestClient, stack: Stack, path: str) -> None:
    sign_in_with_key(client, stack.new_key("billing"))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES + MONITORING_PAGES + ["/reports"])
def test_the_admin_may_open_every_page(client: TestClient, stack: Stack, path: str) -> None:
    sign_in(client, "admin", stack.admin_password)
    page = client.get(path)
    assert page.status_code == 200
    assert 'href="/admin/api-keys"' in page.text
