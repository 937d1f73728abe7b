"""Exceptions that map to the CLI's documented exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PLAY_FAILED = 1
    BAD_INPUT = 2
    PREFLIGHT_REFUSED = 3
    INTERRUPTED = 130


class MochaAnsibleError(Exception):
    """An error the CLI reports a line per problem (most have one), with an optional fix."""

    exit_code = ExitCode.PLAY_FAILED

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message} (fix: {self.fix})"


class ConfigError(MochaAnsibleError):
    """Bad input: a flag, a config key, or an extra var."""

    exit_code = ExitCode.BAD_INPUT


class PreflightRefused(MochaAnsibleError):
    exit_code = ExitCode.PREFLIGHT_REFUSED
