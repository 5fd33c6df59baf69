"""Fill a Maildir with a few days of a monitoring system's report mail, for the example DAG.

Each day's message carries the CSV reports the DAG saves (``cpu_<date>.csv``,
``disk_<date>.csv``, semicolon-separated as many monitoring tools write them) and a logo
that it keeps as an artifact; one message from another sender shows what the filter ignores.

    python examples/airflow/sample_mail.py MAILDIR [--days 3]

Messages are named after their Message-ID, so running it again adds nothing new.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HOSTS = ("web-1", "web-2", "db-1", "batch-1")
# The smallest valid PNG: a 1x1 transparent pixel.
LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)


def cpu_csv(day: date, rng: random.Random) -> bytes:
    """Every host's CPU every two hours of ``day``."""
    lines = ["timestamp;host;cpu_percent;load_1m"]
    for hour in range(0, 24, 2):
        stamp = datetime.combine(day, time(hour), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for host in HOSTS:
            cpu = min(100.0, max(0.0, rng.gauss(35 if host.startswith("web") else 60, 15)))
            lines.append(f"{stamp};{host};{cpu:.1f};{cpu / 25:.2f}")
    return ("\n".join(lines) + "\n").encode()


def disk_csv(day: date, rng: random.Random) -> bytes:
    """Each host's disk use on ``day``."""
    lines = ["date;host;mount;used_gb;free_gb"]
    for host in HOSTS:
        for mount in ("/", "/var"):
            used = rng.randint(20, 400)
            lines.append(f"{day.isoformat()};{host};{mount};{used};{500 - used}")
    return ("\n".join(lines) + "\n").encode()


def report_mail(day: date, rng: random.Random) -> EmailMessage:
    """The monitoring system's mail of ``day``, with its two CSV reports and a logo."""
    message = EmailMessage()
    message["From"] = "Monitoring <alerts@monitoring.example.org>"
    message["To"] = "etl@example.org"
    message["Subject"] = f"Daily monitoring report {day.isoformat()}"
    message["Date"] = format_datetime(datetime.combine(day, time(6, 0), tzinfo=UTC))
    message["Message-ID"] = f"<report-{day.isoformat()}@monitoring.example.org>"
    message.set_content(f"Good morning,\n\nthe reports for {day.isoformat()} are attached.\n")
    stamp = day.isoformat()
    reports = {f"cpu_{stamp}.csv": cpu_csv(day, rng), f"disk_{stamp}.csv": disk_csv(day, rng)}
    for name, data in reports.items():
        message.add_attachment(data, maintype="text", subtype="csv", filename=name)
    message.add_attachment(LOGO, maintype="image", subtype="png", filename="logo.png")
    return message


def unrelated_mail(day: date) -> EmailMessage:
    """A message the example's filter must leave alone."""
    message = EmailMessage()
    message["From"] = "newsletter@elsewhere.example"
    message["To"] = "etl@example.org"
    message["Subject"] = "Our offers this week"
    message["Date"] = format_datetime(datetime.combine(day, time(9, 0), tzinfo=UTC))
    message["Message-ID"] = f"<offers-{day.isoformat()}@elsewhere.example>"
    message.set_content("Nothing the monitoring DAG wants.")
    return message


def deliver(maildir: Path, message: EmailMessage) -> bool:
    """Put ``message`` in ``maildir/new`` unless it is there already; whether it was new."""
    data = bytes(message)
    # Named by Message-ID, not content: MIME boundaries differ each time a message is made.
    name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:32]
    # A reader may have moved it to cur/ and added flags to its name (name:2,S).
    if any(any((maildir / folder).glob(f"{name}*")) for folder in ("new", "cur")):
        return False
    (maildir / "tmp" / name).write_bytes(data)
    (maildir / "tmp" / name).rename(maildir / "new" / name)  # Maildir's atomic delivery
    return True


def main() -> None:
    """Deliver the sample mail into the Maildir given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("maildir", type=Path)
    parser.add_argument("--days", type=int, default=3, help="how many days up to yesterday")
    args = parser.parse_args()

    for folder in ("new", "cur", "tmp"):
        (args.maildir / folder).mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date()
    delivered = 0
    for offset in range(args.days, 0, -1):
        day = today - timedelta(days=offset)
        rng = random.Random(day.toordinal())  # noqa: S311 - sample data, not secrets
        delivered += deliver(args.maildir, report_mail(day, rng))
    delivered += deliver(args.maildir, unrelated_mail(today - timedelta(days=1)))
    print(f"{delivered} new message(s) in {args.maildir}")


if __name__ == "__main__":
    main()
