"""The one idempotency rule of the terminal app: one key per request body, the same for every
try of it; another body, another key; after it went through, the same body again is new."""

from __future__ import annotations

from seattui.domain.licensing import LicenseOrder, Term
from seattui.tui.idempotency import RequestKeys


def order(quantity: int) -> LicenseOrder:
    return LicenseOrder(key="ABCD-EFGH-JKLM-NPQR", product_id="remotedesk", edition_id="standard",
                        term=Term.PERMANENT, quantity=quantity)


def test_a_retry_of_the_same_body_has_the_same_key_and_another_body_a_new_one() -> None:
    keys = RequestKeys()
    first = keys.key_for(order(2))
    assert keys.key_for(order(2)) == first  # an equal body built again: a retry
    changed = keys.key_for(order(3))
    assert changed != first
    assert keys.key_for(order(2)) == first  # back to the first body: still its key
    assert keys.key_for("delete", [1, 2]) == keys.key_for("delete", [1, 2]) != keys.key_for("delete", [1, 3])


def test_a_body_that_went_through_gets_a_new_key_next_time() -> None:
    keys = RequestKeys()
    first = keys.key_for(order(2))
    keys.succeeded(order(2))
    assert keys.key_for(order(2)) != first


def test_each_screen_or_dialog_has_keys_of_its_own() -> None:
    assert RequestKeys().key_for(order(2)) != RequestKeys().key_for(order(2))
