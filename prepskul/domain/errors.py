"""Refusals the domain can give. Each carries a stable `code` clients can branch on and a
sentence a person can act on; `api/` maps them to HTTP answers in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request. `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidInput(DomainError):
    status = 422


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    """The thing existed and can no longer be used (an expired or withdrawn code)."""

    status = 410


class IllegalTransition(Conflict):
    """The session's current status does not allow this event."""
