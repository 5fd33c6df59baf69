"""A live Ebling and an Airflow home for running the example DAG as Airflow would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]
EBLING = REPO / ".venv" / "bin" / "ebling"
AIRFLOW = (
    Path(os.environ.get("VIRTUAL_ENV", REPO / "packages/arcadia-airflow/.venv")) / "bin" / "airflow"
)
DAG_ID = "monitoring_system_report_automation"
NAMESPACE = "airflow://etl-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Ebling:
    """An ``ebling serve`` in a subprocess, in its own home (SQLite unless a URL is given)."""

    home: Path
    port: int
    database_url: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_key(self) -> str:
        return (self.home / "admin-api-key").read_text().strip()

    def start(self) -> None:
        env = {**os.environ, "EBLING_HOME": str(self.home)}
        if self.database_url:
            env["EBLING_DATABASE_URL"] = self.database_url
        log = (self.home / "server.log").open("ab") if self.home.exists() else None
        self.home.mkdir(parents=True, exist_ok=True)
        log = log or (self.home / "server.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [str(EBLING), "serve", "--port", str(self.port)], env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("Ebling did not start; see server.log")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def get(self, path: str, **params: object) -> object:
        response = httpx.get(
            f"{self.url}{path}",
            params=params,  # type: ignore[arg-type]
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def report_message(day: int, *, sender: str = "alerts@monitoring.example.org") -> bytes:
    """One day's report mail, with a CSV attachment and a logo."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "etl@example.org"
    message["Subject"] = f"Daily monitoring report 2026-12-{day:02d}"
    message["Message-ID"] = f"<report-{day}-{sender}>"
    message.set_content("Attached: the CPU report.")
    csv = f"host;cpu_percent\nweb-1;{day}.5\ndb-1;{day + 40}\n".encode()
    message.add_attachment(
        csv, maintype="text", subtype="csv", filename=f"cpu_2026-12-{day:02d}.csv"
    )
    message.add_attachment(
        b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", filename="logo.png"
    )
    return bytes(message)


def monitoring_mail(
    maildir: Path, day: int, *, sender: str = "alerts@monitoring.example.org"
) -> None:
    """Deliver one day's report mail into the Maildir folder ``maildir``."""
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    message = report_message(day, sender=sender)
    (maildir / "new" / f"{time.time_ns()}.{day}.test").write_bytes(message)


def airflow_env(home: Path, ebling: Ebling, maildir: Path | None) -> dict[str, str]:
    """The environment of an Airflow whose ``ebling_default`` connection names ``ebling``."""
    connection = {
        "conn_type": "ebling",
        "host": ebling.url,
        "password": ebling.api_key,
        "extra": {"outbox_path": str(home / "outbox.db")},
    }
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EBLING_", "ARCADIA_"))},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "examples" / "airflow" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES": "airflow.* arcadia.*",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        "AIRFLOW_CONN_EBLING_DEFAULT": json.dumps(connection),
        "ARCADIA_STATE_DIR": str(home / "arcadia-state"),
        **({"MONITORING_MAILDIR": str(maildir)} if maildir else {}),
    }


def run_airflow(
    env: dict[str, str], *args: str, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run the ``airflow`` command; fails the test with its output if it fails."""
    result = subprocess.run(  # noqa: S603 - our own command
        [str(AIRFLOW), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(
            f"airflow {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result
