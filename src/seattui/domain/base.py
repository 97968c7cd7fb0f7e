"""The building blocks of every domain model: the base class and the credits field type."""

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

from seattui.domain.money import exact_hundredths


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
