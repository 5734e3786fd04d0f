"""The one exception family of audiobook.

Library code raises these with a message that says what went wrong and what
to do about it; only ``cli.main`` turns them into a line on stderr and an exit
status. Anything else escaping is a bug.
"""


class AudiobookError(Exception):
    """Root of every error a user can cause or fix."""

    exit_code = 2


class InputError(AudiobookError):
    """The essay (or another input file) cannot be read or is not usable."""


class ConfigError(AudiobookError):
    """A setting, flag or show file has a bad value."""


class EngineError(AudiobookError):
    """A speech engine is missing, unknown, or keeps producing bad audio."""


class EngineCrashed(EngineError):
    """The process speaking a clip died; another try may well succeed.

    Raised by each try and caught by the retry loop, which names the engine
    and the text in the error the user sees."""


class ToolMissingError(AudiobookError):
    """An external program (ffmpeg, ffprobe) is not installed."""


class OutputError(AudiobookError):
    """The show directory cannot be written."""


class DeployError(AudiobookError):
    """The deploy target cannot be reached, read or written (no bucket, no credentials, refused)."""


class CheckFailed(AudiobookError):
    """The show fails ``audiobook check``: ``problems`` holds one line per problem,
    which the CLI prints before the message."""

    exit_code = 1

    def __init__(self, message: str, problems: tuple[str, ...]) -> None:
        super().__init__(message)
        self.problems = problems
