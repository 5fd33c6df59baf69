"""Opening a store from a storage URL and from Ebling's settings; the public surface."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest
from ebling.settings import Settings
from ebling.storage import LocalObjectStore, ObjectStore, S3Settings, open_store
from ebling.storage.s3 import S3ObjectStore


def test_file_url_opens_a_local_store(tmp_path: Path) -> None:
    store = open_store((tmp_path / "my objects").as_uri())

    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "my objects"


def test_file_url_may_name_localhost(tmp_path: Path) -> None:
    store = open_store(f"file://localhost{tmp_path}")

    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path


def test_s3_url_opens_an_s3_store_without_contacting_it() -> None:
    settings = S3Settings(
        endpoint_url="http://127.0.0.1:9000",
        access_key_id="key",
        secret_access_key="secret",
        region="eu-west-1",
        create_bucket=True,
    )

    store = open_store("s3://reports/tenant/a/", s3=settings)

    assert isinstance(store, S3ObjectStore)
    assert (store.bucket, store.prefix, store.region) == ("reports", "tenant/a", "eu-west-1")
    assert store.create_bucket
    assert store.describe() == "s3://reports/tenant/a at http://127.0.0.1:9000"


def test_s3_url_without_settings_means_aws() -> None:
    store = open_store("s3://reports")

    assert isinstance(store, S3ObjectStore)
    assert store.prefix == ""
    assert store.describe() == "s3://reports on AWS (us-east-1)"


@pytest.mark.parametrize(
    "url", ["", "/var/lib/ebling", "http://example.com/x", "ftp://host/x", "gs://bucket"]
)
def test_unsupported_url_names_the_allowed_schemes(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported storage URL") as raised:
        open_store(url)

    assert "file:///" in str(raised.value)
    assert "s3://" in str(raised.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file://fileserver/share", "not on 'fileserver'"),
        ("file:relative/folder", "absolute folder"),
        ("file:///var/lib/ebling?mode=fast", "no query"),
        ("s3://", "needs a bucket"),
        ("s3:///prefix-only", "needs a bucket"),
        ("s3://Not_A_Bucket/x", "bucket name"),
        ("s3://bucket/a/../b", "invalid prefix"),
        ("s3://bucket/a//b", "invalid prefix"),
        ("s3://bucket/x?versioning=1", "no query"),
    ],
)
def test_malformed_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_store(url)


def test_credentials_in_an_s3_url_are_refused_and_not_repeated() -> None:
    with pytest.raises(ValueError, match="must not carry credentials") as raised:
        open_store("s3://AKIAEXAMPLE:s3cr3t@bucket/prefix")

    assert "s3cr3t" not in str(raised.value)
    assert "AKIAEXAMPLE" not in str(raised.value)


def test_s3_settings_hide_the_secret() -> None:
    settings = S3Settings(access_key_id="key", secret_access_key="s3cr3t")

    assert "s3cr3t" not in repr(settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.region = "elsewhere"  # type: ignore[misc]


def test_settings_open_the_embedded_store_by_default(tmp_path: Path) -> None:
    store = Settings(home=tmp_path).object_store()

    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "storage"


def test_settings_open_an_s3_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EBLING_STORAGE_URL", "s3://reports/ebling")
    monkeypatch.setenv("EBLING_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("EBLING_S3_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("EBLING_S3_SECRET_ACCESS_KEY", "s3cr3t")
    monkeypatch.setenv("EBLING_S3_REGION", "eu-west-1")
    monkeypatch.setenv("EBLING_S3_CREATE_BUCKET", "true")
    settings = Settings(home=tmp_path)

    store = settings.object_store()

    assert isinstance(store, S3ObjectStore)
    assert store.describe() == "s3://reports/ebling at http://127.0.0.1:9000"
    assert (store.region, store.create_bucket) == ("eu-west-1", True)
    for text in (repr(settings), str(settings), settings.model_dump_json(), store.describe()):
        assert "s3cr3t" not in text


@pytest.mark.parametrize("module", ["ebling.storage", "ebling.storage.s3", "ebling.storage.errors"])
def test_public_surface_is_declared(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in imported.__all__ if not hasattr(imported, name)]
    assert not missing, f"{module}.__all__ names what it does not define: {missing}"


def test_both_backends_implement_the_interface(tmp_path: Path) -> None:
    assert isinstance(LocalObjectStore(tmp_path), ObjectStore)
    assert isinstance(S3ObjectStore("reports"), ObjectStore)
