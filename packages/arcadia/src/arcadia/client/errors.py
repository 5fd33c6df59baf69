"""The errors the Ebling client raises, each building its message from its fields.

``httpx`` errors never escape the client: they are caught where a request is sent and
raised again as one of these, ``from`` the original.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

__all__ = [
    "EblingAuthError",
    "EblingConfigError",
    "EblingError",
    "EblingRequestError",
    "EblingUnavailable",
    "Problem",
]

# A 422 for a batch of 1,000 events can list thousands of errors; a message shows a few.
_ERRORS_IN_MESSAGE = 5


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem document: how Ebling explains a refused request.

    Attributes:
        status: The HTTP status code.
        type: A URI naming the kind of problem, e.g. ``urn:ebling:problem:invalid-events``;
            branch on this rather than on ``detail``.
        title: The status's short phrase.
        detail: What went wrong and what to fix, for people.
        instance: The path of the refused request.
        errors: For validation problems, one mapping per error (for lineage: ``index``,
            ``field`` and ``message``).
    """

    status: int
    type: str = "about:blank"
    title: str = ""
    detail: str = ""
    instance: str | None = None
    errors: tuple[Mapping[str, Any], ...] = field(default=())

    @classmethod
    def from_json(cls, status: int, document: Mapping[str, Any]) -> Problem:
        """The problem described by ``document``, trusting ``status`` over the document's."""
        errors = document.get("errors")
        listed = errors if isinstance(errors, list) else []
        return cls(
            status=status,
            type=str(document.get("type") or "about:blank"),
            title=str(document.get("title") or _phrase(status)),
            detail=str(document.get("detail") or ""),
            instance=document.get("instance"),
            errors=tuple(error for error in listed if isinstance(error, Mapping)),
        )

    @classmethod
    def from_text(cls, status: int, text: str) -> Problem:
        """A problem for an answer that is no problem document (a proxy's HTML page, say)."""
        return cls(status=status, title=_phrase(status), detail=" ".join(text.split())[:500])


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown status"


class EblingError(Exception):
    """The base of every error the Ebling client raises."""


class EblingConfigError(EblingError):
    """The client cannot be built from the environment: a setting is missing or wrong."""

    def __init__(self, variable: str, hint: str) -> None:
        self.variable = variable
        self.hint = hint
        super().__init__(f"{variable} is not usable: {hint}")


class EblingUnavailable(EblingError):
    """Ebling could not be reached, or kept failing (5xx, 429) until the retries ran out.

    Nothing says whether a request that failed this way was processed; calls the client
    retries are the ones for which that does not matter.

    Attributes:
        method: The HTTP method of the request.
        url: The request's URL, without its query.
        attempts: How many times the request was sent.
        reason: The last failure, in words.
        status: The last HTTP status, or ``None`` when there was no answer at all.
        retry_after: Seconds Ebling asked to wait, when it did and that was longer than the
            client's retry policy allows.
    """

    def __init__(
        self,
        method: str,
        url: str,
        *,
        attempts: int,
        reason: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        tries = "attempt" if attempts == 1 else "attempts"
        message = f"Ebling did not accept {method} {url} after {attempts} {tries}: {reason}"
        if retry_after is not None:
            message += f" (it asked to retry after {retry_after:g} s)"
        super().__init__(message)


class _Refusal(EblingError):
    """Ebling answered, and refused the request with a problem document."""

    def __init__(self, method: str, url: str, problem: Problem) -> None:
        self.method = method
        self.url = url
        self.problem = problem
        super().__init__(self._message())

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return self.problem.status

    @property
    def detail(self) -> str:
        """Ebling's explanation of what to fix."""
        return self.problem.detail

    @property
    def errors(self) -> tuple[Mapping[str, Any], ...]:
        """The individual validation errors, if Ebling listed any."""
        return self.problem.errors

    def _message(self) -> str:
        problem = self.problem
        message = f"Ebling refused {self.method} {self.url} with {problem.status} {problem.title}"
        if problem.detail:
            message += f": {problem.detail}"
        shown = [_describe(error) for error in problem.errors[:_ERRORS_IN_MESSAGE]]
        if shown:
            message += " [" + "; ".join(shown)
            hidden = len(problem.errors) - len(shown)
            message += f"; and {hidden} more]" if hidden else "]"
        return message


def _describe(error: Mapping[str, Any]) -> str:
    where = []
    if error.get("index") is not None:
        where.append(f"event {error['index']}")
    for key in ("field", "line", "column"):
        if error.get(key) not in (None, ""):
            where.append(f"{key} {error[key]}")
    text = str(error.get("message", ""))
    return f"{', '.join(where)}: {text}" if where else text


class EblingAuthError(_Refusal):
    """Ebling refused the credentials (401) or their roles do not allow the request (403)."""

    def _message(self) -> str:
        if self.problem.status == 401:
            advice = "Check the API key (EBLING_API_KEY) or the credentials given to the client."
        else:
            advice = "Use a key whose roles allow this request, or ask an admin to grant one."
        return f"{super()._message()} {advice}"


class EblingRequestError(_Refusal):
    """Ebling refused the request as wrong (a 4xx other than 401 and 403).

    Sending the same request again gets the same answer; ``problem`` says what to fix.
    """
