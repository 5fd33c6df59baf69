"""The processed-message store: where it lives, and what it remembers."""

from __future__ import annotations

from pathlib import Path

import pytest
from arcadia.email import MailboxError, ProcessedStore, default_state_path


def test_the_default_path_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCADIA_STATE_DIR", str(tmp_path / "state"))
    assert default_state_path() == tmp_path / "state" / "state.db"
    assert ProcessedStore().path == tmp_path / "state" / "state.db"

    monkeypatch.delenv("ARCADIA_STATE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_path() == tmp_path / "home" / ".arcadia" / "state.db"


def test_creating_a_store_touches_no_disk(tmp_path: Path) -> None:
    ProcessedStore(tmp_path / "deep" / "state.db")

    assert not (tmp_path / "deep").exists()


def test_it_remembers_per_scope_and_forgets_on_request(tmp_path: Path) -> None:
    store = ProcessedStore(tmp_path / "state.db")

    store.record("imap://a@h:993", ["<1@x>", "<2@x>", "<1@x>"])
    store.record("imap://a@h:993", ["<2@x>"])  # again is harmless
    store.record("other", ["<3@x>"])

    assert store.processed("imap://a@h:993", ["<1@x>", "<2@x>", "<3@x>"]) == {"<1@x>", "<2@x>"}
    assert ProcessedStore(tmp_path / "state.db").processed("other", ["<3@x>"]) == {"<3@x>"}
    assert store.forget("imap://a@h:993", ["<1@x>"]) == 1
    assert store.processed("imap://a@h:993", ["<1@x>", "<2@x>"]) == {"<2@x>"}
    assert store.forget("imap://a@h:993") == 1
    assert store.processed("imap://a@h:993", ["<2@x>"]) == set()


def test_many_ids_are_checked_at_once(tmp_path: Path) -> None:
    store = ProcessedStore(tmp_path / "state.db")
    ids = [f"<{number}@x>" for number in range(2_000)]

    store.record("s", ids[::2])

    assert store.processed("s", ids) == set(ids[::2])


def test_an_unwritable_place_says_where_to_point_instead(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = ProcessedStore(blocker / "state.db")

    with pytest.raises(MailboxError, match="ARCADIA_STATE_DIR") as caught:
        store.record("s", ["<1@x>"])

    assert str(blocker / "state.db") in str(caught.value)
