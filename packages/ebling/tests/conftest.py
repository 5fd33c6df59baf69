"""Fixtures: every test that touches the database runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``EBLING_TEST_POSTGRES_URL`` (the test command starts a server and sets
it). Without it the PostgreSQL cases skip, except in CI, where they fail: CI must run both.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ebling.api.app import create_app
from ebling.auth.api_keys import create_api_key
from ebling.auth.principal import Role
from ebling.db import migrate
from ebling.db.engine import create_database_engine, session_factory
from ebling.settings import Settings
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

POSTGRES_URL = os.environ.get("EBLING_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"


def _postgres_or_skip() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("EBLING_TEST_POSTGRES_URL is not set; CI must test on PostgreSQL")
    pytest.skip("EBLING_TEST_POSTGRES_URL is not set (the README's test command sets it)")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating once and copying the file is far faster than migrating for every test.
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = create_database_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    url = make_url(_postgres_or_skip())
    template = f"ebling_template_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{template}"'))
    engine = create_database_engine(
        url.set(database=template).render_as_string(hide_password=False)
    )
    migrate.upgrade(engine)
    engine.dispose()
    yield template
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "ebling.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return

    template = request.getfixturevalue("_postgres_template")
    url = make_url(_postgres_or_skip()).set(drivername="postgresql+psycopg")
    name = f"ebling_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def storage_options() -> dict[str, object]:
    """Where files go: the embedded default (a folder in the home) unless a test overrides."""
    return {}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, storage_options: dict[str, object]) -> Settings:
    """Settings pointing at the test database and a scratch home."""
    return Settings(home=tmp_path / "home", database_url=database_url, **storage_options)  # type: ignore[arg-type]


def s3_or_skip() -> dict[str, str]:
    """The test S3 server's endpoint and credentials, from the environment."""
    endpoint = os.environ.get("EBLING_TEST_S3_ENDPOINT")
    if endpoint:
        return {
            "endpoint": endpoint,
            "access_key": os.environ.get("EBLING_TEST_S3_ACCESS_KEY", "ebling-test"),
            "secret_key": os.environ.get("EBLING_TEST_S3_SECRET_KEY", "ebling-test-secret"),
        }
    if IN_CI:
        pytest.fail("EBLING_TEST_S3_ENDPOINT is not set; CI must test on a real S3 server")
    pytest.skip("EBLING_TEST_S3_ENDPOINT is not set (the README's test command sets it)")


@pytest.fixture(params=["local", "s3"])
def any_storage(request: pytest.FixtureRequest) -> dict[str, object]:
    """Storage options for each backend: a local folder, and a fresh bucket on real S3."""
    if request.param == "local":
        return {}
    s3 = s3_or_skip()
    return {
        "storage_url": f"s3://ebling-{uuid.uuid4().hex[:12]}/files",
        "s3_endpoint_url": s3["endpoint"],
        "s3_access_key_id": s3["access_key"],
        "s3_secret_access_key": s3["secret_key"],
        "s3_create_bucket": True,
    }


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the test database, for tests that read or write it directly."""
    engine = create_database_engine(settings.resolved_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database."""
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The API, in process."""
    with TestClient(create_app(settings)) as client:
        yield client


def _key(engine: Engine, *roles: Role) -> str:
    with session_factory(engine)() as session:
        created = create_api_key(session, name=f"test {'+'.join(roles)}", roles=list(roles))
        session.commit()
    return created.token


@pytest.fixture
def admin_headers(engine: Engine) -> dict[str, str]:
    """Credentials of an admin."""
    return {"Authorization": f"Bearer {_key(engine, Role.ADMIN)}"}


@pytest.fixture
def ingest_headers(engine: Engine) -> dict[str, str]:
    """Credentials of a machine that reports runs."""
    return {"Authorization": f"Bearer {_key(engine, Role.INGEST)}"}


@pytest.fixture
def viewer_headers(engine: Engine) -> dict[str, str]:
    """Credentials of a person who only reads."""
    return {"Authorization": f"Bearer {_key(engine, Role.VIEWER)}"}


@pytest.fixture
def billing_headers(engine: Engine) -> dict[str, str]:
    """Credentials of a person in billing."""
    return {"Authorization": f"Bearer {_key(engine, Role.BILLING)}"}
