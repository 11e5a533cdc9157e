"""The few exception classes flowbot raises, and the exit code each maps to.

The CLI (``runner.cli.main``) is the one place that turns them into a message
and an exit code; library code only raises.
"""
from __future__ import annotations


class FlowbotError(Exception):
    """Base class. Unexpected failures that are not the user's fault: exit 1."""

    exit_code = 1


class UserInputError(FlowbotError):
    """Bad input from the user (config, data, arguments): exit 2, no traceback."""

    exit_code = 2


class ConfigError(UserInputError):
    """A configuration file or override is invalid."""


class DataError(UserInputError):
    """A data file is missing, unreadable or fails validation."""


class SafetyError(UserInputError):
    """A request the bot refuses on principle (live port, live account)."""


class GatewayError(FlowbotError):
    """The IB gateway could not be reached, refused us, or went away for good: exit 3."""

    exit_code = 3
