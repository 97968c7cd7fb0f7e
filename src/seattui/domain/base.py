"""The building blocks of every domain model: the base class, and the field types of
credits, record ids, counts and stored text."""

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from seattui.domain.money import exact_hundredths
from seattui.domain.text import refuse_control_characters


class DomainModel(BaseModel):
    # Validators are built on first use, not at import: `seattui credits` and the app's
    # first frame only pay for the models they touch.
    model_config = ConfigDict(defer_build=True)


# An amount of credits: exact to the hundredth, serialized as a JSON string so no client
# ever parses it into a float.
Credits = Annotated[
    Decimal,
    AfterValidator(exact_hundredths),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
]

# The id of a stored row, as a request names it: a JSON integer (never true, 1.0 or "1") that
# fits the store's 64-bit ids, so a huge number is refused, not overflowed.
MAX_RECORD_ID = 2**63 - 1
RecordId = Annotated[int, Field(strict=True, ge=1, le=MAX_RECORD_ID)]

# How many of something a request asks for (quantities, channels, days, years): a JSON
# integer, never true or 1.0; each field states its own range.
Count = Annotated[int, Field(strict=True)]

# Text the portal stores or looks up: no control characters (domain.text).
PlainText = Annotated[str, AfterValidator(refuse_control_characters)]
