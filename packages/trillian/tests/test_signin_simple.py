"""Signing in with Ebling's simple login, and out again, against a live Ebling."""

from __future__ import annotations

import time

from signing_in import csrf_token, sign_in, sign_in_with_key
from starlette.testclient import TestClient
from trillian.app import create_app
from trillian.sessions import COOKIE_NAME
from trillian.settings import Settings
from trillian_testing import Stack


def test_pages_send_an_anonymous_visitor_to_sign_in(client: TestClient) -> None:
    answer = client.get("/workflows?q=sales", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fworkflows%3Fq%3Dsales"


def test_the_admin_signs_in_with_the_password_and_lands_where_they_were_going(
    client: TestClient, stack: Stack
) -> None:
    token = csrf_token(client.get("/login").text)
    answer = client.post(
        "/login",
        data={
            "username": "admin",
            "password": stack.admin_password,
            "next": "/workflows",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/workflows"
    page = client.get("/workflows")
    assert page.status_code == 200
    assert "nightly_sales_etl" in page.text
    assert "Sign out" in page.text


def test_a_wrong_password_shows_eblings_message(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    answer = client.post(
        "/login", data={"username": "admin", "password": "wrong", "csrf_token": token}
    )
    assert answer.status_code == 401
    assert "Wrong username or password." in answer.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_empty_form_is_refused_without_asking_ebling(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    answer = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert answer.status_code == 401
    assert "Enter your user name and password." in answer.text


def test_next_never_leads_to_another_site(client: TestClient, stack: Stack) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        token = csrf_token(client.get("/login").text)
        answer = client.post(
            "/login",
            data={
                "username": "admin",
                "password": stack.admin_password,
                "next": target,
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/"
        client.cookies.clear()


def test_signing_in_gives_a_new_session_id(client: TestClient, stack: Stack) -> None:
    client.get("/login")
    before = client.cookies[COOKIE_NAME]
    sign_in(client, "admin", stack.admin_password)
    after = client.cookies[COOKIE_NAME]
    assert after != before
    # The anonymous session's cookie no longer opens anything.
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, before)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_httponly_and_lax(client: TestClient) -> None:
    cookie = client.get("/login").headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # served over plain http here


def test_the_session_cookie_is_secure_when_served_over_https(stack: Stack) -> None:
    settings = Settings(ebling_url=stack.ebling_url, public_url="https://dashboard.example")
    with TestClient(create_app(settings), base_url="https://dashboard.example") as client:
        cookie = client.get("/login").headers["set-cookie"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie


def test_the_cookie_carries_no_token(client: TestClient, stack: Stack) -> None:
    sign_in(client, "admin", stack.admin_password)
    value = client.cookies[COOKIE_NAME]
    assert "eyJ" not in value  # no JWT
    assert len(value) < 100


def test_signing_out_ends_the_session(client: TestClient, stack: Stack) -> None:
    token = sign_in(client, "admin", stack.admin_password)
    cookie = client.cookies[COOKIE_NAME]
    answer = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?signed_out=1"
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, cookie)  # a copied cookie opens nothing either
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_expired_token_sends_the_person_to_sign_in_again(
    client: TestClient, stack: Stack
) -> None:
    sign_in(client, "admin", stack.admin_password)
    sessions = client.app.state.services.sessions  # type: ignore[attr-defined]
    session = sessions.load(client.cookies[COOKIE_NAME])
    session.access_expires_at = time.time() - 1
    answer = client.get("/workflows", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fworkflows&expired=1"
    assert "Your session has expired" in client.get(answer.headers["location"]).text


def test_a_key_revoked_in_ebling_ends_the_session_at_the_next_page(
    client: TestClient, stack: Stack
) -> None:
    key = stack.create_key("viewer")
    sign_in_with_key(client, key["key"])
    assert client.get("/workflows").status_code == 200
    stack.api("DELETE", f"/api-keys/{key['id']}").raise_for_status()
    answer = client.get("/workflows", follow_redirects=False)
    assert answer.status_code == 303
    assert "expired=1" in answer.headers["location"]


def test_a_wrong_api_key_is_refused_with_eblings_reason(client: TestClient) -> None:
    token = csrf_token(client.get("/login").text)
    answer = client.post("/login/api-key", data={"api_key": "ebl_nope_nope", "csrf_token": token})
    assert answer.status_code == 401
    assert "Invalid credentials" in answer.text
