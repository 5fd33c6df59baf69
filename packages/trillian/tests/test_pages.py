"""The pages show what Ebling knows, and say clearly what went wrong when it refuses."""

from __future__ import annotations

import csv
import io

from signing_in import sign_in
from starlette.testclient import TestClient
from trillian_testing import Stack


def signed_in(client: TestClient, stack: Stack) -> TestClient:
    sign_in(client, "admin", stack.admin_password)
    return client


def test_the_overview_counts_runs_and_names_failing_workflows(
    client: TestClient, stack: Stack
) -> None:
    html = signed_in(client, stack).get("/?range=30d").text
    assert "Runs per day by state" in html
    assert "invoice_ingestion" in html  # failed twice
    assert 'id="states-data"' in html
    assert "live_scoring" in html  # running now


def test_a_range_the_overview_does_not_offer_is_a_clear_400(
    client: TestClient, stack: Stack
) -> None:
    answer = signed_in(client, stack).get("/?range=1y")
    assert answer.status_code == 400
    assert "must be one of 24h, 7d, 30d" in answer.text


def test_the_workflow_list_searches_and_filters(client: TestClient, stack: Stack) -> None:
    client = signed_in(client, stack)
    found = client.get("/workflows?q=sales").text
    assert "nightly_sales_etl" in found
    assert "invoice_ingestion" not in found
    failed = client.get("/workflows?last_state=FAILED").text
    assert "invoice_ingestion" in failed  # its latest run failed
    assert "nightly_sales_etl" not in failed


def test_a_filter_ebling_refuses_shows_its_problem(client: TestClient, stack: Stack) -> None:
    answer = signed_in(client, stack).get("/workflows?last_state=SLEEPING")
    assert answer.status_code == 422
    assert "Ebling refused the request" in answer.text
    assert "last_state" in answer.text


def test_a_workflow_shows_its_grid_schedule_owners_and_tags(
    client: TestClient, stack: Stack
) -> None:
    client = signed_in(client, stack)
    workflow_id = next(
        w["id"]
        for w in stack.api("GET", "/workflows", params={"name": "nightly_sales_etl"}).json()[
            "items"
        ]
    )
    html = client.get(f"/workflows/{workflow_id}").text
    assert html.count('<th scope="row" class="task-col">') == 3  # extract, transform, load
    assert "cell state-failed" in html
    assert "daily" in html
    assert "data-team" in html
    assert ">sales<" in html


def test_an_unknown_run_is_a_404_page(client: TestClient, stack: Stack) -> None:
    answer = signed_in(client, stack).get("/runs/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 404
    assert "No run has id" in answer.text


def test_a_run_shows_its_error_in_full_and_its_events(client: TestClient, stack: Stack) -> None:
    html = signed_in(client, stack).get(f"/runs/{stack.seeded.failed_run_id}").text
    assert "ValueError: the warehouse refused 3 rows" in html
    assert "Traceback (most recent call last)" in html
    assert html.count('class="gantt-row"') == 3
    assert html.count('<details class="event">') == 8


def test_a_run_lists_the_report_batch_and_artifact_it_produced(
    client: TestClient, stack: Stack
) -> None:
    html = signed_in(client, stack).get(f"/runs/{stack.seeded.report_run_id}").text
    assert 'href="/reports/sensor_readings"' in html
    assert "load-summary.txt" in html


def test_an_artifact_downloads_through_trillian(client: TestClient, stack: Stack) -> None:
    client = signed_in(client, stack)
    artifact = stack.api("GET", "/artifacts", params={"name": "load-summary.txt"}).json()["items"][
        0
    ]
    answer = client.get(f"/artifacts/{artifact['id']}/content")
    assert answer.status_code == 200
    assert answer.content == b"144 rows loaded\n"
    assert "load-summary.txt" in answer.headers["content-disposition"]


def test_a_report_filters_and_sorts(client: TestClient, stack: Stack) -> None:
    client = signed_in(client, stack)
    html = client.get(
        "/reports/sensor_readings?add_column=sensor&add_op=eq&add_value=s-2&sort=-temperature"
    ).text
    assert "s-1" not in html.split('id="report-rows"')[1]
    assert "sensor = “s-2”" in html
    assert 'aria-sort="descending"' in html


def test_a_report_filter_on_a_missing_column_shows_eblings_reason(
    client: TestClient, stack: Stack
) -> None:
    answer = signed_in(client, stack).get("/reports/sensor_readings?filter=nope:eq:1")
    assert answer.status_code == 422
    assert "nope" in answer.text


def test_a_report_downloads_filtered_as_csv_and_parquet(client: TestClient, stack: Stack) -> None:
    client = signed_in(client, stack)
    answer = client.get("/reports/sensor_readings/download?format=csv&filter=sensor:eq:s-3")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 48
    assert {row["sensor"] for row in rows} == {"s-3"}
    parquet = client.get("/reports/sensor_readings/download?format=parquet")
    assert parquet.content[:4] == b"PAR1"
    assert client.get("/reports/sensor_readings/download?format=xlsx").status_code == 400


def test_the_running_fragment_lists_running_runs(client: TestClient, stack: Stack) -> None:
    client = signed_in(client, stack)
    html = client.get("/fragments/running", headers={"HX-Request": "true"}).text
    assert stack.seeded.running_run_id[:8] in html
    assert 'hx-trigger="every 5s"' in html


def test_a_fragment_asked_for_without_a_session_redirects_the_page(client: TestClient) -> None:
    answer = client.get(
        "/fragments/running",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/workflows"},
    )
    assert answer.status_code == 200
    assert answer.headers["hx-redirect"] == "/login?next=%2Fworkflows"
