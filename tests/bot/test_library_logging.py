"""slack-sdk formats a debug line for every call (its whole body) unless its logger's own level says not to."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.library_logging import LIBRARY_LOGGERS, settle_library_logging
from bot.messenger import SlackMessenger, interactive_client


@pytest.fixture
def restored_levels():
    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def fan_out_client_logger(messenger: SlackMessenger) -> logging.Logger:
    async def made() -> logging.Logger:
        try:
            return messenger._get_client().logger
        finally:
            await messenger.aclose()

    return asyncio.run(made())


def test_sprouts_slack_clients_format_no_debug_lines_it_would_drop(restored_levels):
    settle_library_logging(logging.WARNING)
    messenger = SlackMessenger(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    interactive = interactive_client(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    for logger in (fan_out_client_logger(messenger), interactive.logger):
        # slack-sdk checks the logger's own level (``logger.level <= DEBUG``), not the effective one.
        assert logger.name in LIBRARY_LOGGERS
        assert logger.level > logging.DEBUG


def test_at_debug_the_slack_libraries_log_their_requests_again(restored_levels):
    settle_library_logging(logging.DEBUG)
    messenger = SlackMessenger(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    assert fan_out_client_logger(messenger).level == logging.DEBUG
