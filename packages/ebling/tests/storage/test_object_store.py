"""The object store's behaviour, on the local backend and on a real S3 server alike."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import BotoCoreError
from ebling.storage import (
    InvalidKey,
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    StorageUnavailable,
)
from ebling.storage.keys import MAX_KEY_BYTES, MAX_SEGMENT_BYTES
from ebling.storage.s3 import S3ObjectStore
from storage_fixtures import (
    PREFIX,
    LargeFile,
    S3Server,
    closed_port,
    delete_bucket,
    fresh_bucket_name,
    s3_store,
    sha256_of,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MiB = 1 << 20

BAD_KEYS = [
    pytest.param("", id="empty"),
    pytest.param("/reports/a.csv", id="absolute"),
    pytest.param("reports/../a.csv", id="dot-dot-segment"),
    pytest.param("..", id="dot-dot"),
    pytest.param("./a.csv", id="dot-segment"),
    pytest.param("reports\\a.csv", id="backslash"),
    pytest.param("reports/a\x00.csv", id="nul"),
    pytest.param("reports//a.csv", id="empty-segment"),
    pytest.param("reports/", id="trailing-slash"),
]


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


# ---------------------------------------------------------------- both backends


def test_round_trip(store: ObjectStore, small_file: Path, tmp_path: Path) -> None:
    store.put_file("reports/2026/11/sales.csv", small_file, content_type="text/csv")

    assert store.exists("reports/2026/11/sales.csv")
    assert store.size("reports/2026/11/sales.csv") == small_file.stat().st_size
    assert b"".join(store.iter_bytes("reports/2026/11/sales.csv")) == small_file.read_bytes()
    store.download("reports/2026/11/sales.csv", tmp_path / "out" / "sales.csv")
    assert (tmp_path / "out" / "sales.csv").read_bytes() == small_file.read_bytes()


def test_keys_may_hold_spaces_unicode_dots_and_the_longest_names(
    store: ObjectStore, small_file: Path
) -> None:
    keys = [
        "Ünïcode folder/report (final) 1.csv",
        ".hidden",
        "a..b/..c",
        "x/y/z/file.tar.gz",
        "n" * MAX_SEGMENT_BYTES,
        # Room is left for the S3 store's prefix, which counts towards S3's limit.
        "k/" * 449 + "kk",
    ]
    for key in keys:
        store.put_file(key, small_file)

    for key in keys:
        assert b"".join(store.iter_bytes(key)) == small_file.read_bytes(), key


def test_put_replaces_an_existing_object(store: ObjectStore, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_bytes(b"first version, the longer one")
    second.write_bytes(b"second")

    store.put_file("doc", first)
    store.put_file("doc", second)

    assert b"".join(store.iter_bytes("doc")) == b"second"
    assert store.size("doc") == len(b"second")


def test_put_copies_the_file(store: ObjectStore, small_file: Path) -> None:
    original = small_file.read_bytes()
    store.put_file("doc", small_file)

    small_file.write_bytes(b"changed afterwards")

    assert b"".join(store.iter_bytes("doc")) == original


def test_empty_object(store: ObjectStore, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.touch()

    store.put_file("empty", empty)

    assert store.exists("empty")
    assert store.size("empty") == 0
    assert b"".join(store.iter_bytes("empty")) == b""
    store.download("empty", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == b""


def test_large_object_streams_in_chunks(
    store: ObjectStore, large_file: LargeFile, tmp_path: Path
) -> None:
    store.put_file("large.bin", large_file.path)
    assert store.size("large.bin") == large_file.size

    sizes: list[int] = []

    def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            sizes.append(len(chunk))
            yield chunk

    assert sha256_of(counted(store.iter_bytes("large.bin"))) == large_file.sha256
    assert len(sizes) > 1
    assert max(sizes) <= MiB
    assert sum(sizes) == large_file.size

    store.download("large.bin", tmp_path / "large.copy")
    assert sha256_of([(tmp_path / "large.copy").read_bytes()]) == large_file.sha256


def test_chunk_size_bounds_every_chunk(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "ten"
    source.write_bytes(b"0123456789")
    store.put_file("ten", source)

    assert list(store.iter_bytes("ten", chunk_size=3)) == [b"012", b"345", b"678", b"9"]
    with pytest.raises(ValueError, match="chunk_size"):
        store.iter_bytes("ten", chunk_size=0)


def test_a_reader_may_stop_early(store: ObjectStore, large_file: LargeFile) -> None:
    # Closing a half-read stream must release its file or connection: many of them in a row
    # would otherwise exhaust the connection pool or the file descriptors.
    store.put_file("large.bin", large_file.path)

    for _ in range(40):
        chunks = store.iter_bytes("large.bin", chunk_size=64 * 1024)
        assert isinstance(chunks, Generator)
        assert len(next(chunks)) == 64 * 1024
        chunks.close()

    assert store.size("large.bin") == large_file.size


def test_exists_size_and_delete(store: ObjectStore, small_file: Path) -> None:
    assert not store.exists("doc")
    store.put_file("doc", small_file)
    assert store.exists("doc")

    store.delete("doc")
    store.delete("doc")  # deleting again is not an error

    assert not store.exists("doc")
    with pytest.raises(ObjectNotFound):
        store.size("doc")


def test_deleting_a_key_never_stored_is_not_an_error(store: ObjectStore) -> None:
    store.delete("never/stored")
    assert not store.exists("never/stored")


def test_a_folder_of_keys_is_not_an_object(store: ObjectStore, small_file: Path) -> None:
    store.put_file("folder/doc", small_file)

    assert not store.exists("folder")
    with pytest.raises(ObjectNotFound):
        store.size("folder")
    with pytest.raises(ObjectNotFound):
        store.iter_bytes("folder")
    store.delete("folder")
    assert store.exists("folder/doc")


def test_missing_object_raises_object_not_found(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound) as raised:
        store.size("missing/doc")
    assert raised.value.key == "missing/doc"
    assert "'missing/doc'" in str(raised.value)

    # Raised by the call itself, before the caller iterates (and has sent anything on).
    with pytest.raises(ObjectNotFound):
        store.iter_bytes("missing/doc")
    with pytest.raises(ObjectNotFound):
        store.download("missing/doc", tmp_path / "doc")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_refused_by_every_method(
    store: ObjectStore, key: str, small_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidKey) as raised:
        store.put_file(key, small_file)
    assert raised.value.key == key
    assert repr(key) in str(raised.value)
    assert isinstance(raised.value, ValueError)

    with pytest.raises(InvalidKey):
        store.exists(key)
    with pytest.raises(InvalidKey):
        store.size(key)
    with pytest.raises(InvalidKey):
        store.iter_bytes(key)
    with pytest.raises(InvalidKey):
        store.download(key, tmp_path / "out")
    with pytest.raises(InvalidKey):
        store.delete(key)
    assert not (tmp_path / "out").exists()


def test_download_of_a_missing_object_leaves_nothing(store: ObjectStore, tmp_path: Path) -> None:
    target_folder = tmp_path / "downloads"
    target_folder.mkdir()
    kept = target_folder / "kept.csv"
    kept.write_bytes(b"what was there before")

    with pytest.raises(ObjectNotFound):
        store.download("missing", target_folder / "new.csv")
    with pytest.raises(ObjectNotFound):
        store.download("missing", kept)

    assert files_under(target_folder) == ["kept.csv"]
    assert kept.read_bytes() == b"what was there before"


def test_download_replaces_an_existing_file(
    store: ObjectStore, small_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "downloads" / "target.csv"
    target.parent.mkdir()
    target.write_bytes(b"old contents, longer than the new ones, all of them replaced")
    store.put_file("doc", small_file)

    store.download("doc", target)

    assert target.read_bytes() == small_file.read_bytes()
    assert files_under(target.parent) == ["target.csv"]


def test_download_failing_midway_leaves_the_target_untouched(
    store: ObjectStore, small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No real server can be made to drop a connection half-way on cue, so the stream is
    # replaced by one that breaks after its first chunk; download() itself is the real one.
    store.put_file("doc", small_file)
    real_iter_bytes = store.iter_bytes

    def breaking_iter_bytes(key: str, *, chunk_size: int = MiB) -> Iterator[bytes]:
        chunks = real_iter_bytes(key, chunk_size=4)
        yield next(chunks)
        raise StorageUnavailable("connection reset half-way")

    monkeypatch.setattr(store, "iter_bytes", breaking_iter_bytes)
    target_folder = tmp_path / "downloads"
    target_folder.mkdir()
    (target_folder / "doc.csv").write_bytes(b"before")

    with pytest.raises(StorageUnavailable, match="half-way"):
        store.download("doc", target_folder / "doc.csv")
    with pytest.raises(StorageUnavailable, match="half-way"):
        store.download("doc", target_folder / "new.csv")

    assert files_under(target_folder) == ["doc.csv"]
    assert (target_folder / "doc.csv").read_bytes() == b"before"


def test_put_of_a_missing_file_raises_os_error(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        store.put_file("doc", tmp_path / "no-such-file")
    assert not store.exists("doc")


def test_check_passes_on_a_working_store(store: ObjectStore) -> None:
    store.check()
    store.check()


def test_store_meets_the_interface(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


# ---------------------------------------------------------------- S3


def test_s3_large_upload_goes_in_parts(
    s3_server: S3Server, s3_bucket: str, s3_client: S3Client, large_file: LargeFile
) -> None:
    store = s3_store(s3_server, s3_bucket)

    store.put_file("large.bin", large_file.path)

    # A multipart upload's ETag is "<md5 of the parts' md5s>-<number of parts>".
    etag = s3_client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/large.bin")["ETag"]
    parts = re.fullmatch(r'"[0-9a-f]{32}-(\d+)"', etag)
    assert parts, etag
    assert int(parts.group(1)) >= 3


def test_s3_small_upload_is_one_request(
    s3_server: S3Server, s3_bucket: str, s3_client: S3Client, small_file: Path
) -> None:
    s3_store(s3_server, s3_bucket).put_file("small.csv", small_file)

    etag = s3_client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/small.csv")["ETag"]
    assert "-" not in etag


def test_s3_records_the_content_type(
    s3_server: S3Server, s3_bucket: str, s3_client: S3Client, small_file: Path
) -> None:
    s3_store(s3_server, s3_bucket).put_file("sales.csv", small_file, content_type="text/csv")

    head = s3_client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/sales.csv")
    assert head["ContentType"] == "text/csv"


def test_s3_objects_live_under_the_prefix(
    s3_server: S3Server, s3_bucket: str, s3_client: S3Client, small_file: Path
) -> None:
    s3_store(s3_server, s3_bucket, prefix="/tenant-a/").put_file("doc.csv", small_file)

    listed = s3_client.list_objects_v2(Bucket=s3_bucket)
    assert [item["Key"] for item in listed.get("Contents", [])] == ["tenant-a/doc.csv"]
    assert not s3_store(s3_server, s3_bucket, prefix="tenant-b").exists("doc.csv")
    assert s3_store(s3_server, s3_bucket, prefix="").exists("tenant-a/doc.csv")


def test_s3_check_fails_for_an_unreachable_endpoint() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    store = S3ObjectStore(
        "any-bucket", endpoint_url=endpoint, access_key_id="key", secret_access_key="s3cr3t"
    )

    with pytest.raises(StorageUnavailable) as raised:
        store.check()

    assert endpoint in str(raised.value)
    assert isinstance(raised.value.__cause__, BotoCoreError)
    assert "s3cr3t" not in str(raised.value)


def test_s3_check_fails_for_a_missing_bucket(s3_server: S3Server) -> None:
    bucket = fresh_bucket_name()
    store = s3_store(s3_server, bucket)

    with pytest.raises(StorageUnavailable, match="s3_create_bucket") as raised:
        store.check()
    assert repr(bucket) in str(raised.value)

    # Reads only: some servers (SeaweedFS among them) create a missing bucket on a write.
    with pytest.raises(StorageUnavailable, match="does not exist"):
        store.iter_bytes("doc")
    with pytest.raises(StorageUnavailable, match="does not exist"):
        store.delete("doc")


def test_s3_check_creates_a_missing_bucket_when_allowed(
    s3_server: S3Server, s3_client: S3Client, small_file: Path
) -> None:
    bucket = fresh_bucket_name()
    store = s3_store(s3_server, bucket, create_bucket=True)
    try:
        store.check()
        store.check()  # the bucket exists now: nothing to do

        s3_client.head_bucket(Bucket=bucket)
        store.put_file("doc", small_file)
        assert store.exists("doc")
    finally:
        delete_bucket(s3_client, bucket)


def test_s3_wrong_credentials_are_named(s3_server: S3Server, s3_bucket: str) -> None:
    store = S3ObjectStore(
        s3_bucket,
        endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id,
        secret_access_key="not-the-secret",
    )

    with pytest.raises(StorageUnavailable, match="s3_secret_access_key") as raised:
        store.check()
    assert "not-the-secret" not in str(raised.value)
    with pytest.raises(StorageUnavailable, match="s3_secret_access_key"):
        store.exists("doc")


def test_s3_describe_never_shows_credentials() -> None:
    store = S3ObjectStore(
        "reports",
        "tenant/a",
        endpoint_url="http://127.0.0.1:9000",
        access_key_id="AKIAEXAMPLEKEY",
        secret_access_key="s3cr3t-value",
    )

    assert store.describe() == "s3://reports/tenant/a at http://127.0.0.1:9000"
    for text in (store.describe(), repr(store), str(vars(store))):
        assert "AKIAEXAMPLEKEY" not in text
        assert "s3cr3t-value" not in text


@pytest.mark.parametrize(
    "endpoint_url", ["http://user:p4ssw0rd@127.0.0.1:9000", "ftp://127.0.0.1", "127.0.0.1:9000"]
)
def test_s3_bad_endpoint_urls_are_refused_without_repeating_them(endpoint_url: str) -> None:
    with pytest.raises(ValueError, match="S3 endpoint URL") as raised:
        S3ObjectStore("reports", endpoint_url=endpoint_url)
    assert "p4ssw0rd" not in str(raised.value)


def test_s3_describe_names_aws_without_an_endpoint() -> None:
    store = S3ObjectStore("reports", region="eu-central-1")

    assert store.describe() == "s3://reports on AWS (eu-central-1)"


@pytest.mark.parametrize("bucket", ["", "ab", "Upper", "under_score", "-dash", "a" * 64])
def test_s3_invalid_bucket_names_are_refused(bucket: str) -> None:
    with pytest.raises(ValueError, match="bucket name"):
        S3ObjectStore(bucket)


def test_s3_prefix_counts_towards_the_key_length(
    s3_server: S3Server, s3_bucket: str, small_file: Path
) -> None:
    prefix = "p" * 100
    store = s3_store(s3_server, s3_bucket, prefix=prefix)
    folders = "/".join(["k" * 200] * 4) + "/"
    longest = folders + "k" * (MAX_KEY_BYTES - len(f"{prefix}/{folders}"))

    store.put_file(longest, small_file)
    assert store.exists(longest)
    with pytest.raises(InvalidKey, match="with the prefix"):
        store.put_file(longest + "k", small_file)


def test_s3_invalid_prefix_is_refused() -> None:
    with pytest.raises(InvalidKey):
        S3ObjectStore("reports", "a/../b")


# ---------------------------------------------------------------- local


def test_local_writes_leave_no_temporary_files(small_file: Path, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")

    store.put_file("a/doc.csv", small_file)
    store.put_file("a/doc.csv", small_file)
    store.download("a/doc.csv", tmp_path / "objects" / "a" / "copy.csv")

    assert files_under(tmp_path / "objects") == ["a/copy.csv", "a/doc.csv"]


def test_local_object_cannot_also_be_a_folder(small_file: Path, tmp_path: Path) -> None:
    # S3 allows both "a" and "a/b"; a folder cannot, so the local store refuses the second.
    store = LocalObjectStore(tmp_path / "objects")
    store.put_file("a", small_file)

    with pytest.raises(InvalidKey, match="folder"):
        store.put_file("a/b", small_file)
    assert not store.exists("a/b")
    assert store.exists("a")


def test_local_check_creates_the_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "new" / "objects")

    store.check()

    assert (tmp_path / "new" / "objects").is_dir()


def test_local_check_fails_when_the_root_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "objects").write_text("not a folder")
    store = LocalObjectStore(tmp_path / "objects")

    with pytest.raises(StorageUnavailable, match="storage folder") as raised:
        store.check()
    assert isinstance(raised.value.__cause__, OSError)


def test_local_describe_is_the_root_as_a_url(tmp_path: Path) -> None:
    assert LocalObjectStore(tmp_path / "objects").describe() == (tmp_path / "objects").as_uri()
