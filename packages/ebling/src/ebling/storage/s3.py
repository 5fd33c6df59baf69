"""The production object store: a bucket on any server that speaks the S3 API."""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ebling.storage._files import check_chunk_size, write_atomically
from ebling.storage.base import DEFAULT_CHUNK_SIZE
from ebling.storage.errors import InvalidKey, ObjectNotFound, StorageUnavailable
from ebling.storage.keys import MAX_KEY_BYTES, validate_key

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType
    from mypy_boto3_s3.type_defs import CreateBucketRequestTypeDef, HeadObjectOutputTypeDef

__all__ = ["S3ObjectStore"]

log = logging.getLogger(__name__)

_MiB = 1 << 20

# S3's bucket naming rules, less the rarely used ones (no IP-address-like names, etc.).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

# A missing object is "NoSuchKey", or a bare "404" in answer to HEAD, which has no body.
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_CREDENTIAL_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
)

_BASE_CONFIG = Config(
    signature_version="s3v4",
    # Since boto3 1.36 every upload carries a CRC checksum by default, which several S3 servers
    # other than AWS reject or mis-verify (https://github.com/boto/boto3/issues/4392). Send and
    # verify them only where an operation requires it.
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
)
# Requests that move data: retried with back-off on throttling, 5xx and dropped connections.
_DATA_CONFIG = _BASE_CONFIG.merge(
    Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"mode": "standard", "total_max_attempts": 4},
        max_pool_connections=16,
    )
)
# The readiness probe answers for now, quickly; whoever polls it does the retrying.
_PROBE_CONFIG = _BASE_CONFIG.merge(
    Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1})
)


