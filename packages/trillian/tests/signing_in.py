"""Signing in through Trillian's own forms, as a browser does, for the in-process tests."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str, *, next_url: str = "/") -> str:
    """Sign in with a password; returns the CSRF token of the new session."""
    token = csrf_token(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "next": next_url, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_token(client.get("/").text)


def sign_in_with_key(client: TestClient, key: str) -> str:
    """Sign in with an API key; returns the CSRF token of the new session."""
    token = csrf_token(client.get("/login").text)
    answer = client.post(
        "/login/api-key", data={"api_key": key, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/reports")
    return csrf_token(page.text)
