"""The API's shapes for license files: the public signing keys, offline activation and the
online check of a file. The files themselves are written and verified by domain.license_file."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from seattui.domain.base import DomainModel
from seattui.domain.errors import Conflict, ValidationFailed

MAX_FILE_TEXT = 20_000  # a license file is about 2 KB; a pasted mail around it fits too


class SigningKeyInfo(DomainModel):
    """The public half of a portal signing key; `retired_at`: since when it signs no more."""

    model_config = ConfigDict(frozen=True)

    kid: str
    algorithm: str
    public_key: str  # raw Ed25519 public key, base64
    created_at: datetime
    retired_at: datetime | None = None


class SigningKeys(DomainModel):
    """Every key the portal has signed with, current first, and the same as the text file
    the licensed software (or `seattui license verify --public-key`) reads."""

    current: str
    keys: list[SigningKeyInfo]
    text: str


class DeviceFileText(DomainModel):
    """An activation (or deactivation) request file, as the licensed software wrote it."""

    request: str = Field(min_length=1, max_length=MAX_FILE_TEXT)


class OfflineAnswer(DomainModel):
    """The portal's answer to a request file: a machine file, or a release receipt."""

    license_id: int
    key: str
    product_id: str
    fingerprint: str
    hostname: str
    file: str
    filename: str


class LicenseFileText(DomainModel):
    file: str = Field(min_length=1, max_length=MAX_FILE_TEXT)


class FileVerdict(StrEnum):
    CURRENT = "current"  # the license is as the file says
    STALE = "stale"  # the license changed since (upgrade, support, edits): fetch a new file
    RELEASED = "released"  # a machine file whose machine no longer holds the activation
    DELETED = "deleted"  # the license is gone; the file still verifies until it expires
    EXPIRED = "expired"
    INVALID = "invalid"  # not a file this portal signed, or altered since


class FileCheck(DomainModel):
    """The online check of a license file: is it still what the portal would issue? With the
    file it would issue (for a current, stale or expired file of a live license)."""

    verdict: FileVerdict
    code: str = ""
    message: str
    changes: list[str] = []
    valid_until: datetime | None = None
    file: str | None = None  # the file the portal issues now in its place, when the license is live


class NotActivatedHere(Conflict):
    """A machine file was asked for a machine that does not hold the license's activation."""

    code = "not_activated_here"


class RequestFileInvalid(ValidationFailed):
    """An activation request file that cannot be read; the message says what it lacks."""

    code = "request_file_invalid"