class S3ObjectStore:
    """Objects in ``bucket`` under the key prefix ``prefix``, on AWS or any S3-compatible server.

    Large uploads go in parts (multipart upload), in parallel; reads and downloads stream.

    Args:
        bucket: the bucket's name.
        prefix: a key prefix for every object, '/'-separated like a key; empty for none.
        endpoint_url: the server, e.g. ``http://127.0.0.1:9000``; ``None`` for AWS itself.
        access_key_id: the access key; ``None`` for boto3's usual search (environment,
            shared config, instance role).
        secret_access_key: the secret of ``access_key_id``; kept by boto3 only.
        region: the region to sign requests for (and to create the bucket in).
        create_bucket: let ``check`` create the bucket when it is missing (embedded set-ups
            and tests; production buckets are made by whoever owns the account).
        multipart_threshold: files of this many bytes or more are uploaded in parts.
        multipart_chunksize: the size of each part.

    Raises:
        ValueError: ``bucket``, ``prefix`` or ``endpoint_url`` is not valid.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str = "us-east-1",
        create_bucket: bool = False,
        multipart_threshold: int = 8 * _MiB,
        multipart_chunksize: int = 8 * _MiB,
    ) -> None:
        if not _BUCKET_NAME.fullmatch(bucket):
            raise ValueError(
                f"invalid S3 bucket name {bucket!r}: use 3 to 63 lower-case letters, digits, "
                "'.' and '-', starting and ending with a letter or digit"
            )
        prefix = prefix.strip("/")
        if prefix:
            validate_key(prefix)

        self.bucket = bucket
        self.prefix = prefix
        if endpoint_url is not None:
            _check_endpoint_url(endpoint_url)
        self.endpoint_url = endpoint_url
        self.region = region
        self.create_bucket = create_bucket
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
        )

        # Path-style addressing keeps the bucket out of the host name, which a server on
        # 127.0.0.1 or behind one DNS name needs; AWS itself prefers virtual-hosted style.
        addressing = Config(s3={"addressing_style": "path" if endpoint_url else "virtual"})
        # Sessions are not thread-safe but clients are: both are made here, once.
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._client: S3Client = session.client(
            "s3", endpoint_url=endpoint_url, config=_DATA_CONFIG.merge(addressing)
        )
        self._probe: S3Client = session.client(
            "s3", endpoint_url=endpoint_url, config=_PROBE_CONFIG.merge(addressing)
        )

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.describe()!r})"

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        """Upload the local file at ``path``, in parts if large; see ``ObjectStore.put_file``."""
        full_key = self._full_key(key)
        extra_args = {"ContentType": content_type} if content_type else {}
        with path.open("rb") as source:
            try:
                self._client.upload_fileobj(
                    source, self.bucket, full_key, ExtraArgs=extra_args, Config=self._transfer
                )
            except (BotoCoreError, ClientError, Boto3Error) as error:
                raise self._failure(f"upload {key!r}", error) from error

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self._head(key) is not None

    def size(self, key: str) -> int:
        """The object's size in bytes; see ``ObjectStore.size``."""
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        return head["ContentLength"]

    def iter_bytes(
        self, key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Generator[bytes, None, None]:
        """Stream the object in chunks; see ``ObjectStore.iter_bytes``."""
        full_key = self._full_key(key)
        check_chunk_size(chunk_size)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=full_key)
        except ClientError as error:
            if _error_code(error) in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from error
            raise self._failure(f"read {key!r}", error) from error
        except BotoCoreError as error:
            raise self._failure(f"read {key!r}", error) from error
        return self._stream(key, response["Body"], chunk_size)

    def download(self, key: str, path: Path) -> None:
        """Stream the object to the local file ``path``; see ``ObjectStore.download``."""
        with closing(self.iter_bytes(key)) as chunks:
            write_atomically(path, chunks)

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; S3 answers the same whether or not it existed."""
        full_key = self._full_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=full_key)
        except (BotoCoreError, ClientError) as error:
            raise self._failure(f"delete {key!r}", error) from error

    def check(self) -> None:
        """Make sure the bucket answers (creating it if missing and allowed), without retrying.

        Raises:
            StorageUnavailable: the server cannot be reached, refuses the credentials, or the
                bucket is missing (and may not be created).
        """
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if _error_code(error) not in _NOT_FOUND_CODES | {"NoSuchBucket"}:
                raise self._failure("check the bucket", error) from error
            if not self.create_bucket:
                raise self._missing_bucket() from error
            self._create_bucket()
        except BotoCoreError as error:
            raise self._failure("check the bucket", error) from error

    def describe(self) -> str:
        """The bucket, prefix and server, e.g. ``s3://bucket/prefix at http://127.0.0.1:9000``."""
        location = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        if self.endpoint_url is None:
            return f"{location} on AWS ({self.region})"
        return f"{location} at {self.endpoint_url}"

    def _full_key(self, key: str) -> str:
        validate_key(key)
        if not self.prefix:
            return key
        full_key = f"{self.prefix}/{key}"
        if len(full_key.encode()) > MAX_KEY_BYTES:
            reason = f"with the prefix {self.prefix!r} it is longer than {MAX_KEY_BYTES} bytes"
            raise InvalidKey(key, reason=reason)
        return full_key

    def _head(self, key: str) -> HeadObjectOutputTypeDef | None:
        full_key = self._full_key(key)
        try:
            return self._client.head_object(Bucket=self.bucket, Key=full_key)
        except ClientError as error:
            # HEAD answers carry no body, so a missing bucket reads as a missing object here.
            if _error_code(error) in _NOT_FOUND_CODES:
                return None
            raise self._failure(f"look up {key!r}", error) from error
        except BotoCoreError as error:
            raise self._failure(f"look up {key!r}", error) from error

    def _stream(
        self, key: str, body: StreamingBody, chunk_size: int
    ) -> Generator[bytes, None, None]:
        # Closing the body hands its connection back to the pool even when the reader stops
        # early (the generator's close() or garbage collection runs this finally).
        try:
            yield from body.iter_chunks(chunk_size)
        except (BotoCoreError, OSError) as error:
            raise self._failure(f"read {key!r}", error) from error
        finally:
            body.close()

    def _create_bucket(self) -> None:
        request: CreateBucketRequestTypeDef = {"Bucket": self.bucket}
        # us-east-1 is the default location and AWS refuses it when named explicitly.
        if self.region != "us-east-1":
            request["CreateBucketConfiguration"] = {
                "LocationConstraint": cast("BucketLocationConstraintType", self.region)
            }
        try:
            self._probe.create_bucket(**request)
        except ClientError as error:
            # Another process starting at the same time may have just created it.
            if _error_code(error) == "BucketAlreadyOwnedByYou":
                return
            raise self._failure("create the bucket", error) from error
        except BotoCoreError as error:
            raise self._failure("create the bucket", error) from error
        log.info("Created the bucket %s", self.describe())

    def _missing_bucket(self) -> StorageUnavailable:
        return StorageUnavailable(
            f"the bucket {self.bucket!r} does not exist ({self.describe()}); create it, "
            "or set s3_create_bucket to let Ebling create it"
        )

    def _failure(self, action: str, error: Exception) -> StorageUnavailable:
        where = self.describe()
        if isinstance(error, NoCredentialsError):
            return StorageUnavailable(
                f"cannot {action}: no S3 credentials were given or found; "
                "set s3_access_key_id and s3_secret_access_key"
            )
        if not isinstance(error, ClientError):
            return StorageUnavailable(f"cannot {action} on {where}: {error}")

        code = _error_code(error)
        if code == "NoSuchBucket":
            return self._missing_bucket()
        message = error.response.get("Error", {}).get("Message") or "no message"
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        detail = f"cannot {action} on {where}: {code} ({message}, HTTP {status})"
        if code in _CREDENTIAL_CODES or status == 403:
            detail += "; check s3_access_key_id, s3_secret_access_key and the key's permissions"
        return StorageUnavailable(detail)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _check_endpoint_url(url: str) -> None:
    # The URL is never repeated in these messages: it might hold a password.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the S3 endpoint URL must be http:// or https:// and name a host")
    # S3 authenticates by signing each request; a user:password@ would only end up in logs.
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the S3 endpoint URL must not carry a user or password: "
            "give credentials as s3_access_key_id and s3_secret_access_key"
        )
