"""One error tree for everything a user may be told, rendered per surface."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ReeldocsError(Exception):
    """An expected failure with a sentence a person can act on."""

    status = 400
    kind = "BadRequest"

    def __init__(self, detail: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.kind, "detail": self.detail, **self.extra}


class NotAuthenticated(ReeldocsError):
    status = 401
    kind = "NotAuthenticated"


class Forbidden(ReeldocsError):
    status = 403
    kind = "Forbidden"


class NotFound(ReeldocsError):
    status = 404
    kind = "NotFound"


class Conflict(ReeldocsError):
    status = 409
    kind = "Conflict"


class PreconditionFailed(ReeldocsError):
    """The caller's copy is out of date (an `If-Match` that no longer matches)."""

    status = 412
    kind = "PreconditionFailed"


class TooLarge(ReeldocsError):
    status = 413
    kind = "PayloadTooLarge"


class Invalid(ReeldocsError):
    status = 422
    kind = "ValidationError"


class UnsupportedMedia(ReeldocsError):
    status = 415
    kind = "UnsupportedMedia"


class TooManyRequests(ReeldocsError):
    status = 429
    kind = "TooManyRequests"


class StorageUnavailable(ReeldocsError):
    """The object storage could not be reached or refused the request.

    `transient` failures (no connection, a timeout, the server busy or failing) are worth
    trying again; the others (a missing bucket, refused credentials) need an administrator.
    `reason` is a few words on what happened, for logs and job errors.
    """

    status = 503
    kind = "StorageUnavailable"

    def __init__(self, detail: str, *, reason: str, transient: bool) -> None:
        super().__init__(detail)
        self.reason = reason
        self.transient = transient


class ErrorOut(BaseModel):
    """The body of every error the JSON API answers with."""

    # Some errors say more, in fields of their own (the active `job_id` of a 409).
    model_config = ConfigDict(extra="allow")

    error: str = Field(
        description="The kind of error, for programs: NotAuthenticated, Forbidden, NotFound, "
        "Conflict, PreconditionFailed, PayloadTooLarge, UnsupportedMedia, ValidationError, "
        "TooManyRequests, StorageUnavailable, …",
        examples=["NotFound"],
    )
    detail: str = Field(
        description="A sentence saying what went wrong and what to do about it, for people.",
        examples=["This video does not exist, or it belongs to another team."],
    )
