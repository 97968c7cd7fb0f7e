"""How a portal runs: its database, its catalog, its clock and its security knobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from seattui.portal.smtp import smtp_server


def utc_now() -> datetime:
    return datetime.now(UTC)


class PortalSettings(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    database_url: str
    catalog_path: Path | None = None
    token_ttl: timedelta = timedelta(days=30)
    # Failed logins: from the 3rd in a row each next try waits longer; the 10th locks the login.
    login_throttle_after: int = 3
    login_lock_after: int = 10
    login_lock: timedelta = timedelta(minutes=15)
    login_failure_window: timedelta = timedelta(minutes=15)
    # argon2id cost; tests lower it, production keeps the library's defaults.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # Request bodies: 4 MiB, except a batch of seat moves, which is applied whole and so cannot
    # be split: up to MAX_MOVES (100,000) moves, named by email (about 110 bytes each) or by id.
    # Parsed, a body takes about ten times its size in memory; the limit keeps that bounded.
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch_body_bytes: int = 24 * 1024 * 1024
    # Device activation calls per key in each window, and per client address (None: the same
    # number; a fleet behind one NAT address needs more).
    activation_limit: int = Field(default=30, ge=1)
    activation_address_limit: int | None = Field(default=None, ge=1)
    activation_window: timedelta = Field(default=timedelta(minutes=1), gt=timedelta(0))
    # A device's check is counted in the instance's memory and shared with the other instances
    # this often, so it writes nothing on its way. Across instances its limits can be passed by
    # the checks the instances admitted before hearing of the others' (about one interval's
    # worth each); 0 counts each check in the shared counters before answering it, exact
    # across instances (a write per check).
    activation_check_share: timedelta = Field(default=timedelta(milliseconds=250), ge=timedelta(0))
    # Prometheus metrics: recorded at all, and served at /metrics on the API's own port (else
    # `seattui serve --metrics-port` serves them apart). The embedded portal records none.
    metrics: bool = False
    metrics_on_api: bool = True
    # Mail: the outbox is delivered to this SMTP server (smtp://[USER[:PASSWORD]@]HOST[:PORT],
    # smtps:// for TLS from the start) by a background task; without one, mail waits in the
    # outbox. The password may come apart from the URL (SEATTUI_SMTP_PASSWORD).
    smtp_url: str | None = None
    smtp_starttls: bool = False
    smtp_password: SecretStr | None = None
    smtp_timeout: float = 30.0
    mail_from: str | None = None
    mail_poll_seconds: float = 5.0
    # How often the background billing run checks whether a month is due (None: never; tests).
    billing_check_every: timedelta | None = timedelta(hours=1)
    # Build every route as the portal starts, on a thread beside the first requests (app.py);
    # tests that start hundreds of portals leave it to each route's first request.
    build_routes_at_start: bool = True
    clock: Callable[[], datetime] = Field(default=utc_now, exclude=True)

    @model_validator(mode="after")
    def _mail_needs_a_sender(self) -> PortalSettings:
        if self.smtp_url:
            if not self.mail_from:
                raise ValueError("an SMTP server needs a sender address: give --mail-from (SEATTUI_MAIL_FROM)")
            smtp_server(self.smtp_url)  # a URL that names no server stops the portal at start
        if self.mail_from:
            try:
                self.mail_from = validate_email(self.mail_from, check_deliverability=False).normalized
            except EmailNotValidError as error:
                raise ValueError(f"--mail-from {self.mail_from!r} is not an email address: {error}") from None
        return self
