"""Reports over HTTP: ingesting CSV, JSON and Parquet batches, querying and exporting rows."""

from __future__ import annotations

import io
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

CPU_CSV = (
    "host;cpu_percent;checked_at;note\r\n"
    "web-1;12.5;2026-12-01T06:00:00Z;ok\r\n"
    'web-2;97.0;2026-12-01T06:00:00Z;=HYPERLINK("http://x")\r\n'
    "db-1;55.25;2026-12-01T06:00:00Z;Müller's €\r\n"
).encode("cp1252")


@pytest.fixture
def storage_options(any_storage: dict[str, object]) -> dict[str, object]:
    return any_storage


def send(
    client: TestClient,
    headers: dict[str, str],
    name: str,
    body: bytes,
    content_type: str = "text/csv",
    **params: object,
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/reports/{name}/batches",
        params=params,
        content=body,
        headers={**headers, "Content-Type": content_type},
    )


def rows(client: TestClient, headers: dict[str, str], name: str, **params: object) -> dict:
    response = client.get(f"/api/v1/reports/{name}/rows", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_csv_batch_is_sniffed_typed_and_linked_to_its_source(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id = uuid.uuid4()
    response = send(
        client,
        ingest_headers,
        "cpu",
        CPU_CSV,
        run_id=run_id,
        source_message_id="<abc@monitoring>",
        source_file_name="cpu.csv",
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["duplicate"] is False
    batch = result["batch"]
    assert batch["row_count"] == 3
    assert batch["delimiter"] == ";"
    assert batch["encoding"].lower().replace("-", "") in {"cp1252", "windows1252"}
    assert batch["run_id"] == str(run_id)
    assert batch["source_message_id"] == "<abc@monitoring>"
    assert batch["source_file_name"] == "cpu.csv"
    types = {column["name"]: column["type"] for column in result["report"]["columns"]}
    assert types == {
        "host": "string",
        "cpu_percent": "float64",
        "checked_at": "timestamp",
        "note": "string",
    }

    page = rows(client, viewer_headers, "cpu", sort="-cpu_percent")
    assert [row["host"] for row in page["rows"]] == ["web-2", "db-1", "web-1"]
    assert page["rows"][1]["note"] == "Müller's €"


def test_same_file_twice_is_stored_once(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    first = send(client, ingest_headers, "cpu", CPU_CSV).json()
    again = send(client, ingest_headers, "cpu", CPU_CSV)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["batch"]["id"] == first["batch"]["id"]
    report = client.get("/api/v1/reports/cpu", headers=viewer_headers).json()
    assert report["row_count"] == 3
    assert report["batch_count"] == 1


def test_schema_evolves_by_default(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    send(client, ingest_headers, "disk", b"host,used\nweb-1,10\n")
    response = send(client, ingest_headers, "disk", b"host,used,mount\nweb-1,11.5,/var\n")
    assert response.status_code == 201, response.text
    change = response.json()["batch"]["schema_change"]
    assert change["evolved"] is True
    assert change["added"] == ["mount"]
    assert change["retyped"] == ["used"]
    page = rows(client, viewer_headers, "disk", sort="used")
    assert page["rows"][0]["mount"] is None
    assert page["rows"][0]["used"] == 10.0
    assert page["rows"][1]["mount"] == "/var"


def test_reject_policy_names_the_columns_and_stores_nothing(
    client: TestClient, ingest_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/reports",
        json={
            "name": "strict",
            "columns": [{"name": "host", "type": "string"}, {"name": "used", "type": "int64"}],
            "schema_policy": "reject",
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    response = send(client, ingest_headers, "strict", b"host,used,extra\nweb-1,1,x\n")
    assert response.status_code == 409, response.text
    assert "extra" in response.json()["detail"]
    report = client.get("/api/v1/reports/strict", headers=admin_headers).json()
    assert report["row_count"] == 0
    assert report["batch_count"] == 0
    store = client.app.state.store  # type: ignore[attr-defined]
    assert not store.exists(f"reports/{report['id']}/batches/1.parquet")
    assert client.get("/api/v1/reports/strict/batches", headers=admin_headers).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"a,b\n1,2\n3,4,5\n", "line 3"),
        (b'a,b\n1,"unterminated\n2,3\n', "quot"),
        (b"", "empty"),
        (b"name,city\nA,M\xfcnchen\n\x81\x8d\x8f\x90\x9d,x\n", "encod"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "not csv"),
        (b"a,b\n" + b"x" * (10 * 1024 * 1024) + b",1\n", "line 2"),
    ],
    ids=["ragged", "quoting", "empty", "encoding", "binary", "huge-line"],
)
def test_bad_files_are_422_naming_the_problem_and_store_nothing(
    client: TestClient,
    ingest_headers: dict[str, str],
    admin_headers: dict[str, str],
    body: bytes,
    needle: str,
) -> None:
    response = send(client, ingest_headers, "bad", body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert needle in response.json()["detail"].lower()
    report = client.get("/api/v1/reports/bad", headers=admin_headers)
    if report.status_code == 200:
        assert report.json()["row_count"] == 0
        assert (
            client.get("/api/v1/reports/bad/batches", headers=admin_headers).json()["items"] == []
        )


def test_json_and_parquet_batches(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    json_rows = b'[{"host": "a", "load": 1}, {"host": "b", "load": 2}]'
    assert send(client, ingest_headers, "load", json_rows, "application/json").status_code == 201
    table = pa.table({"host": ["c"], "load": [3]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    response = send(
        client, ingest_headers, "load", buffer.getvalue(), "application/vnd.apache.parquet"
    )
    assert response.status_code == 201, response.text
    page = rows(client, viewer_headers, "load", sort="-load")
    assert [(row["host"], row["load"]) for row in page["rows"]] == [("c", 3), ("b", 2), ("a", 1)]


def test_filters_sort_columns_and_cursor(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    lines = ["host,cpu,site"] + [
        f"host-{i:03d},{i % 50},{'east' if i % 2 else 'west'}" for i in range(120)
    ]
    assert send(client, ingest_headers, "fleet", "\n".join(lines).encode()).status_code == 201

    page = rows(
        client,
        viewer_headers,
        "fleet",
        filter=["cpu:gte:40", "site:eq:east"],
        sort="-cpu,host",
        columns="host,cpu",
    )
    assert all(row["cpu"] >= 40 and set(row) == {"host", "cpu"} for row in page["rows"])
    assert len(page["rows"]) == 10
    assert [c["name"] for c in page["columns"]] == ["host", "cpu"]
    contains = rows(client, viewer_headers, "fleet", filter="host:contains:HOST-11")
    assert {row["host"] for row in contains["rows"]} == {f"host-{i}" for i in range(110, 120)}

    walked, cursor = [], None
    for _ in range(20):
        params: dict[str, object] = {"sort": "-cpu", "limit": 25}
        if cursor:
            params["cursor"] = cursor
        page = rows(client, viewer_headers, "fleet", **params)
        walked += [row["host"] for row in page["rows"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(walked) == sorted(f"host-{i:03d}" for i in range(120))
    assert len(walked) == 120


def test_exports_neutralise_formulas_and_round_trip(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    send(client, ingest_headers, "cpu", CPU_CSV)
    exported = client.get(
        "/api/v1/reports/cpu/export", params={"sort": "host"}, headers=viewer_headers
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode()
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text
    assert ",=HYPERLINK" not in text
    assert "12.5" in text

    parquet = client.get(
        "/api/v1/reports/cpu/export", params={"format": "parquet"}, headers=viewer_headers
    )
    assert parquet.status_code == 200
    table = pq.read_table(io.BytesIO(parquet.content))
    assert sorted(table.column("host").to_pylist()) == ["db-1", "web-1", "web-2"]


def test_roles_and_bad_queries(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    send(client, ingest_headers, "cpu", CPU_CSV)
    assert send(client, viewer_headers, "cpu", CPU_CSV).status_code == 403
    assert client.get("/api/v1/reports/cpu/rows", headers=ingest_headers).status_code == 403
    for params in (
        {"filter": "nope:eq:1"},
        {"filter": "cpu_percent:gte:abc"},
        {"sort": "nope"},
        {"filter": "cpu_percent"},
    ):
        response = client.get("/api/v1/reports/cpu/rows", params=params, headers=viewer_headers)
        assert response.status_code == 422, (params, response.text)
    assert client.get("/api/v1/reports/missing/rows", headers=viewer_headers).status_code == 404
    assert send(client, ingest_headers, "bad name!", CPU_CSV).status_code in (404, 422)
    assert send(client, ingest_headers, "cpu", CPU_CSV, "image/png").status_code == 415


def test_empty_batches_and_empty_columns_keep_the_schema(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    send(client, ingest_headers, "disk", b"host,used\nweb-1,10\n")
    empty = send(client, ingest_headers, "disk", b"[]", "application/json")
    assert empty.status_code == 201, empty.text
    assert empty.json()["batch"]["row_count"] == 0
    blank = send(client, ingest_headers, "disk", b"host,used\nweb-2,\n")
    assert blank.status_code == 201, blank.text
    report = client.get("/api/v1/reports/disk", headers=viewer_headers).json()
    assert report["columns"] == [
        {"name": "host", "type": "string"},
        {"name": "used", "type": "int64"},
    ]
    assert report["row_count"] == 2
