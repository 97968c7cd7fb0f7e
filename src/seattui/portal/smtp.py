"""The SMTP server the portal delivers mail to, from an --smtp URL (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class SmtpUrlError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @property
    def shown(self) -> str:
        """For messages and logs: never the password."""
        user = f"{self.username}@" if self.username else ""
        scheme = "smtps" if self.security == "tls" else "smtp"
        return f"{scheme}://{user}{self.host}:{self.port}" + (" (STARTTLS)" if self.security == "starttls" else "")


def smtp_server(url: str, *, starttls: bool = False, password: str | None = None, timeout: float = 30.0) -> SmtpServer:
    """The server an --smtp URL names: smtp://[USER[:PASSWORD]@]HOST[:PORT] or smtps://..."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SmtpUrlError(f"{url!r} is not an SMTP server: write smtp://HOST:PORT (or smtps://HOST:PORT for TLS), "
                           "with USER:PASSWORD@ before the host to log in.")
    if parts.path not in ("", "/") or parts.query:
        raise SmtpUrlError(f"An SMTP URL is only smtp://[USER[:PASSWORD]@]HOST[:PORT]; {url!r} has more.")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise SmtpUrlError(f"The port of {url!r} is not a number from 1 to 65535.") from None
    security = "tls" if parts.scheme == "smtps" else ("starttls" if starttls else "none")
    username = unquote(parts.username) if parts.username else None
    secret = unquote(parts.password) if parts.password is not None else password
    if secret and not username:
        raise SmtpUrlError("An SMTP password needs a user name: write smtp://USER@HOST:PORT.")
    return SmtpServer(parts.hostname, port, security, username, secret, timeout)
