"""Object storage: files kept under keys, in a local folder or in a bucket on an S3 server.

``open_store`` turns a storage URL into a store. The S3 backend, ``ebling.storage.s3``, is
imported only when an ``s3://`` URL is opened, so the embedded set-up never loads boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ebling.storage.base import ObjectStore
from ebling.storage.errors import InvalidKey, ObjectNotFound, StorageError, StorageUnavailable
from ebling.storage.local import LocalObjectStore

if TYPE_CHECKING:
    from ebling.storage.s3 import S3ObjectStore

__all__ = [
    "InvalidKey",
    "LocalObjectStore",
    "ObjectNotFound",
    "ObjectStore",
    "S3Settings",
    "StorageError",
    "StorageUnavailable",
    "open_store",
]

_SCHEMES = "file:///absolute/folder or s3://bucket/optional/prefix"


@dataclass(frozen=True)
class S3Settings:
    """How to reach the S3 server of an ``s3://`` storage URL.

    Attributes:
        endpoint_url: the server, e.g. ``http://127.0.0.1:9000``; ``None`` for AWS itself.
        access_key_id: the access key; ``None`` for boto3's usual search (environment,
            shared config, instance role).
        secret_access_key: its secret; left out of ``repr``.
        region: the region to sign requests for.
        create_bucket: let the store's ``check`` create a missing bucket.
    """

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    region: str = "us-east-1"
    create_bucket: bool = False


def open_store(url: str, *, s3: S3Settings | None = None) -> ObjectStore:
    """Open the object store that ``url`` names; nothing is read or written yet.

    Args:
        url: ``file:///absolute/folder`` for a local folder, or ``s3://bucket/prefix`` (the
            prefix is optional) for a bucket on an S3 server.
        s3: how to reach the S3 server, for an ``s3://`` URL; defaults to AWS with the
            credentials boto3 finds itself.

    Raises:
        ValueError: the URL is not one of these two forms. The message never repeats the
            URL whole, since it might carry a password.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalObjectStore(_file_url_path(url))
    if parts.scheme == "s3":
        return _open_s3(url, s3 or S3Settings())
    scheme = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
    raise ValueError(f"unsupported storage URL ({scheme}): use {_SCHEMES}")


def _file_url_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(
            f"a file:// storage URL names a folder on this machine, not on {parts.hostname!r}: "
            "use file:///absolute/folder (three slashes)"
        )
    if parts.query or parts.fragment:
        raise ValueError("a file:// storage URL takes no query or fragment")
    path = Path(url2pathname(parts.path))
    if not path.is_absolute():
        raise ValueError(f"a file:// storage URL needs an absolute folder, got {parts.path!r}")
    return path


def _open_s3(url: str, settings: S3Settings) -> S3ObjectStore:
    # Imported here so that the embedded set-up never pays for importing boto3.
    from ebling.storage.s3 import S3ObjectStore

    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ValueError(
            "an s3:// storage URL must not carry credentials: "
            "give them as s3_access_key_id and s3_secret_access_key"
        )
    if not parts.netloc:
        raise ValueError("an s3:// storage URL needs a bucket: s3://bucket/optional/prefix")
    if parts.query or parts.fragment:
        raise ValueError("an s3:// storage URL takes no query or fragment")
    try:
        return S3ObjectStore(
            parts.netloc,
            parts.path.strip("/"),
            endpoint_url=settings.endpoint_url,
            access_key_id=settings.access_key_id,
            secret_access_key=settings.secret_access_key,
            region=settings.region,
            create_bucket=settings.create_bucket,
        )
    except InvalidKey as error:
        raise ValueError(f"invalid prefix in the s3:// storage URL: {error.reason}") from error
