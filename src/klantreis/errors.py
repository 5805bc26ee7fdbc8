"""The one exception tree of klantreis.

Every error carries a stable ``code`` (used by the CLI's exit status and by the HTTP API's
error shape) and a message that names what failed, the value, what was allowed and what to do.

    KlantreisError                      code
    ├── UsageError                      usage            (CLI exit 2)
    ├── WorkspaceError                  workspace
    │   ├── WorkspaceNotFound           workspace_not_found
    │   ├── WorkspaceExists             workspace_exists
    │   └── WorkspaceLocked             workspace_locked
    ├── JourneyError                    journey
    │   ├── JourneyNotFound             journey_not_found
    │   ├── JourneyValidationError      journey_invalid  (carries every Problem in the file)
    │   └── TemplateNotFound            template_not_found
    ├── DataError                       data
    │   └── IngestError                 ingest
    ├── EngineError                     engine
    │   └── EngineNotAvailable          engine_not_available
    ├── NotificationError               notification_failed (webhook or SMTP refused)
    ├── AccessError                     access           (web app and HTTP API)
    │   ├── NotAuthenticated            unauthenticated  (HTTP 401)
    │   ├── PermissionDenied            forbidden        (HTTP 403)
    │   ├── InvalidLink                 invalid_link     (HTTP 403; forged or expired link)
    │   └── RateLimited                 rate_limited     (HTTP 429)
    ├── NotFound                        not_found        (HTTP 404)
    └── ConflictError                   conflict         (HTTP 409)
        ├── VersionConflict             version_conflict (a stale save of a journey)
        └── CooldownActive              cooldown         (survey asked again too soon)

Usage errors exit 2; every other error exits 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AccessError",
    "ConflictError",
    "CooldownActive",
    "DataError",
    "EngineError",
    "EngineNotAvailable",
    "IngestError",
    "InvalidLink",
    "JourneyError",
    "JourneyNotFound",
    "JourneyValidationError",
    "KlantreisError",
    "NotAuthenticated",
    "NotFound",
    "NotificationError",
    "PermissionDenied",
    "Problem",
    "RateLimited",
    "TemplateNotFound",
    "UsageError",
    "VersionConflict",
    "WorkspaceError",
    "WorkspaceExists",
    "WorkspaceLocked",
    "WorkspaceNotFound",
]


class KlantreisError(Exception):
    """Base class of every error klantreis raises on purpose."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\nHint: {hint}")

    def to_dict(self) -> dict[str, Any]:
        """The error shape shared by the CLI's JSON output and the HTTP API."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class UsageError(KlantreisError):
    code = "usage"
    exit_code = 2


class WorkspaceError(KlantreisError):
    code = "workspace"


class WorkspaceNotFound(WorkspaceError):
    code = "workspace_not_found"


class WorkspaceExists(WorkspaceError):
    code = "workspace_exists"


class WorkspaceLocked(WorkspaceError):
    code = "workspace_locked"


class JourneyError(KlantreisError):
    code = "journey"


class JourneyNotFound(JourneyError):
    code = "journey_not_found"


class TemplateNotFound(JourneyError):
    code = "template_not_found"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a journey file: where, what, the bad value, what is allowed, a hint."""

    code: str
    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    value: Any = None
    allowed: str | None = None
    hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def location(self) -> str:
        where = self.file or "<journey>"
        if self.line is not None:
            where += f", line {self.line}"
        return where

    def __str__(self) -> str:
        text = f"{self.location()}: {self.path or '(top)'}: {self.message}"
        if self.allowed:
            text += f" Allowed: {self.allowed}."
        if self.hint:
            text += f" Hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "file": self.file,
            "line": self.line,
            "value": _jsonable(self.value),
            "allowed": self.allowed,
            "hint": self.hint,
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)


class JourneyValidationError(JourneyError):
    """A journey file has one or more problems; ``problems`` lists all of them."""

    code = "journey_invalid"

    def __init__(self, problems: Sequence[Problem], *, file: str | None = None) -> None:
        self.problems = list(problems)
        self.file = file
        n = len(self.problems)
        head = f"{file or 'Journey'} has {n} problem{'s' if n != 1 else ''}:"
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head}\n{body}")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["problems"] = [p.to_dict() for p in self.problems]
        return data


class DataError(KlantreisError):
    code = "data"


class IngestError(DataError):
    code = "ingest"


class EngineError(KlantreisError):
    code = "engine"


class EngineNotAvailable(EngineError):
    code = "engine_not_available"


class NotificationError(KlantreisError):
    """A webhook or mail server refused an alert or could not be reached."""

    code = "notification_failed"


class AccessError(KlantreisError):
    code = "access"


class NotAuthenticated(AccessError):
    code = "unauthenticated"


class PermissionDenied(AccessError):
    code = "forbidden"


class InvalidLink(AccessError):
    code = "invalid_link"


class RateLimited(AccessError):
    code = "rate_limited"


class NotFound(KlantreisError):
    code = "not_found"


class ConflictError(KlantreisError):
    code = "conflict"


class VersionConflict(ConflictError):
    code = "version_conflict"


class CooldownActive(ConflictError):
    code = "cooldown"
