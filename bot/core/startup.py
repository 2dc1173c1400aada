"""Start-up failures an operator must act on: one line and an exit status instead of a traceback."""

from __future__ import annotations

# A service manager (systemd, Docker) restarts on any failure; the status tells a person whether
# waiting helps (a service was unreachable) or the configuration must change.
EXIT_UNAVAILABLE = 1
EXIT_CONFIG = 2


class StartupError(Exception):
    """The bot cannot start; the message says what failed and what to check, in one line.

    Args:
        message: One line, without secrets (it is printed, not logged).
        status: :data:`EXIT_CONFIG` for a setting to fix, :data:`EXIT_UNAVAILABLE` for a service
            that could not be reached.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
