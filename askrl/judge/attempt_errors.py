"""Why one judge attempt failed: ``JudgeError`` subclasses used only inside ``askrl/judge``.

Who uses it: ``JudgeClient`` raises these between its attempt and its retry loop, and turns the last one into a
failed ``JudgeResult`` (``FailureKind`` = the error's ``kind``). They never reach the training loop.
They subclass ``askrl.errors.JudgeError`` (the boundary error type) and keep the cause with ``raise ... from``.
"""

from __future__ import annotations

from askrl.errors import JudgeError
from askrl.judge.types import FailureKind


class JudgeAttemptError(JudgeError):
    """Base of one failed attempt; ``kind`` is the failure label it becomes when the budget is spent."""

    kind: FailureKind = FailureKind.HTTP_ERROR


class JudgeTransportError(JudgeAttemptError):
    """A non-2xx answer, or a connection that could not be made. ``status_code`` is ``None`` for the latter."""

    kind = FailureKind.HTTP_ERROR

    def __init__(self, message: str, *, status_code: int | None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_s = retry_after_s


class JudgeTimeoutError(JudgeAttemptError):
    """The attempt took longer than ``request_timeout_s`` (or the call's remaining deadline)."""

    kind = FailureKind.TIMEOUT


class JudgeParseError(JudgeAttemptError):
    """The reply holds no JSON object. ``raw`` is the reply text, truncated."""

    kind = FailureKind.INVALID_JSON

    def __init__(self, message: str, *, raw: str) -> None:
        super().__init__(message)
        self.raw = raw
        self.prompt_tokens = 0  # usage of the attempt that produced the reply, set by the client
        self.completion_tokens = 0


class JudgeSchemaError(JudgeParseError):
    """The reply is JSON but not the verdict schema (a string boolean, a wrong list length, an unknown enum)."""

    kind = FailureKind.SCHEMA_MISMATCH
