"""Helpers for the object store tests: the S3 server under test and a raw client on it.

The raw client is boto3 itself, kept apart from the code under test, so that what a test
checks on the server (parts, media types, where keys land) does not depend on that code.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from ebling.storage.s3 import S3ObjectStore

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

PREFIX = "some/prefix"


@dataclass(frozen=True)
class S3Server:
    """Where the test S3 server listens, and the credentials it accepts."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class LargeFile:
    """A file of random bytes, with their size and SHA-256."""

    path: Path
    size: int
    sha256: str


def random_file(path: Path, size: int) -> LargeFile:
    """Write ``size`` random bytes to ``path``, a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        remaining = size
        while remaining:
            block = os.urandom(min(remaining, 1 << 20))
            digest.update(block)
            out.write(block)
            remaining -= len(block)
    return LargeFile(path=path, size=size, sha256=digest.hexdigest())


def sha256_of(chunks: Iterable[bytes]) -> str:
    """The SHA-256 of the concatenated ``chunks``."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def s3_server_from_environment() -> S3Server | None:
    """The server named by ``EBLING_TEST_S3_*``, or ``None`` if no endpoint is set."""
    endpoint = os.environ.get("EBLING_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    return S3Server(
        endpoint_url=endpoint,
        access_key_id=os.environ.get("EBLING_TEST_S3_ACCESS_KEY", "ebling-test"),
        secret_access_key=os.environ.get("EBLING_TEST_S3_SECRET_KEY", "ebling-test-secret"),
    )


def raw_client(server: S3Server) -> S3Client:
    """A plain boto3 client on ``server``."""
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 3}),
    )


def s3_store(
    server: S3Server, bucket: str, *, prefix: str = PREFIX, **options: Any
) -> S3ObjectStore:
    """A store on ``bucket`` of the test server."""
    return S3ObjectStore(
        bucket,
        prefix,
        endpoint_url=server.endpoint_url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        **options,
    )


def fresh_bucket_name() -> str:
    """A bucket name no other test uses."""
    return f"ebling-test-{uuid.uuid4().hex[:16]}"


def delete_bucket(client: S3Client, bucket: str) -> None:
    """Empty ``bucket`` (objects and unfinished uploads) and delete it."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=bucket)


def closed_port() -> int:
    """A loopback port that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
