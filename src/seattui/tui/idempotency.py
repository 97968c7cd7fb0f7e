"""The one rule for idempotency keys: one key per reviewed request body, kept across retries.

A screen or dialog that sends changes keeps one `RequestKeys`. Every try of the same body
(the same order, the same licenses and years, the same moves) carries the same key, so a retry
after a lost answer gets the first result and is charged once. Another body gets another key.
Once a change has gone through, `succeeded` forgets its key: sending that body again is a new
change of its own (a second, identical license on a key is a purchase the user may mean).
"""

from __future__ import annotations

import hashlib
import uuid

from pydantic_core import to_json


class RequestKeys:
    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    @staticmethod
    def _body(parts: tuple[object, ...]) -> str:
        # pydantic models, ids and lists alike; hashed so a 10,000-move plan is not kept twice.
        return hashlib.sha256(to_json(parts)).hexdigest()

    def key_for(self, *body: object) -> str:
        """The idempotency key of this request body: the same for every try of it."""
        return self._keys.setdefault(self._body(body), str(uuid.uuid4()))

    def succeeded(self, *body: object) -> None:
        """The change with this body went through: the next one like it is a new change."""
        self._keys.pop(self._body(body), None)
