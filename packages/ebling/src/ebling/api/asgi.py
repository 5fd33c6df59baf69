"""Small ASGI pieces the middlewares share."""

from __future__ import annotations

from starlette.types import Message, Send

__all__ = ["ResponseStatus"]


class ResponseStatus:
    """Wraps an ASGI ``send`` to note the status of the response it starts.

    The status is 500 until a response starts, which is what the client gets when the
    application fails before answering.
    """

    def __init__(self, send: Send) -> None:
        self.status = 500
        self._send = send

    async def send(self, message: Message) -> None:
        """Pass ``message`` on, noting the status if it starts the response."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)
