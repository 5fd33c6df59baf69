r"""A Maildir folder as a ``Mailbox``: mail on the local disk, as Dovecot and Postfix keep it.

The folder layout is Maildir++ (the standard library's ``mailbox.Maildir``): ``INBOX`` is the
directory itself, another folder ``Name`` is its subdirectory ``.Name``. Flags are Maildir's
info letters (``S`` is ``\Seen``, ``F`` is ``\Flagged``...); keywords such as
``$ArcadiaProcessed`` take a letter from ``a`` to ``z`` recorded in the folder's
``dovecot-keywords`` file, as Dovecot does, so a Dovecot serving the same folder shows them.
"""

from __future__ import annotations

import logging
import mailbox
import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from arcadia.email._errors import MailboxError, MailboxUnavailable
from arcadia.email._mailbox import MessageSummary, SearchQuery
from arcadia.email._message import Message
from arcadia.email._parsing import parse_message, summary_from_headers

__all__ = ["MaildirMailbox"]

logger = logging.getLogger(__name__)

INBOX = "INBOX"
_FLAG_LETTERS = {
    "\\seen": "S",
    "\\flagged": "F",
    "\\answered": "R",
    "\\deleted": "T",
    "\\draft": "D",
}
_LETTER_FLAGS = {letter: flag.title() for flag, letter in _FLAG_LETTERS.items()}
_KEYWORDS_FILE = "dovecot-keywords"
_KEYWORD_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_KEY_TIME = re.compile(r"(\d+)\.(?:M(\d+))?")


