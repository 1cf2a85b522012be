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


class Invalid(ValueError):
    """Input a rule refuses (a weekday, a time, a pause's length): ``code`` and ``params`` say what was wrong,
    so the edge can write it in the reader's language (bot.i18n); ``str()`` is the English sentence."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params
