"""Bearer secrets: how session tokens, API tokens and invitation tokens are made and stored.
Only a secret's SHA-256 is kept; each kind has its own prefix, so a token says what it is."""

from __future__ import annotations

import hashlib
import secrets

SESSION_PREFIX = "stui_"
# "stuiat_" and "stuiinv_" never begin a session token ("stui_" and then base64).
AUTOMATION_PREFIX = "stuiat_"
INVITATION_PREFIX = "stuiinv_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)
