"""Just enough of Keycloak's admin REST API for the tests: clients, roles, users, keys.

Test clients and users are made here, through the API, never in the shipped realm.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

REALM = "automation"


def audience_mapper(audience: str) -> dict[str, Any]:
    return {
        "name": f"audience {audience}",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {
            "included.client.audience": audience,
            "access.token.claim": "true",
            "id.token.claim": "false",
        },
    }


@dataclass
class ServiceClient:
    client_id: str
    secret: str


class KeycloakAdmin:
    """An admin session on the master realm, acting on the platform's realm."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.admin_username = username
        self.admin_password = password
        self.base_url = base_url.rstrip("/")
        self.issuer = f"{self.base_url}/realms/{REALM}"
        self.token_url = f"{self.issuer}/protocol/openid-connect/token"
        answer = httpx.post(
            f"{self.base_url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": username,
                "password": password,
            },
            timeout=30,
        )
        answer.raise_for_status()
        self.http = httpx.Client(
            base_url=f"{self.base_url}/admin/realms/{REALM}",
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
            timeout=30,
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.http.get(path, **kwargs)
        response.raise_for_status()
        return response.json()

    def realm(self) -> dict[str, Any]:
        response = self.http.get("")
        response.raise_for_status()
        return dict(response.json())

    def client_uuid(self, client_id: str) -> str:
        (client,) = self.get("/clients", params={"clientId": client_id})
        return str(client["id"])

    def client_secret(self, client_id: str) -> str:
        return str(self.get(f"/clients/{self.client_uuid(client_id)}/client-secret")["value"])

    def create_service_client(
        self,
        roles: list[str],
        *,
        audience: str | None = "ebling",
        attributes: dict[str, str] | None = None,
    ) -> ServiceClient:
        """A confidential client with a service account holding ``roles``."""
        client_id = f"test-{uuid.uuid4().hex[:8]}"
        secret = uuid.uuid4().hex
        representation: dict[str, Any] = {
            "clientId": client_id,
            "secret": secret,
            "publicClient": False,
            "serviceAccountsEnabled": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": False,
            "attributes": attributes or {},
            "protocolMappers": [audience_mapper(audience)] if audience else [],
        }
        self.http.post("/clients", json=representation).raise_for_status()
        user = self.get(f"/clients/{self.client_uuid(client_id)}/service-account-user")
        role_representations = [self.get(f"/roles/{role}") for role in roles]
        self.http.post(
            f"/users/{user['id']}/role-mappings/realm", json=role_representations
        ).raise_for_status()
        return ServiceClient(client_id=client_id, secret=secret)

    def delete_client(self, client_id: str) -> None:
        self.http.delete(f"/clients/{self.client_uuid(client_id)}").raise_for_status()

    def token(self, client_id: str, secret: str) -> str:
        response = httpx.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def active_rsa_signing_keys(self) -> list[dict[str, Any]]:
        keys = self.get("/keys")["keys"]
        return [
            key
            for key in keys
            if key.get("algorithm") == "RS256"
            and key.get("use") == "SIG"
            and key.get("status") == "ACTIVE"
        ]

    def add_rsa_key_provider(self, *, priority: int) -> str:
        """A new generated RS256 key, used for signing from now on; its component's id."""
        component = {
            "name": f"rotated-{uuid.uuid4().hex[:6]}",
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": self.realm()["id"],
            "config": {
                "priority": [str(priority)],
                "enabled": ["true"],
                "active": ["true"],
                "algorithm": ["RS256"],
                "keySize": ["2048"],
            },
        }
        response = self.http.post("/components", json=component)
        response.raise_for_status()
        return response.headers["location"].rstrip("/").rsplit("/", 1)[-1]

    def remove_component(self, component_id: str) -> None:
        self.http.delete(f"/components/{component_id}").raise_for_status()

    def create_user(self, username: str) -> dict[str, Any]:
        self.http.post(
            "/users", json={"username": username, "enabled": True, "email": f"{username}@t.test"}
        ).raise_for_status()
        (user,) = self.get("/users", params={"username": username, "exact": "true"})
        return dict(user)
