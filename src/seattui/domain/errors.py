"""Errors the portal reports and the client raises: one class per reason, shared by both sides.

Each error has a stable `code` (the API's JSON `code`), a message a person can act on, and
details for programs. The client maps a response's code back to the same class.
"""

from __future__ import annotations

from typing import Any, ClassVar


def field_words(name: str) -> str:
    """A field's name as words, for messages: customer_email -> Customer email."""
    words = name.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


class SeattuiError(Exception):
    code: ClassVar[str] = "error"
    _by_code: ClassVar[dict[str, type[SeattuiError]]] = {}

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            SeattuiError._by_code[cls.code] = cls

    @classmethod
    def for_code(cls, code: str) -> type[SeattuiError]:
        return cls._by_code.get(code, SeattuiError)

    @classmethod
    def from_wire(cls, code: str, message: str, details: dict[str, Any] | None) -> SeattuiError:
        error_class = cls.for_code(code)
        error = error_class.__new__(error_class)
        SeattuiError.__init__(error, message, details)
        return error


class ValidationFailed(SeattuiError):
    """Input that breaks a rule; `details["fields"]` maps each field to what is wrong with it."""

    code = "validation_failed"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message, {"fields": fields or {}})

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.details.get("fields", {}))


class ImportRefused(ValidationFailed):
    """A file with bad rows, refused whole; `details["rows"]` gives each bad row's line and reason."""

    code = "import_refused"

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        SeattuiError.__init__(self, message, {"rows": rows})

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self.details.get("rows", []))


class NotFound(SeattuiError):
    code = "not_found"


class UnknownKey(NotFound):
    """Device activation: no such activation key."""

    code = "unknown_key"


class NotLicensed(NotFound):
    """Device activation: the key holds no license of the product."""

    code = "not_licensed"


class Conflict(SeattuiError):
    code = "conflict"


class KeyTaken(Conflict):
    code = "key_taken"


class KeyInUse(Conflict):
    code = "key_in_use"


class TrialExists(Conflict):
    code = "trial_exists"


class LicenseActivated(Conflict):
    """The license is active on a device; `details` name the device."""

    code = "license_activated"


class ActivatedElsewhere(Conflict):
    """The license is active on another device; `details` name it."""

    code = "activated_elsewhere"


class TrialEnded(Conflict):
    code = "trial_ended"


class NotDowngradable(Conflict):
    code = "not_downgradable"


class SeatsExhausted(Conflict):
    code = "seats_exhausted"


class BatchRefused(Conflict):
    """A batch validated whole and refused; `details["moves"]` gives each refused move and why."""

    code = "batch_refused"


class UndoRefused(Conflict):
    """An undo refused whole; `details["moves"]` gives each move that cannot go back and why."""

    code = "undo_refused"


class InvitationClosed(Conflict):
    """An invitation that was used, revoked or has expired: details.token says which."""

    code = "invitation_closed"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class InsufficientCredits(SeattuiError):
    code = "insufficient_credits"


class CreditLimitReached(InsufficientCredits):
    """On monthly invoice terms: the order would take the unpaid total past the credit limit."""

    code = "credit_limit_reached"


class Unauthenticated(SeattuiError):
    code = "unauthenticated"


class SessionExpired(Unauthenticated):
    code = "session_expired"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"


class LoginDisabled(SessionExpired):
    """A customer's own login that their organization disabled: no login, no token acts."""

    code = "login_disabled"

    @classmethod
    def by(cls, org_name: str) -> LoginDisabled:
        return cls(f"{org_name} has disabled your login: ask {org_name} to enable it again.",
                   {"organization": org_name})


class LoginThrottled(SeattuiError):
    """Too many failed logins in a row: wait `details["retry_after"]` seconds."""

    code = "login_throttled"

    @property
    def retry_after(self) -> int:
        return int(self.details.get("retry_after", 0))


class AccountLocked(LoginThrottled):
    code = "account_locked"


class PermissionDenied(SeattuiError):
    code = "forbidden"


class RateLimited(SeattuiError):
    code = "rate_limited"


class PayloadTooLarge(SeattuiError):
    code = "payload_too_large"


class PortalUnavailable(SeattuiError):
    """The portal could not be reached, did not answer in time, or failed inside."""

    code = "portal_unavailable"


class PortalFault(PortalUnavailable):
    code = "portal_error"
