"""Domain errors: each carries the sentence a person should read. One place turns them into replies."""

from __future__ import annotations


class SproutError(Exception):
    """Something the person can fix or should know; the message is written for them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownPack(SproutError):
    pass


class NotYours(SproutError):
    pass


class NothingToSend(SproutError):
    pass


class Gone(SproutError):
    """The record or content a button points at no longer exists."""


class NotAllowed(SproutError):
    """The person's stored role does not allow this. Logged where it is raised."""
