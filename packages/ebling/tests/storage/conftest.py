"""Fixtures: every object store test runs on the local backend and on a real S3 server.

The S3 server comes from ``EBLING_TEST_S3_ENDPOINT``, ``EBLING_TEST_S3_ACCESS_KEY`` and
``EBLING_TEST_S3_SECRET_KEY`` (the test command starts SeaweedFS and sets them). Without the
endpoint the S3 cases skip, except in CI, where they fail: CI must test both backends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from ebling.storage import LocalObjectStore, ObjectStore
from storage_fixtures import (
    LargeFile,
    S3Server,
    delete_bucket,
    fresh_bucket_name,
    random_file,
    raw_client,
    s3_server_from_environment,
    s3_store,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

IN_CI = os.environ.get("CI") == "true"

# Above the S3 store's 8 MiB multipart threshold twice over, and not a whole number of
# chunks, so the last chunk and the last part are short ones.
LARGE_FILE_SIZE = 25 * 1024 * 1024 + 12_345


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    """The S3 server under test; skips (fails in CI) when none is configured."""
    server = s3_server_from_environment()
    if server is not None:
        return server
    if IN_CI:
        pytest.fail("EBLING_TEST_S3_ENDPOINT is not set; CI must test the S3 object store")
    pytest.skip("EBLING_TEST_S3_ENDPOINT is not set (the README's test command sets it)")


@pytest.fixture(scope="session")
def s3_client(s3_server: S3Server) -> S3Client:
    """A plain boto3 client on the test server, to look at what the store did."""
    return raw_client(s3_server)


@pytest.fixture
def s3_bucket(s3_client: S3Client) -> Iterator[str]:
    """A fresh, empty bucket, deleted with its contents afterwards."""
    bucket = fresh_bucket_name()
    s3_client.create_bucket(Bucket=bucket)
    yield bucket
    delete_bucket(s3_client, bucket)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """An empty object store of each kind."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    return s3_store(request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket"))


@pytest.fixture(scope="session")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> LargeFile:
    """25 MB of random bytes, written once per session."""
    return random_file(tmp_path_factory.mktemp("large") / "large.bin", LARGE_FILE_SIZE)


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    """A small local file to upload."""
    path = tmp_path / "upload" / "small.csv"
    path.parent.mkdir()
    path.write_bytes(b"id,amount\n1,10.00\n2,20.50\n")
    return path