class MaildirMailbox:
    """A Maildir directory: the embedded default for e-mail, and a test stand-in for IMAP.

    Args:
        path: The Maildir (the directory holding ``cur``, ``new`` and ``tmp``).
        create: Create the Maildir when it is missing, rather than fail.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False) -> None:
        self.path = Path(path).expanduser().absolute()
        self.create = create
        self._root: mailbox.Maildir | None = None
        self._depth = 0

    def __repr__(self) -> str:
        return f"MaildirMailbox({str(self.path)!r})"

    @property
    def identity(self) -> str:
        """``maildir:/absolute/path``: what processed messages are remembered under."""
        return f"maildir:{self.path}"

    def __enter__(self) -> Self:
        if self._depth == 0:
            self._root = self._open()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._root = None

    def _open(self) -> mailbox.Maildir:
        missing = [sub for sub in ("cur", "new", "tmp") if not (self.path / sub).is_dir()]
        if missing and not self.create:
            raise MailboxUnavailable(
                str(self.path),
                f"it is no Maildir (it lacks {', '.join(missing)}/)",
                hint="check the path, or pass create=True to make an empty one",
            )
        try:
            return mailbox.Maildir(self.path, factory=None, create=self.create)
        except OSError as error:
            raise MailboxUnavailable(str(self.path), str(error)) from error

    def list_folders(self) -> list[str]:
        """``INBOX`` and the names of the other folders."""
        return [INBOX, *sorted(self._maildir().list_folders())]

    def search(self, folder: str, query: SearchQuery) -> list[str]:
        """The keys in ``folder`` that pass ``query``'s flag conditions, oldest first.

        Headers are not searched here: reading them is what ``fetch_summaries`` does, and
        the filter checks them exactly there.
        """
        directory = self._folder_path(folder)
        keywords = _read_keywords(directory)
        found: list[tuple[float, tuple[int, int], str]] = []
        for key, path in _index(directory, self._maildir().colon).items():
            flags = _flags(path, keywords, self._maildir().colon)
            if query.unseen and "\\Seen" in flags:
                continue
            if query.without_flag and _has_flag(flags, query.without_flag):
                continue
            try:
                received = path.stat().st_mtime
            except FileNotFoundError:
                continue
            found.append((received, _key_time(key), key))
        # Oldest first: by the time of delivery (the file's mtime), then by the time in the
        # key, for messages delivered within the same instant.
        return [key for *_, key in sorted(found)]

    def fetch_summaries(self, folder: str, uids: Sequence[str]) -> list[MessageSummary]:
        """The headers and flags of these messages; their bodies are not read."""
        directory = self._folder_path(folder)
        colon = self._maildir().colon
        index = _index(directory, colon)
        keywords = _read_keywords(directory)
        summaries = []
        for key in uids:
            path = index.get(key)
            if path is None:
                continue
            try:
                header = _read_header(path)
                received = _mtime(path)
            except FileNotFoundError:  # moved or deleted since the index was read
                continue
            summaries.append(
                summary_from_headers(
                    header,
                    uid=key,
                    folder=folder,
                    flags=_flags(path, keywords, colon),
                    received=received,
                )
            )
        return summaries

    def fetch_messages(self, folder: str, uids: Sequence[str]) -> Iterator[Message]:
        """These messages whole, one at a time."""
        directory = self._folder_path(folder)
        index = _index(directory, self._maildir().colon)
        for key in uids:
            path = index.get(key)
            if path is None:
                continue
            try:
                raw = path.read_bytes()
                received = _mtime(path)
            except FileNotFoundError:
                continue
            yield parse_message(raw, folder=folder, uid=key, received=received)

    def add_flag(self, folder: str, uids: Sequence[str], flag: str) -> None:
        r"""Add a flag (``\Seen``) or keyword to these messages, moving them to ``cur/``."""
        directory = self._folder_path(folder)
        colon = self._maildir().colon
        letter = _FLAG_LETTERS.get(flag.lower()) or _keyword_letter(directory, flag)
        index = _index(directory, colon)
        for key in uids:
            path = index.get(key)
            if path is None:
                continue
            letters = set(_info_letters(path, colon)) | {letter}
            # Maildir keeps flags in the file name; a rename is how every Maildir program
            # changes them, and it is atomic.
            target = directory / "cur" / f"{key}{colon}2,{''.join(sorted(letters))}"
            self._rename(path, target)

    def move(self, folder: str, uids: Sequence[str], destination: str) -> None:
        """Move these messages to the folder ``destination``, creating it if it is missing."""
        source = self._folder_path(folder)
        if destination == INBOX:
            target = self.path
        else:
            self._maildir().add_folder(destination)  # a no-op for an existing folder
            target = self._folder_path(destination)
        colon = self._maildir().colon
        index = _index(source, colon)
        source_keywords = _read_keywords(source)
        for key in uids:
            path = index.get(key)
            if path is None:
                continue
            # Keyword letters are indexed by each folder's own file: translate them.
            letters = "".join(
                _keyword_letter(target, source_keywords[letter])
                if letter in source_keywords
                else letter
                for letter in _info_letters(path, colon)
            )
            if letters:
                self._rename(path, target / "cur" / f"{key}{colon}2,{''.join(sorted(letters))}")
            else:
                self._rename(path, target / path.parent.name / path.name)

    def _rename(self, source: Path, target: Path) -> None:
        try:
            source.rename(target)
        except FileNotFoundError:
            logger.debug("%s was moved or deleted by someone else; leaving it", source)
        except OSError as error:
            raise MailboxError(str(self.path), f"cannot rename {source.name}: {error}") from error

    def _maildir(self) -> mailbox.Maildir:
        if self._root is None:
            raise RuntimeError("use the mailbox inside `with mailbox:`")
        return self._root

    def _folder_path(self, folder: str) -> Path:
        if folder == INBOX:
            return self.path
        try:
            self._maildir().get_folder(folder)
        except mailbox.NoSuchMailboxError as error:
            raise MailboxError(
                str(self.path),
                f"there is no folder {folder!r}",
                hint=f"its folders are: {', '.join(self.list_folders())}",
            ) from error
        # The standard library's Maildir++ layout: folder "Name" is the directory ".Name".
        return self.path / f".{folder}"


def _index(directory: Path, colon: str) -> dict[str, Path]:
    # key -> file, as mailbox.Maildir reads them: the name up to the info separator.
    files: dict[str, Path] = {}
    for sub in ("new", "cur"):
        try:
            entries = list(os.scandir(directory / sub))
        except FileNotFoundError:
            continue
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_file():
                files[entry.name.split(colon)[0]] = Path(entry.path)
    return files


def _key_time(key: str) -> tuple[int, int]:
    # Keys that programs write begin "<seconds>.M<microseconds>P<pid>...", or "<seconds>.".
    match = _KEY_TIME.match(key)
    if match is None:
        return (0, 0)
    return (int(match.group(1)), int(match.group(2) or 0))


def _info_letters(path: Path, colon: str) -> str:
    _, separator, info = path.name.partition(colon)
    return info[2:] if separator and info.startswith("2,") else ""


def _flags(path: Path, keywords: dict[str, str], colon: str) -> frozenset[str]:
    flags = set()
    for letter in _info_letters(path, colon):
        if letter in _LETTER_FLAGS:
            flags.add(_LETTER_FLAGS[letter])
        elif letter in keywords:
            flags.add(keywords[letter])
    return frozenset(flags)


def _has_flag(flags: frozenset[str], flag: str) -> bool:
    return flag.lower() in {present.lower() for present in flags}


def _read_header(path: Path) -> bytes:
    lines = []
    with path.open("rb") as file:
        for line in file:
            if line in (b"\n", b"\r\n"):
                break
            lines.append(line)
    return b"".join(lines)


def _mtime(path: Path) -> datetime:
    # Maildir programs (Dovecot among them) keep the time of delivery as the file's mtime.
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def _read_keywords(directory: Path) -> dict[str, str]:
    """Letter -> keyword, from Dovecot's ``dovecot-keywords`` file (``0 $Keyword`` lines)."""
    try:
        text = (directory / _KEYWORDS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    keywords = {}
    for line in text.splitlines():
        number, _, name = line.partition(" ")
        if number.isdigit() and int(number) < len(_KEYWORD_LETTERS) and name:
            keywords[_KEYWORD_LETTERS[int(number)]] = name
    return keywords


def _keyword_letter(directory: Path, keyword: str) -> str:
    keywords = _read_keywords(directory)
    for letter, name in keywords.items():
        if name.lower() == keyword.lower():
            return letter
    free = [letter for letter in _KEYWORD_LETTERS if letter not in keywords]
    if not free:
        raise MailboxError(
            str(directory),
            f"the folder has no letter left for the keyword {keyword!r} (Maildir allows 26)",
            hint="use mark_processed='move' or the flag \\Seen instead",
        )
    letter = free[0]
    with (directory / _KEYWORDS_FILE).open("a", encoding="utf-8") as file:
        file.write(f"{_KEYWORD_LETTERS.index(letter)} {keyword}\n")
    return letter
