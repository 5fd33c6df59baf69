"""Every unsafe request needs the session's CSRF token, by form field or header."""

from __future__ import annotations

from signing_in import sign_in
from starlette.testclient import TestClient
from trillian_testing import Stack


def test_a_post_without_a_session_is_refused(client: TestClient) -> None:
    answer = client.post("/logout", data={"csrf_token": "anything"})
    assert answer.status_code == 403
    assert "session has ended" in answer.text


def test_a_form_without_the_token_is_refused(client: TestClient, stack: Stack) -> None:
    sign_in(client, "admin", stack.admin_password)
    answer = client.post("/admin/api-keys", data={"name": "x", "roles": "viewer"})
    assert answer.status_code == 403
    assert "security token" in answer.text
    assert not [k for k in stack.api("GET", "/api-keys").json() if k["name"] == "x"]


def test_a_wrong_token_is_refused(client: TestClient, stack: Stack) -> None:
    sign_in(client, "admin", stack.admin_password)
    answer = client.post(
        "/admin/api-keys", data={"name": "x", "roles": "viewer", "csrf_token": "forged"}
    )
    assert answer.status_code == 403


def test_another_sessions_token_is_refused(client: TestClient, stack: Stack) -> None:
    theirs = sign_in(client, "admin", stack.admin_password)
    client.cookies.clear()
    sign_in(client, "admin", stack.admin_password)
    answer = client.post("/logout", data={"csrf_token": theirs}, follow_redirects=False)
    assert answer.status_code == 403


def test_the_token_in_the_header_is_accepted(client: TestClient, stack: Stack) -> None:
    token = sign_in(client, "admin", stack.admin_password)
    answer = client.post(
        "/admin/api-keys",
        data={"name": "from-htmx", "roles": "viewer"},
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert [k for k in stack.api("GET", "/api-keys").json() if k["name"] == "from-htmx"]


def test_the_token_in_the_form_is_accepted(client: TestClient, stack: Stack) -> None:
    token = sign_in(client, "admin", stack.admin_password)
    answer = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303


def test_a_body_that_is_no_form_needs_the_header(client: TestClient, stack: Stack) -> None:
    sign_in(client, "admin", stack.admin_password)
    answer = client.post("/logout", json={"csrf_token": "x"})
    assert answer.status_code == 403
